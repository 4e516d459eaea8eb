"""The few system calls the lab makes: ip, mount, nsenter, signals. One place, so a failure
always names the command and what it printed, and nothing else in the lab shells out."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

REQUIRED = {"ip": "iproute2", "nsenter": "util-linux", "unshare": "util-linux", "nft": "nftables",
            "sshd": "openssh-server", "ssh-keygen": "openssh-client", "ping": "iputils-ping"}
FRR_LIBEXEC = Path("/usr/lib/frr")


class LabError(Exception):
    pass


def missing_tools() -> list[str]:
    """What the lab needs that this machine lacks, as Debian package names."""
    out = sorted({pkg for tool, pkg in REQUIRED.items()
                  if not shutil.which(tool) and not Path("/usr/sbin", tool).exists()})
    if not (FRR_LIBEXEC / "zebra").exists():
        out.append("frr")
    if not (FRR_LIBEXEC / "frr-reload.py").exists():
        out.append("frr-pythontools")
    return out


def run(cmd: list[str], input: str | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"`{' '.join(cmd)}` did not finish in {timeout:.0f} s") from exc
    if check and p.returncode != 0:
        raise LabError(f"`{' '.join(cmd)}` failed ({p.returncode}): {(p.stderr or p.stdout).strip()[:500]}")
    return p


def ip_batch(lines: list[str], netns: str | None = None, force: bool = False) -> None:
    """Many `ip` commands in one process (`-force` goes on after an error, for teardown)."""
    if not lines:
        return
    cmd = ["ip", *(["-n", netns] if netns else []), *(["-force"] if force else []), "-batch", "-"]
    run(cmd, input="\n".join(lines) + "\n", check=not force)


def existing_netns() -> set[str]:
    try:
        return set(os.listdir("/run/netns"))
    except FileNotFoundError:
        return set()


def nsenter(netns: str, mount: Path | None = None, uts: Path | None = None) -> list[str]:
    """The prefix that runs a command in a router's (or host's) namespaces."""
    cmd = ["nsenter", f"--net=/run/netns/{netns}"]
    if mount:
        cmd.append(f"--mount={mount}")
    if uts:
        cmd.append(f"--uts={uts}")
    return cmd


def sysctl(netns: str, settings: dict[str, str]) -> None:
    args = [f"{k}={v}" for k, v in settings.items()]
    run([*nsenter(netns), "sysctl", "-q", "-w", *args])


def is_mountpoint(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return any(line.split()[4] == target for line in f)


def unmount(path: Path) -> None:
    if is_mountpoint(path):
        run(["umount", "--lazy", str(path)], check=False)


# ------------------------------------------------------------------ processes we started


def proc_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks (field 22 of /proc/PID/stat), or None if gone:
    a PID plus its start time names one process, even after the PID is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: int, started: int | None) -> bool:
    now = proc_start_time(pid)
    return now is not None and (started is None or now == started) and \
        not Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def kill(processes: list[tuple[int, int | None]], grace: float = 3.0) -> None:
    """SIGTERM the processes we recorded (PID + start time), then SIGKILL what is left."""
    targets = [(pid, st) for pid, st in processes if alive(pid, st)]
    for pid, _ in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p, s) for p, s in targets):
        time.sleep(0.05)
    for pid, st in targets:
        if alive(pid, st):
            _signal(pid, signal.SIGKILL)


def processes_in(netns_names: set[str]) -> list[tuple[int, int | None]]:
    """Every process whose network namespace is one of `netns_names` (matched by the namespace's
    inode, not by process name): what a crashed `up` may have started before recording it."""
    inodes = set()
    for name in netns_names:
        try:
            inodes.add(os.stat(f"/run/netns/{name}").st_ino)
        except OSError:
            pass
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino in inodes:
                    out.append((int(entry), proc_start_time(int(entry))))
            except OSError:
                pass
    return out


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
