"""Where lab commands run: on this host, or in the lab guest over its shared SSH connection.

The lab's code is the same either way: it builds shell scripts and hands them to a Runner. On a
host whose kernel has MPLS, VRF devices and 802.1q the Runner is local; on one without them (the
project's machines) it is the QEMU guest booting Debian's kernel (guest.py). Scripts are batched —
under TCG every process start costs 50-100 ms — and fed on stdin, so nothing has to be copied
into the guest first.
"""
from __future__ import annotations

import subprocess
from typing import Protocol

from .system import LabError


class Runner(Protocol):
    where: str  # "host" | "guest"

    def run(self, command: str, input: str | None = None, timeout: float = 60,
            check: bool = False) -> subprocess.CompletedProcess:
        """Run a shell command line as root; text in and out."""

    def script(self, text: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a whole `sh` script (fed on stdin; `set -e` is the script's business)."""


class LocalRunner:
    where = "host"

    def run(self, command: str, input: str | None = None, timeout: float = 60,
            check: bool = False) -> subprocess.CompletedProcess:
        try:
            p = subprocess.run(["sh", "-c", command], input=input, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"`{command[:200]}` did not finish in {timeout:.0f} s") from exc
        if check and p.returncode != 0:
            raise LabError(f"`{command[:200]}` failed ({p.returncode}): {p.stderr.strip()[:500]}")
        return p

    def script(self, text: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.run("sh -s", input=text, timeout=timeout, check=True)


class GuestRunner:
    where = "guest"

    def __init__(self, guest):
        self.guest = guest

    def run(self, command: str, input: str | None = None, timeout: float = 60,
            check: bool = False) -> subprocess.CompletedProcess:
        return self.guest.run(command, input=input, timeout=timeout, check=check)

    def script(self, text: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.guest.run("sh -s", input=text, timeout=timeout, check=True)
