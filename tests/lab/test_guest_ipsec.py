"""netgen.lab.ipsec on the real kernel and strongSwan, in the lab guest: two router namespaces and
an Internet namespace, the gretap between the routers inside ESP. A ping crosses the gretap, both
ends hold the SAs, the Internet sees ESP and IKE only, IS-IS (FRR's isisd) forms an adjacency over
the gretap; one end restarted with another key has no SA and check names the link; teardown
leaves nothing. Fixture discipline as test_guest_mpls.py."""
from __future__ import annotations

import json
import time

import pytest

from netgen.lab.guest import Guest
from netgen.lab.ipsec import End, IpsecLink, check, restart_script, setup_script, teardown_script
from netgen.lab.runner import GuestRunner
from netgen.lab.system import alive

from ..labkit import lab_name
from .mpls_design import needs_guest

pytestmark = needs_guest

CE, PE, INET = "t-ce1", "t-pe1", "t-inet"
LINK = IpsecLink(End(CE, "eth1"), End(PE, "eth5"), 0, INET, "lab key: 'not printed'")
WRONG = IpsecLink(LINK.a, LINK.b, LINK.index, INET, "another key")
ISIS = """interface {port}
 ip router isis 1
 isis network point-to-point
 isis hello-interval 1
exit
router isis 1
 is-type level-2-only
 net 49.0001.0000.0000.000{n}.00
exit
"""


@pytest.fixture(scope="module")
def guest():
    g = Guest(lab_name("i"))
    try:
        g.up()
        yield g
    finally:
        recorded = json.loads(g.state_file.read_text()) if g.state_file.exists() else {}
        g.down()
        assert not any(alive(*p) for p in (recorded.get("qemu"), recorded.get("master")) if p), \
            "a qemu or ssh of the guest outlived down()"
        assert not g.dir.exists()


@pytest.fixture(scope="module")
def link(guest):
    """Namespaces, setup_script, a /31 on the gretaps, zebra + isisd in each router."""
    runner = GuestRunner(guest)
    runner.script(f"set -e\nip netns add {CE}\nip netns add {PE}\n")
    t = time.monotonic()
    runner.script(setup_script([LINK]))
    setup = time.monotonic() - t
    statuses = check(runner, [LINK])
    print(f"\n[ipsec] setup (2 charons, SA initiated) {setup:.1f} s; SA up at the first check: "
          f"{statuses[0].sa_a and statuses[0].sa_b} ({time.monotonic() - t:.1f} s)")
    frr = ["set -e"]
    for n, (ns, port, addr) in enumerate(((CE, "eth1", "10.9.0.0/31"), (PE, "eth5", "10.9.0.1/31")), 1):
        frr += [f"ip -n {ns} addr add {addr} dev {port}",
                f"mkdir -p /etc/frr/{ns} /run/frr/{ns} && touch /etc/frr/{ns}/vtysh.conf && "
                f"chown frr:frr /etc/frr/{ns} /run/frr/{ns}",
                *[f"ip netns exec {ns} /usr/lib/frr/{d} -d -N {ns} -P 0" for d in ("zebra", "isisd")],
                f"cat > /tmp/{ns}.conf <<'EOF'\n{ISIS.format(port=port, n=n)}EOF",
                f"vtysh -N {ns} -f /tmp/{ns}.conf"]
    runner.script("\n".join(frr) + "\n")
    return runner


def _until(fn, ok, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(1)


def test_ping_crosses_the_gretap_and_only_esp_and_ike_cross_the_internet(guest, link):
    ping = guest.run(f"ip netns exec {CE} ping -c3 -W2 10.9.0.1")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    [s] = check(link, [LINK])
    assert s.sa_a and s.sa_b, s.problems()
    assert s.esp >= 3 and s.ike > 0 and s.other == 0, s
    assert s.ok and s.problems() == []


def test_isis_adjacency_comes_up_over_the_gretap_inside_esp(guest, link):
    # `show isis neighbor json` (FRR 8.4, captured in the guest): areas[].circuits[] with
    # "interface" and "state"
    def adjacency():
        out = guest.run(f"vtysh -N {CE} -c 'show isis neighbor json'").stdout
        return [c for a in json.loads(out or "{}").get("areas", []) for c in a.get("circuits", [])]

    circuits = _until(adjacency, lambda cs: any(c.get("state") == "Up" for c in cs))
    assert any(c.get("interface") == "eth1" and c.get("state") == "Up" for c in circuits), circuits
    [s] = check(link, [LINK])
    assert s.ok and s.other == 0, s  # the hellos went inside ESP too


def test_a_key_mismatch_takes_the_sa_down_and_check_names_the_link(guest, link):
    link.script(restart_script(PE, [WRONG]))
    [s] = _until(lambda: check(link, [LINK]), lambda st: st[0].auth_failed)
    assert not s.ok and not s.sa_b, s
    assert s.link == f"{CE} eth1 ↔ {PE} eth5"
    assert "no IPsec SA on the b end: IKE authentication failed (pre-shared key mismatch?)" in s.problems()
    assert s.other == 0, "with no SA the trap policies hold the GRE back: nothing in clear"
    assert guest.run(f"ip netns exec {CE} ping -c2 -W1 10.9.0.1").returncode != 0
    log = guest.run(f"cat /run/netgen-ipsec/{PE}/charon.log /run/netgen-ipsec/{CE}/charon.log").stdout
    assert LINK.psk not in log and WRONG.psk not in log and LINK.psk.encode().hex() not in log


def test_teardown_leaves_nothing_of_ipsec(guest, link):
    pids = guest.run("cat /run/netgen-ipsec/*/charon.pid").stdout.split()
    assert len(pids) == 2
    link.script(teardown_script([LINK]))
    left = guest.run(f"ls /run/netgen-ipsec; for p in {' '.join(pids)}; do kill -0 $p 2>/dev/null && echo pid $p; "
                     f"done; ip -n {CE} -br link; ip -n {PE} -br link; ip -n {INET} -br link; "
                     f"ip netns exec {INET} nft list tables; ip -n {CE} xfrm state; ip -n {CE} xfrm policy").stdout
    # gre0, gretap0, erspan0: ip_gre's fallback devices, in every namespace once the module is used
    # (they go with the namespace)
    names = [line.split()[0].split("@")[0] for line in left.splitlines() if line.strip()]
    assert set(names) <= {"lo", "gre0", "gretap0", "erspan0"}, left
