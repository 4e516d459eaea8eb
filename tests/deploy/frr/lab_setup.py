"""Lab helpers shared by the frr driver's tests and the mocked-data capture script.

A lab of Jiangxi (`--scope jx`, 8 FRR routers) with the rendered configs applied gives the
device under test, jx-nc-ncx-pe1, IS-IS, OSPF in two namespace VRFs and iBGP VPN sessions to the
two reflectors. A few test-only lines (EXTRA) add what napalm's test suite asks for and the
rendered intent does not have: a BGP route to 1.0.4.0/24 (napalm's get_route_to test
destination) learned from jx-pe1 over IPv4 unicast, and a BGP session inside VRF ZW-PUB
(with an RD) between jx-nc-ncx-pe1 and jx-nc-pe1, so the per-VRF paths of get_bgp_neighbors,
get_network_instances and get_route_to see real data.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DUT = "jx-nc-ncx-pe1"
SCOPE = ["jx"]

EXTRA = {
    "jx-pe1": """ip route 1.0.4.0/24 blackhole
router bgp 4200360000
 address-family ipv4 unicast
  network 1.0.4.0/24
  neighbor 10.255.0.13 activate
 exit-address-family
exit
""",
    "jx-nc-ncx-pe1": """router bgp 4200360000
 address-family ipv4 unicast
  neighbor 10.255.36.1 activate
 exit-address-family
exit
router bgp 4200360000 vrf ZW-PUB
 bgp router-id 10.255.0.13
 neighbor 10.254.0.29 remote-as internal
 neighbor 10.254.0.29 description jx-nc-pe1 (test session in ZW-PUB)
 address-family ipv4 unicast
  redistribute connected
  rd vpn export 10.255.0.13:100
 exit-address-family
exit
""",
    "jx-nc-pe1": """router bgp 4200360000 vrf ZW-PUB
 bgp router-id 10.255.0.14
 neighbor 10.254.0.28 remote-as internal
 neighbor 10.254.0.28 description jx-nc-ncx-pe1 (test session in ZW-PUB)
 address-family ipv4 unicast
  redistribute connected
 exit-address-family
exit
""",
}


def lab_skip_reason() -> str | None:
    """Why a real-FRR test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (the lab creates network namespaces and mounts)"
    from netgen.lab.system import missing_tools

    missing = missing_tools()
    if missing:
        return f"needs the Debian packages {' '.join(missing)} (bash scripts/setup installs them)"
    return None


requires_lab = pytest.mark.skipif(lab_skip_reason() is not None, reason=lab_skip_reason() or "")


def network():
    from netgen.model import resolve

    res = resolve(REPO / "inventory")
    assert res.network is not None, "the example inventory does not resolve"
    return res.network


def rendered(net, routers, extra: bool = True) -> dict[str, str]:
    """The FRR config of each router, with EXTRA inserted before the final `end`."""
    from netgen.render.build import render_device

    out = {}
    for r in routers:
        text = render_device(net.devices[r], net, "frr")
        if extra and r in EXTRA:
            head, sep, tail = text.rpartition("\nend")
            text = head + "\n!\n" + EXTRA[r] + "!" + sep + tail
        out[r] = text
    return out


def ssh_config(name: str) -> Path:
    return Path("/run/netgen-lab") / name / "ssh" / "ssh_config"


def lab_name(prefix: str) -> str:
    """A lab name of this process (`prefix` + its PID in base 36, at most 8 characters), so that
    test runs in parallel (two sessions, CI and a developer) never share or tear down a lab."""
    n, digits = os.getpid(), ""
    while n:
        n, r = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
    return (prefix + digits)[:8]


def reap_stale(prefix: str) -> None:
    """Tear down labs `prefix…` left by test processes that died before their finaliser."""
    import netgen.lab

    root = Path("/run/netgen-lab")
    for d in sorted(root.glob(prefix + "*")) if root.is_dir() else ():
        try:
            pid = int(d.name[len(prefix):], 36)
        except ValueError:
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            netgen.lab.down(d.name)


def lab_up(prefix: str):
    """Start this process's lab `prefix…` on SCOPE; returns (lab name, network, router names)."""
    import netgen.lab

    name = lab_name(prefix)
    reap_stale(prefix)
    net = network()
    netgen.lab.up(net, name, scope=SCOPE, design="lite")  # FRR on the host: the VRF-lite rendering
    state, routers = netgen.lab.status(name)
    return name, net, [r.name for r in routers]


def lab_down(name: str) -> None:
    import netgen.lab

    netgen.lab.down(name)


def driver(name: str, router: str, **optional):
    from netgen.deploy.drivers.frr import FrrDriver

    d = FrrDriver(router, "", "", timeout=30, optional_args={"ssh_config_file": str(ssh_config(name)), **optional})
    d.open()
    return d


def apply_all(name: str, configs: dict[str, str]) -> None:
    """Replace the config of every router in `configs` (in parallel, one driver each)."""
    def apply(item):
        router, text = item
        d = driver(name, router)
        try:
            d.load_replace_candidate(config=text)
            d.commit_config()
        finally:
            d.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(apply, sorted(configs.items())))


def wait_for(predicate, timeout: float, step: float = 1.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


def bgp_ready(name: str, router: str = DUT) -> bool:
    """DUT's sessions (global and ZW-PUB) established and the 1.0.4.0/24 route installed."""
    d = driver(name, router)
    try:
        peers = d.get_bgp_neighbors()
        ups = [p["is_up"] for v in peers.values() for p in v["peers"].values()]
        return bool(ups) and all(ups) and "ZW-PUB" in peers and bool(d.get_route_to("1.0.4.0/24", "bgp"))
    finally:
        d.close()


def mock_filename(command: str) -> str:
    """The mocked-data file that holds `command`'s output: the vtysh command (or the shell command
    for anything else) with every non-alphanumeric character as `_`, as napalm's test doubles do."""
    import re
    import shlex

    words = shlex.split(command) if command.startswith("vtysh -c ") else []
    text = words[2] if len(words) == 3 else command
    return re.sub("[^a-zA-Z0-9]", "_", text)[:150] + ".txt"
