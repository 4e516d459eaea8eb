"""The lab probes run as one script of parallel pings, through the lab's runner: real pings in a
real network namespace here (LocalRunner), the same script the guest runs."""
from __future__ import annotations

import os
import subprocess

import pytest

from netgen.lab.runner import LocalRunner
from netgen.lab.topology import HostSpec
from netgen.verify.checks import PARALLEL, probe_findings
from netgen.verify.expect import Probe

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a network namespace)")


@pytest.fixture
def netns():
    name = f"ngvp{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def host(ns: str) -> HostSpec:
    return HostSpec(ns, "dept", "site", "zone", "r1", None, None, None, None)


class Counting(LocalRunner):
    def __init__(self):
        self.calls = 0

    def script(self, text, timeout=300):
        self.calls += 1
        return super().script(text, timeout)


def test_probes_run_as_one_script_and_keep_their_meaning(netns):
    h = host(netns)
    reach = Probe(h, "127.0.0.1", "itself", "zone", "zone", True, "same zone")
    unreachable = Probe(h, "192.0.2.1", "nowhere", "zone", "zone", True, "same zone")
    isolated = Probe(h, "192.0.2.2", "other", "zone", "other", False, "zone other denies zone")
    leak = Probe(h, "127.0.0.2", "other", "zone", "other", False, "zone other denies zone")
    from_inet = Probe(None, "127.0.0.1", "a LAN", "(Internet)", "zone", False, "the firewall lets nothing in",
                      "127.0.0.1")
    many = [reach] * (2 * PARALLEL)  # more than one wave of parallel jobs
    runner = Counting()
    got = probe_findings([reach, unreachable, isolated, leak, from_inet, *many], netns, runner)
    assert runner.calls == 1
    assert [(f.check, f.ok) for f in got[:5]] == [("reach", True), ("reach", False), ("isolation", True),
                                                  ("isolation", False), ("internet", False)]
    assert got[1].detail == "UNREACHABLE: expected to reach (same zone)"
    assert got[3].detail == "LEAK: reached, but zone other denies zone"
    assert got[4].subject == "the Internet (127.0.0.1) → a LAN (127.0.0.1)"
    assert all(f.ok for f in got[5:]) and got[0].source is reach
