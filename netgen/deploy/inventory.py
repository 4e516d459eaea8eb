"""The nornir inventory, built from the resolved model.

Hosts are the model's devices; groups are `level:<level>`, `province:<id>`, `site:<id>` (the
device's site and every site above it), `role:<role>` and `platform:<platform>`. Connection
options come from the platform descriptor (`napalm_driver`, and `connection:` — napalm
optional_args such as timeouts) and the target: production devices are reached at their
management address, through $NETGEN_SSH_CONFIG if set (a jump host); a lab's routers by name,
through the lab's ssh_config, all with the `frr` driver. Credentials come from the environment
or a secrets file outside the repository (secrets.py) — never from intent.

Users run their own nornir tasks on it through the registered plugin:

    from nornir import InitNornir
    nr = InitNornir(inventory={"plugin": "NetgenInventory",
                               "options": {"intent": "inventory", "lab": "lab"}})
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nornir.core.inventory import (ConnectionOptions, Defaults, Group, Groups, Host, Hosts, Inventory,
                                   ParentGroups)

from ..model.types import Network
from ..render.platform import load_platform
from .secrets import Secrets

LEVELS = ("central", "province", "city", "county", "township", "village")


@dataclass(frozen=True)
class Target:
    """Where deploy connects: production devices, or the routers of a named lab."""

    lab: str | None = None

    @property
    def label(self) -> str:
        return f"lab:{self.lab}" if self.lab else "production"

    @property
    def platform(self) -> str | None:
        """Every lab router runs FRR, whatever the device's production platform: the rendering of
        the lab's design (frr_mpls, or frr for the VRF-lite stand-in)."""
        if not self.lab:
            return None
        from ..lab.handle import PLATFORM
        from ..lab.state import LabState

        try:
            state = LabState.load(self.lab)
        except ValueError:
            state = None
        return PLATFORM[state.design] if state else "frr"

    @classmethod
    def parse(cls, label: str) -> "Target":
        return cls(label.split(":", 1)[1]) if label.startswith("lab:") else cls()

    def ssh_config(self) -> Path | None:
        """The lab's ssh_config; in production $NETGEN_SSH_CONFIG (jump hosts, keys), if set."""
        if not self.lab:
            env = os.environ.get("NETGEN_SSH_CONFIG")
            return Path(env).expanduser() if env else None
        from ..lab.state import lab_dir

        return lab_dir(self.lab) / "ssh" / "ssh_config"


def ancestry(network: Network, site_id: str) -> list[str]:
    """The site and every site above it, nearest first."""
    out, cur = [], network.sites.get(site_id)
    while cur is not None and cur.id not in out:
        out.append(cur.id)
        cur = network.sites.get(cur.parent) if cur.parent else None
    return out


def commit_mode(device, platform: str) -> str:
    """How a change is made safe on this device when deployed as `platform`: `two-stage` (VRP8
    commit trial), `commit-delay` (Comware 7) or `netgen-held` (netgen's emulation: VRP5, and
    models the profile does not show to have either), from its hardware profile; "" where the
    platform's driver has its own (FRR: a revert job on the router)."""
    if platform not in ("huawei_vrp", "h3c_comware") or device.hardware.platform != platform:
        return ""
    return device.hardware.commit


def host_groups(network: Network, name: str, platform: str) -> list[str]:
    d = network.devices[name]
    sites = ancestry(network, d.site)
    province = next((s for s in sites if network.sites[s].level == "province"), None)
    out = [f"level:{d.level}", f"role:{d.role}", f"platform:{platform}", *(f"site:{s}" for s in sites)]
    if province:
        out.append(f"province:{province}")
    return out


def build_inventory(network: Network, target: Target = Target(), secrets: Secrets | None = None,
                    devices: list[str] | None = None) -> Inventory:
    secrets = secrets or Secrets()
    username, password = secrets.credentials()
    ssh_config = target.ssh_config()
    groups = Groups()
    hosts = Hosts()
    for name in devices if devices is not None else network.devices:
        d = network.devices[name]
        platform = target.platform or d.platform
        desc = load_platform(platform)
        optional_args: dict = dict(desc.connection)
        if ssh_config:
            optional_args["ssh_config_file"] = str(ssh_config)
        if mode := commit_mode(d, platform):
            optional_args["commit_mode"] = mode
        names = host_groups(network, name, platform)
        for g in names:
            if g not in groups:
                groups[g] = Group(g)
        hosts[name] = Host(
            name,
            hostname=name if target.lab else (d.management.address or name),
            username="root" if target.lab else username,
            password=None if target.lab else password,
            platform=desc.napalm_driver,
            groups=ParentGroups(groups[g] for g in names),
            data={"site": d.site, "level": d.level, "role": d.role, "netgen_platform": platform,
                  "production_platform": d.platform},
            connection_options={"napalm": ConnectionOptions(extras={"optional_args": optional_args})},
        )
    return Inventory(hosts=hosts, groups=groups, defaults=Defaults())


def select(network: Network, limit: list[str] | None) -> list[str]:
    """Devices matching any --limit term: a device name, a site id (that site and everything
    below it), or a group (`level:county`, `province:jx`, `role:pe`, `platform:huawei_vrp`,
    `site:jx-nc`). No terms: every device."""
    if not limit:
        return list(network.devices)
    unknown = []
    out: set[str] = set()
    for term in limit:
        hit = set()
        for name, d in network.devices.items():
            groups = host_groups(network, name, d.platform)
            if term == name or f"site:{term}" in groups or term in groups:
                hit.add(name)
        if not hit:
            unknown.append(term)
        out |= hit
    if unknown:
        raise ValueError(f"--limit {', '.join(unknown)} matches no device (use a device, a site id, or "
                         "level:/province:/role:/platform:/site: groups)")
    return [n for n in network.devices if n in out]


class NetgenInventory:
    """nornir inventory plugin (entry point `NetgenInventory`)."""

    def __init__(self, intent: str = "inventory", lab: str | None = None, secrets: str | None = None,
                 limit: list[str] | None = None) -> None:
        self.intent, self.target, self.secrets_path, self.limit = intent, Target(lab), secrets, limit

    def load(self) -> Inventory:
        from ..model import resolve

        res = resolve(self.intent)
        if not res.ok:
            first = res.errors[0]
            raise ValueError(f"{first.location}: {first.message} (run `netgen validate {self.intent}`)")
        secrets = Secrets.load(self.secrets_path, self.intent)
        return build_inventory(res.network, self.target, secrets, select(res.network, self.limit))
