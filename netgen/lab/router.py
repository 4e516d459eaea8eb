"""One FRR router: its namespaces, its private view of the file system, its daemons.

LAB-NOTES: `zebra -n` adopts every namespace under /run/netns as a VRF, so each router gets a
private mount namespace in which /run/netns holds only its own VRF namespaces (under their
short names), and /etc/frr, /run/frr, /var/log/frr are its own directories. Plain `vtysh` and
`frr-reload.py` then work inside with their default paths. A UTS namespace gives the router its
host name (FRR 8.4 shows the kernel's). Both namespaces persist as bind-mounted files.
"""
from __future__ import annotations

import pwd
import shlex
import time
from pathlib import Path

from .state import LabState
from .system import FRR_LIBEXEC, LabError, nsenter, proc_start_time, run
from .topology import RouterSpec

# The config a router starts with: plan/apply do the real work.
MINIMAL_CONFIG = """frr version 8.4.4
frr defaults datacenter
hostname {name}
log syslog informational
service integrated-vtysh-config
!
"""


class Router:
    def __init__(self, spec: RouterSpec, lab_directory: Path):
        self.spec = spec
        self.dir = lab_directory / "routers" / spec.name
        self.mnt, self.uts = self.dir / "mnt", self.dir / "uts"

    @property
    def daemons(self) -> list[str]:
        if not self.spec.igp:  # a router known only by name (status): the daemons it was started with
            return sorted(p.stem for p in (self.dir / "run").glob("*.pid")) or ["zebra"]
        return ["zebra", "staticd", "bgpd", "ospfd", *(["isisd"] if self.spec.igp == "isis" else [])]

    def enter(self) -> list[str]:
        return nsenter(self.spec.netns, self.mnt, self.uts)

    def exec(self, command: str, check: bool = True, timeout: float = 60):
        return run([*self.enter(), "sh", "-c", command], check=check, timeout=timeout)

    def create(self, state: LabState) -> None:
        """The private mount and UTS namespaces; the router's netns must exist already."""
        frr = pwd.getpwnam("frr")
        for sub in ("etc", "run", "log", "vrfns"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("etc", "run", "log"):
            _chown_tree(self.dir / sub, frr.pw_uid, frr.pw_gid)
        (self.dir / "etc" / "vtysh.conf").write_text("service integrated-vtysh-config\n", encoding="utf-8")
        conf = self.dir / "etc" / "frr.conf"
        conf.write_text(MINIMAL_CONFIG.format(name=self.spec.name), encoding="utf-8")
        for f in (conf, self.dir / "etc" / "vtysh.conf"):
            _chown_tree(f, frr.pw_uid, frr.pw_gid)
        for f in (self.mnt, self.uts):
            f.touch()
        state.note_mount(self.mnt)
        state.note_mount(self.uts)
        q = shlex.quote
        vrfns = self.dir / "vrfns"
        script = ["set -e", f"mount -t tmpfs -o mode=755 netgen-vrfns {q(str(vrfns))}"]
        for vrf in self.spec.vrfs:
            target = vrfns / vrf
            script += [f"touch {q(str(target))}",
                       f"mount --bind /run/netns/{q(self.spec.vrf_netns(vrf))} {q(str(target))}"]
        script += [f"mount --move {q(str(vrfns))} /run/netns",
                   f"mount --bind {q(str(self.dir / 'etc'))} /etc/frr",
                   f"mount --bind {q(str(self.dir / 'run'))} /run/frr",
                   f"mount --bind {q(str(self.dir / 'log'))} /var/log/frr",
                   f"hostname {q(self.spec.name)}"]
        run(["unshare", f"--mount={self.mnt}", f"--uts={self.uts}", "--propagation", "private",
             "sh", "-c", "\n".join(script)])

    def sync_vrfs(self) -> list[str]:
        """Make the router's /run/netns hold exactly its VRFs after an intent change (a zone
        now present or gone here); zebra -n adopts and drops them as they come and go. Returns
        the VRF namespaces (global names) that are no longer used, for the caller to delete."""
        inside = set(run([*self.enter(), "ls", "/run/netns"]).stdout.split())
        wanted = set(self.spec.vrfs)
        for vrf in sorted(wanted - inside):  # nsenter opens the VRF's netns file before entering
            run(["nsenter", f"--net=/run/netns/{self.spec.vrf_netns(vrf)}", f"--mount={self.mnt}", "sh", "-c",
                 f"touch /run/netns/{shlex.quote(vrf)} && mount --bind /proc/self/ns/net /run/netns/{shlex.quote(vrf)}"])
        for vrf in sorted(inside - wanted):
            self.exec(f"umount /run/netns/{shlex.quote(vrf)}; rm -f /run/netns/{shlex.quote(vrf)}", check=False)
        return [self.spec.vrf_netns(v) for v in sorted(inside - wanted)]

    def wait_adopted(self, interfaces: set[str], timeout: float) -> None:
        """Wait until zebra knows each of the router's VRFs and `interfaces`. A running zebra
        adopts VRF namespaces and links added under it as it learns of them (inotify, netlink),
        and its running config changes when it does: read before then — by a plan — it would
        change by itself afterwards, and the plan be refused as stale."""
        deadline = time.monotonic() + timeout
        while True:
            vrfs = set(self.exec("vtysh -c 'show vrf'", check=False, timeout=15).stdout.split())
            known = set(self.exec("vtysh -c 'show interface vrf all brief'", check=False, timeout=15).stdout.split())
            missing = sorted((set(self.spec.vrfs) - vrfs) | (interfaces - known))
            if not missing:
                return
            if time.monotonic() > deadline:
                raise LabError(f"{self.spec.name}: zebra has not taken up {', '.join(missing)} after {timeout:.0f} s")
            time.sleep(0.2)

    def start(self, record) -> None:
        """Start the daemons and load the integrated config; `record([[pid, start time], …])` is
        called as soon as the daemons run, before anything else can fail."""
        for daemon in self.daemons:
            args = [str(FRR_LIBEXEC / daemon), "-d", "-F", "datacenter", "-P", "0"]
            if daemon == "zebra":
                args.append("-n")  # namespace VRFs
            run([*self.enter(), *args])
        out = []
        deadline = time.monotonic() + 10
        for daemon in self.daemons:
            pid = None
            while pid is None:
                try:
                    pid = int((self.dir / "run" / f"{daemon}.pid").read_text().strip())
                except (OSError, ValueError):
                    if time.monotonic() > deadline:
                        raise LabError(f"{self.spec.name}: {daemon} did not start (no pid file)") from None
                    time.sleep(0.05)
            out.append([pid, proc_start_time(pid)])
        record(out)
        self.exec("vtysh -b", timeout=30)

    def running_daemons(self, processes: list[list[int]]) -> dict[str, bool]:
        from .system import alive

        by_pid = {}
        for daemon in self.daemons:
            try:
                by_pid[daemon] = int((self.dir / "run" / f"{daemon}.pid").read_text().strip())
            except (OSError, ValueError):
                by_pid[daemon] = None
        known = {pid: st for pid, st in processes}
        return {d: pid is not None and pid in known and alive(pid, known[pid]) for d, pid in by_pid.items()}


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    import os

    os.chown(path, uid, gid)
    if path.is_dir():
        for p in path.rglob("*"):
            os.chown(p, uid, gid)
