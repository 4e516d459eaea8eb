"""SSH host-key checking shared by every driver (netmiko for VRP/Comware, paramiko for FRR).

Policy, as OpenSSH's StrictHostKeyChecking: `strict` (the default) refuses a host whose key is
in no known-hosts file; `accept-new` trusts a key on first use and records it in the first
known-hosts file (the driver's `known_hosts`/`known_hosts_file`, else the ssh_config's
UserKnownHostsFile, else ~/.ssh/known_hosts). A key that contradicts a known one is always
refused — paramiko checks it right after key exchange, before any password or key is offered —
and the error names the host and both fingerprints.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
from pathlib import Path

import paramiko

log = logging.getLogger(__name__)

SYSTEM_KNOWN_HOSTS = ("~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts")
STRICT, ACCEPT_NEW, NO_CHECK = "strict", "accept-new", "no"
_WRITE = threading.Lock()


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: `SHA256:<base64, no padding>`."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def policy_of(value) -> str:
    """`host_key_policy` / `strict_host_key_checking` / StrictHostKeyChecking → a policy name."""
    if value is None:
        return STRICT
    text = str(value).strip().lower()
    if text == ACCEPT_NEW:
        return ACCEPT_NEW
    if text in ("no", "off", "false", "0") or value is False:
        return NO_CHECK
    if text in ("yes", "on", "true", "1", STRICT) or value is True:
        return STRICT
    raise ValueError(f"host key policy {value!r}: use `strict` or `accept-new`")


def ssh_config_entry(config_file, host: str) -> dict:
    """The host's entry in an OpenSSH client config (empty without one)."""
    if not config_file:
        return {}
    path = Path(os.path.expanduser(str(config_file)))
    return dict(paramiko.SSHConfig.from_path(str(path)).lookup(host))


def known_hosts_files(optional_args: dict, cfg: dict) -> list[str]:
    """Where keys are looked up, the file accept-new records into first."""
    files = [str(optional_args[k]) for k in ("known_hosts", "known_hosts_file") if optional_args.get(k)]
    files += cfg.get("userknownhostsfile", "").split()
    return [os.path.expanduser(f) for f in (*files, *SYSTEM_KNOWN_HOSTS)]


def load(client: paramiko.SSHClient, files: list[str], host: str) -> None:
    for f in files:
        if os.path.isfile(f):
            try:
                client.load_system_host_keys(f)
            except (OSError, paramiko.SSHException, UnicodeDecodeError) as exc:
                log.warning("%s: ignoring unreadable known-hosts file %s: %s", host, f, exc)


class RecordNew(paramiko.MissingHostKeyPolicy):
    """accept-new: trust an unknown key and append it to `path` (a warning says so)."""

    def __init__(self, path: str):
        self.path = path

    def missing_host_key(self, client, hostname, key):
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        with _WRITE:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        client.get_host_keys().add(hostname, key.get_name(), key)
        log.warning("%s: new host key %s %s trusted on first use and recorded in %s",
                    hostname, key.get_name(), fingerprint(key), self.path)


class Reject(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client, hostname, key):
        raise UnknownHostKey(f"{hostname}: host key {key.get_name()} {fingerprint(key)} is not in any known_hosts "
                             "file: check it with the device's owner and add it (ssh-keyscan), or pass "
                             "--accept-new-host-keys to trust it on first use")


class UnknownHostKey(paramiko.SSHException):
    pass


def prepare(client: paramiko.SSHClient, files: list[str], policy: str, host: str) -> None:
    """Load the known keys into `client` and set the policy for unknown ones."""
    load(client, files, host)
    client.set_missing_host_key_policy(RecordNew(files[0]) if policy == ACCEPT_NEW else
                                       paramiko.AutoAddPolicy() if policy == NO_CHECK else Reject())


def mismatch(host: str, exc: paramiko.BadHostKeyException) -> str:
    return (f"{host}: HOST KEY MISMATCH — the device presented {exc.key.get_name()} {fingerprint(exc.key)} but "
            f"known_hosts has {exc.expected_key.get_name()} {fingerprint(exc.expected_key)}; refused before "
            "logging in (a replaced device, or someone in the path: check with its owner before changing "
            "known_hosts)")


def netmiko_class(device_type: str, files: list[str], policy: str):
    """netmiko's connection class for `device_type`, its SSH client built with our checks
    (netmiko alone loads one file at most and auto-adds unknown keys by default)."""
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    base = CLASS_MAPPER[device_type]

    class Checked(base):
        def _build_ssh_client(self):
            client = self._get_ssh_client_instance()
            prepare(client, files, policy, self.host)
            return client

    return Checked


def refusal(host: str, exc: BaseException | None) -> str:
    """The host-key refusal inside `exc` (or its context: netmiko re-raises its own), or ""."""
    for _ in range(5):
        if exc is None:
            return ""
        if isinstance(exc, paramiko.BadHostKeyException):
            return mismatch(host, exc)
        if isinstance(exc, UnknownHostKey):
            return str(exc)
        exc = exc.__cause__ or exc.__context__
    return ""
