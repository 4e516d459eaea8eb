"""The lab guest: a QEMU guest booting Debian's kernel runs the production design's kernel features
(VRF devices, 802.1q, MPLS) and the host's FRR as a real MPLS L3VPN, reached over ssh; `down` leaves
no qemu and no file, also after a killed `up`."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netgen.intent import cache as cache_mod
from netgen.lab.guest import Guest, _static, cache_root, missing_tools
from netgen.lab.initramfs import module_paths, order
from netgen.lab.system import alive

from ..labkit import lab_name
from . import mpls_vpn

REPO = Path(__file__).resolve().parents[2]
needs_guest = pytest.mark.skipif(
    os.geteuid() != 0 or bool(missing_tools()) or not Path("/usr/lib/frr/ldpd").exists(),
    reason="needs root, frr and the lab guest's packages (qemu-system-x86, busybox-static: bash scripts/setup)")


def _gone(guest: Guest, pids: list[list[int]]) -> None:
    assert not any(alive(*p) for p in pids if p), "a qemu or ssh of the guest outlived down()"
    assert not guest.dir.exists() and not guest.control.exists()


@pytest.fixture(scope="module")
def guest():
    g = Guest(lab_name("g"))
    started = time.monotonic()
    try:
        g.up()
        print(f"\n[guest] boot to first ssh command: {time.monotonic() - started:.1f} s, "
              f"qemu RSS {g.qemu_rss_mb():.0f} MB")
        yield g
    finally:
        recorded = json.loads(g.state_file.read_text()) if g.state_file.exists() else {}
        g.down()
        _gone(g, [recorded.get("qemu"), recorded.get("master")])


def test_modules_load_after_their_dependencies(tmp_path):
    (tmp_path / "modules.dep").write_text("kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko\n"
                                          "kernel/net/9p/9pnet.ko:\nkernel/fs/netfs/netfs.ko:\n"
                                          "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko\n")
    paths = order(["9pnet_virtio", "9p"], module_paths(tmp_path))
    assert paths.index("kernel/net/9p/9pnet.ko") < paths.index("kernel/net/9p/9pnet_virtio.ko")
    assert paths.index("kernel/fs/netfs/netfs.ko") < paths.index("kernel/fs/9p/9p.ko")
    assert len(paths) == len(set(paths)) == 4


def test_prepared_kernels_survive_the_content_cache_pruning_old_code_versions(tmp_path, monkeypatch):
    monkeypatch.setenv("NETGEN_CACHE_DIR", str(tmp_path))
    kernel = cache_root() / "6.1.0-99-amd64"
    kernel.mkdir(parents=True)
    for n in range(cache_mod.KEEP + 2):  # each new code version prunes the old ones
        monkeypatch.setattr(cache_mod, "code_fingerprint", lambda n=n: f"{n:024x}")
        cache_mod.Cache(tmp_path)
    assert kernel.is_dir() and len([p for p in tmp_path.iterdir() if p.name != "lab-guest"]) == cache_mod.KEEP


def test_only_a_static_busybox_goes_into_the_initramfs():
    assert not _static(Path(sys.executable).resolve())  # dynamically linked: has an interpreter


@needs_guest
def test_down_after_a_killed_up_leaves_nothing():
    g = Guest(lab_name("k"))
    code = f"from netgen.lab.guest import Guest; Guest({g.name!r}).up()"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    qemu, deadline = None, time.monotonic() + 120
    try:
        while qemu is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                qemu = json.loads(g.state_file.read_text()).get("qemu") or None
            except (OSError, ValueError):
                time.sleep(0.1)
        assert qemu and alive(*qemu), "up() never recorded a running qemu"
        proc.send_signal(signal.SIGKILL)  # netgen dies; its qemu goes on booting, orphaned
        proc.wait()
        assert alive(*qemu)
    finally:
        g.down()
        if proc.poll() is None:
            proc.kill()
    _gone(g, [qemu])


@needs_guest
def test_the_guest_kernel_has_vrf_vlan_mpls_and_loads_modules_on_demand(guest):
    p = guest.run("set -e; uname -r; ip link add t-vrf type vrf table 77; ip link add t-a type veth peer name t-b;"
                  "ip link add link t-a name t-a.10 type vlan id 10; ip -d -o link show t-a.10;"
                  "sysctl -w net.mpls.platform_labels=1000; ip link add t-dum type dummy;"  # dummy: on demand
                  "grep -o '^dummy ' /proc/modules; ip -o link show t-vrf;"
                  "ip link del t-vrf; ip link del t-a; ip link del t-dum")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(guest._load().version)
    assert "vlan protocol 802.1Q id 10" in p.stdout and "net.mpls.platform_labels = 1000" in p.stdout
    assert "dummy " in p.stdout and "t-vrf" in p.stdout
    probe = f"/usr/lib/frr/netgen-probe-{os.getpid()}"
    assert guest.run(f"touch {probe} && test -e {probe}").returncode == 0
    assert not Path(probe).exists()  # writes land in the guest's tmpfs overlay, never on the host


@needs_guest
def test_an_mpls_l3vpn_across_a_p_router_carries_labelled_vrf_traffic(guest):
    guest.put("/tmp/vpn/build.sh", mpls_vpn.build_script())
    guest.put("/tmp/vpn/start.sh", mpls_vpn.start_script())
    for r in mpls_vpn.ROUTERS:
        guest.put(f"/tmp/vpn/{r}.conf", mpls_vpn.frr_config(r))
    t = time.monotonic()
    guest.run("sh /tmp/vpn/build.sh", timeout=120, check=True)
    guest.run("sh /tmp/vpn/start.sh", timeout=120, check=True)
    p = guest.run("for r in pe1 p pe2; do vtysh -N $r -f /tmp/vpn/$r.conf || exit 1; done", timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    loaded = time.monotonic()
    # From PE1's VRF host (behind a VLAN sub-interface) to PE2's, within a minute of loading.
    ping = guest.run("for i in $(seq 60); do ip netns exec h1 ping -c1 -W1 10.2.2.2 >/dev/null && exit 0;"
                     " done; exit 1", timeout=150)
    print(f"\n[guest] VPN built+started+loaded {loaded - t:.1f} s; first VPN ping {time.monotonic() - loaded:.1f} s "
          f"later; qemu RSS {guest.qemu_rss_mb():.0f} MB")
    state = guest.run("ip -n pe1 route show vrf blue; echo ==; ip -n p -M route; echo ==;"
                      "vtysh -N pe1 -c 'show bgp ipv4 vpn' -c 'show mpls ldp neighbor'").stdout
    assert ping.returncode == 0, f"no VPN reachability h1 → h2; routers said:\n{state}"
    vrf_routes, p_labels, bgp = state.split("==")
    # PE1 reaches PE2's VRF prefix with two labels: LDP's to PE2's loopback, then BGP's VPN label.
    assert re.search(r"^10\.2\.2\.0/24 .*encap mpls\s+\d+/\d+ via 10\.0\.12\.2 dev eth1", vrf_routes, re.M), vrf_routes
    assert re.search(r"^\d+ via inet 10\.0\.23\.1 dev eth2 proto ldp", p_labels, re.M), p_labels  # P swaps/pops
    assert re.search(r"Route Distinguisher: 65000:3\n\*>i10\.2\.2\.0/24 +10\.255\.0\.3.*\n.*label=\d+", bgp), bgp
    assert "OPERATIONAL" in bgp
    # The VPN is isolated: the VRF host reaches neither the core's addresses nor P's loopback.
    iso = guest.run("ip netns exec h1 ping -c1 -W1 10.255.0.2 || ip netns exec h1 ping -c1 -W1 10.0.23.1")
    assert iso.returncode != 0, iso.stdout
