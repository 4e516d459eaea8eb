"""What plan, apply and verify share: the intent they work from, nornir, driver connections,
and how a device's failure is named."""
from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path

from nornir.core import Nornir
from nornir.core.inventory import Host
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.processor import Processors
from nornir.plugins.runners import ThreadedRunner

from ..model.types import Network
from ..render.build import render_device
from ..render.outdir import fingerprint
from ..render.platform import load_platform
from .inventory import Target, build_inventory
from .secrets import Secrets


class DeployError(Exception):
    """A problem with the whole operation (not one device): the message says what to do."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Workspace:
    """The resolved intent a deploy operation works from, and its fingerprints."""

    intent_dir: Path
    network: Network
    intent_sha256: str
    files: tuple[str, ...]
    intent: object = None  # the validated Intent (verify reads the zones' policies from it)

    @classmethod
    def load(cls, intent_dir: str | Path) -> "Workspace":
        from ..model import resolve

        intent_dir = Path(intent_dir)
        res = resolve(intent_dir, locked=True)
        if not res.ok:
            lines = [f"{d.location}: {d.message}" + (f" ({d.hint})" if d.hint else "") for d in res.errors[:10]]
            raise DeployError("the intent does not resolve:\n  " + "\n  ".join(lines))
        files = [*res.intent.files, str(res.lock.path)] if res.lock.path.exists() else list(res.intent.files)
        return cls(intent_dir, res.network, fingerprint([Path(f) for f in files], intent_dir), tuple(files),
                   res.intent)

    def platforms(self, target: Target, devices: list[str]) -> set[str]:
        return {target.platform or self.network.devices[d].platform for d in devices}

    def templates_sha256(self, platforms: set[str]) -> str:
        h = hashlib.sha256()
        for p in sorted(platforms):
            d = load_platform(p).directory
            h.update(fingerprint([f for f in d.rglob("*") if f.is_file()], d).encode())
        return h.hexdigest()

    def candidate(self, name: str, target: Target) -> str:
        return render_device(self.network.devices[name], self.network, target.platform)


def make_nornir(network: Network, target: Target, secrets: Secrets, devices: list[str], workers: int = 20,
                processors: list | None = None, transform=None, host_key_policy: str | None = None) -> Nornir:
    """`transform(inventory)` may adjust hosts before connecting (nornir's transform function:
    per-site credentials, a jump host, a test driver). `host_key_policy="accept-new"` lets every
    driver trust (and record) a host key it has never seen; the default refuses unknown keys."""
    ConnectionPluginRegister.auto_register()  # what InitNornir does: nornir_napalm's `napalm` plugin
    inv = build_inventory(network, target, secrets, devices)
    if host_key_policy:
        for host in inv.hosts.values():
            host.connection_options["napalm"].extras["optional_args"]["host_key_policy"] = host_key_policy
    if transform is not None:
        transform(inv)
    return Nornir(inventory=inv, runner=ThreadedRunner(num_workers=max(1, min(workers, len(devices) or 1))),
                  processors=Processors(processors or []))


def connection(task):
    """The task's host's napalm driver (opened on first use, cached by nornir)."""
    return task.host.get_connection("napalm", task.nornir.config)


def fresh_driver(host: Host):
    """A new, separate connection to the host — to prove management still works after a change."""
    from napalm import get_network_driver

    params = host.get_connection_parameters("napalm")
    driver = get_network_driver(params.platform)(hostname=params.hostname, username=params.username or "",
                                                 password=params.password or "", timeout=30,
                                                 **{k: v for k, v in (params.extras or {}).items()})
    driver.open()
    return driver


def describe(exc: BaseException, secrets: Secrets | None = None) -> str:
    """One line naming what went wrong, secrets masked."""
    # every line, joined: a driver's detail (frr-reload's leftovers) is on the lines after the first
    msg = "; ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    msg = msg if len(msg) <= 1000 else msg[:1000] + " …"
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return secrets.mask(text) if secrets else text


def operator() -> str:
    import getpass
    import os

    try:
        user = os.environ.get("NETGEN_OPERATOR") or getpass.getuser()
    except Exception:  # no user name in the environment (containers)
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"
