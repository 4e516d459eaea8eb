"""What tests that run labs share: unique lab names, the root/FRR skip, a fixture that always
tears its labs down, SSH into a lab router, and a census of what a lab left behind."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netgen.lab import down
from netgen.lab.state import lab_dir, prefix_for
from netgen.lab.system import existing_netns, missing_tools

needs_root = pytest.mark.skipif(os.geteuid() != 0 or bool(missing_tools()) or not shutil.which("vtysh"),
                                reason="needs root and frr, openssh-server, nftables (bash scripts/setup)")


def lab_name(tag: str) -> str:
    """Unique per test process, ≤ 8 characters: labs of parallel runs never collide."""
    return f"t{os.getpid() % 100000:05d}{tag}"[:8]


def leftovers(name: str) -> list[str]:
    """Anything of the lab still on the machine: namespaces, mounts, its directory."""
    prefix = prefix_for(name) + "-"
    out = [f"netns {n}" for n in existing_netns() if n.startswith(prefix)]
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        out += [f"mount {line.split()[4]}" for line in f if str(lab_dir(name)) in line.split()[4]]
    if lab_dir(name).exists():
        out.append(f"dir {lab_dir(name)}")
    for proc in Path("/proc").iterdir():  # the lab's QEMU guest, however it was left
        try:
            if proc.name.isdigit() and f"netgen-guest-{name}".encode() in (proc / "cmdline").read_bytes():
                out.append(f"qemu {proc.name}")
        except OSError:
            pass
    return out


def ssh(name: str, router: str, command: str) -> subprocess.CompletedProcess:
    cfg = lab_dir(name) / "ssh" / "ssh_config"
    return subprocess.run(["ssh", "-F", str(cfg), "-o", "BatchMode=yes", router, command], capture_output=True,
                          text=True, timeout=30)


@pytest.fixture
def lab():
    """`lab(tag)` → a fresh lab name; every lab named is torn down after the test, pass or fail,
    and must leave nothing behind."""
    names = []

    def make(tag: str) -> str:
        names.append(lab_name(tag))
        return names[-1]

    yield make
    for n in names:
        down(n)
        assert leftovers(n) == []
