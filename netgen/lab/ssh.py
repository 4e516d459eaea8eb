"""Real SSH into every lab router without a management network.

Each router is reached through an OpenSSH `ProxyCommand` that enters the router's namespaces
and runs `sshd -i` there (LAB-NOTES): the SSH protocol, host key check and public-key login are
the real thing, and no lab traffic touches the host's network. The lab writes an ssh_config
(one `Host` per router) that OpenSSH, paramiko and netmiko all read, so nornir/napalm reach a
lab router exactly as they reach a production one — by host name, through a config file.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from .system import nsenter, run

SSHD = "/usr/sbin/sshd"


class LabSsh:
    def __init__(self, directory: Path):
        self.dir = directory / "ssh"
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "id_ed25519"
        self.sshd_config = self.dir / "sshd_config"
        self.ssh_config = self.dir / "ssh_config"
        self.known_hosts = self.dir / "known_hosts"

    def prepare(self) -> None:
        """Keys and sshd_config, once per lab (kept across `up`s so known_hosts stays valid)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        for key in (self.host_key, self.client_key):
            if not key.exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"netgen-lab {key.name}", "-f", str(key)])
        authorized = self.dir / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text(), encoding="utf-8")
        self.sshd_config.write_text("\n".join([
            f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {authorized}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",  # the lab's key files live in the lab directory, not in ~/.ssh
            "PidFile none",
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
        ]) + "\n", encoding="utf-8")

    def write_client_config(self, routers: dict[str, tuple[str, Path, Path]], proxy: list[str] = (),
                            sshd_config: Path | None = None) -> None:
        """ssh_config and known_hosts for `routers`: name → (netns, mount ns file, uts ns file).
        `proxy`: a command that runs the rest elsewhere (the lab guest's `ssh … guest`), and
        `sshd_config` the config's path there."""
        key = " ".join(self.host_key.with_suffix(".pub").read_text().split()[:2])
        hosts, known = [], []
        for name, (netns, mnt, uts) in sorted(routers.items()):
            inner = [*nsenter(netns, mnt, uts), SSHD, "-i", "-f", str(sshd_config or self.sshd_config)]
            if proxy:  # the remote side is a shell: quote once for it, once for ssh_config
                inner = [*proxy, shlex.join(inner)]
            proxy_cmd = " ".join(shlex.quote(a) for a in inner)
            hosts += [f"Host {name}", "  User root", f"  IdentityFile {self.client_key}", "  IdentitiesOnly yes",
                      f"  UserKnownHostsFile {self.known_hosts}", "  StrictHostKeyChecking yes",
                      f"  ProxyCommand {proxy_cmd}", ""]
            known.append(f"{name} {key}")
        self.ssh_config.write_text("\n".join(hosts), encoding="utf-8")
        self.known_hosts.write_text("\n".join(known) + "\n", encoding="utf-8")

    def command(self, router: str, remote: str) -> list[str]:
        """An `ssh` command line that runs `remote` on a lab router."""
        return ["ssh", "-F", str(self.ssh_config), "-o", "BatchMode=yes", router, remote]
