"""netgen.lab.ipsec without root: the scripts and ruleset it generates, and parse_check on output
captured from the real daemons.

The three captures are check_script's output in the lab guest (Debian kernel 6.1, strongSwan
5.9.8, nftables 1.0.6) for the link r1 eth1 <-> r2 eth3 (index 0, 198.19.0.0/16), taken with
`ssh -F <guest>/ssh_config guest 'sh -s' < check.sh` after setup_script:
- UP: SAs established, a ping across the gretap;
- DOWN: after restart_script on r2 with another PSK (only the larval `spi 0x00000000` acquire
  states left, both charons logging the authentication failure);
- CLEAR: an earlier version that brought the gretaps up before the trap policies: the SAs came up,
  but 3 packets crossed the Internet in clear (ICMP errors about GRE, seen with an nft log rule).
"""
from __future__ import annotations

import ipaddress
import re
import subprocess

import pytest

from netgen.lab import ipsec
from netgen.lab.ipsec import End, IpsecLink, LinkStatus
from netgen.lab.system import LabError

PSK = 's3cr"et $(reboot)'
LINK = IpsecLink(End("r1", "eth1"), End("r2", "eth3"), 0, "inet", PSK)

UP = """\
@@netgen-ipsec xfrm r1
src 198.19.0.0 dst 198.19.0.2
	proto esp spi 0xc491913e reqid 1 mode transport
	replay-window 0 
	anti-replay context: seq 0x0, oseq 0x6, bitmap 0x00000000
	sel src 198.19.0.0/32 dst 198.19.0.2/32 
src 198.19.0.2 dst 198.19.0.0
	proto esp spi 0xc5a92916 reqid 1 mode transport
	replay-window 32 
	anti-replay context: seq 0x7, oseq 0x0, bitmap 0x0000007f
	sel src 198.19.0.2/32 dst 198.19.0.0/32 
@@netgen-ipsec charon r1
up
0
@@netgen-ipsec xfrm r2
src 198.19.0.2 dst 198.19.0.0
	proto esp spi 0xc5a92916 reqid 1 mode transport
	replay-window 0 
	anti-replay context: seq 0x0, oseq 0x7, bitmap 0x00000000
	sel src 198.19.0.2/32 dst 198.19.0.0/32 
src 198.19.0.0 dst 198.19.0.2
	proto esp spi 0xc491913e reqid 1 mode transport
	replay-window 32 
	anti-replay context: seq 0x6, oseq 0x0, bitmap 0x0000003f
	sel src 198.19.0.0/32 dst 198.19.0.2/32 
@@netgen-ipsec charon r2
up
0
@@netgen-ipsec nft inet
{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"counter": {"family": "ip", "name": "l0_esp", "table": "netgen_ipsec", "handle": 3, "packets": 14, "bytes": 2168}}, {"counter": {"family": "ip", "name": "l0_ike", "table": "netgen_ipsec", "handle": 4, "packets": 12, "bytes": 2476}}, {"counter": {"family": "ip", "name": "l0_other", "table": "netgen_ipsec", "handle": 5, "packets": 0, "bytes": 0}}]}
"""
DOWN = """\
@@netgen-ipsec xfrm r1
src 198.19.0.0 dst 198.19.0.2
	proto esp spi 0x00000000 reqid 1 mode transport
	replay-window 0 
	anti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
	sel src 198.19.0.0/32 dst 198.19.0.2/32 proto gre key 0 dev u1 
@@netgen-ipsec charon r1
up
3
@@netgen-ipsec xfrm r2
src 198.19.0.2 dst 198.19.0.0
	proto esp spi 0x00000000 reqid 1 mode transport
	replay-window 0 
	anti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
	sel src 198.19.0.2/32 dst 198.19.0.0/32 proto gre key 0 dev u3 
@@netgen-ipsec charon r2
up
3
@@netgen-ipsec nft inet
{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"counter": {"family": "ip", "name": "l0_esp", "table": "netgen_ipsec", "handle": 3, "packets": 15, "bytes": 2308}}, {"counter": {"family": "ip", "name": "l0_ike", "table": "netgen_ipsec", "handle": 4, "packets": 26, "bytes": 7024}}, {"counter": {"family": "ip", "name": "l0_other", "table": "netgen_ipsec", "handle": 5, "packets": 0, "bytes": 0}}]}
"""
CLEAR = """\
@@netgen-ipsec xfrm r1
src 198.19.0.0 dst 198.19.0.2
	proto esp spi 0xcf06091a reqid 1 mode transport
	replay-window 0 
	anti-replay context: seq 0x0, oseq 0x1, bitmap 0x00000000
	sel src 198.19.0.0/32 dst 198.19.0.2/32 
src 198.19.0.2 dst 198.19.0.0
	proto esp spi 0xccf71763 reqid 1 mode transport
	replay-window 32 
	anti-replay context: seq 0x1, oseq 0x0, bitmap 0x00000001
	sel src 198.19.0.2/32 dst 198.19.0.0/32 
@@netgen-ipsec charon r1
up
0
@@netgen-ipsec xfrm r2
src 198.19.0.2 dst 198.19.0.0
	proto esp spi 0xccf71763 reqid 1 mode transport
	replay-window 0 
	anti-replay context: seq 0x0, oseq 0x1, bitmap 0x00000000
	sel src 198.19.0.2/32 dst 198.19.0.0/32 
src 198.19.0.0 dst 198.19.0.2
	proto esp spi 0xcf06091a reqid 1 mode transport
	replay-window 32 
	anti-replay context: seq 0x1, oseq 0x0, bitmap 0x00000001
	sel src 198.19.0.0/32 dst 198.19.0.2/32 
@@netgen-ipsec charon r2
up
0
@@netgen-ipsec nft inet
{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"counter": {"family": "ip", "name": "l0_esp", "table": "netgen_ipsec", "handle": 3, "packets": 2, "bytes": 280}}, {"counter": {"family": "ip", "name": "l0_ike", "table": "netgen_ipsec", "handle": 4, "packets": 8, "bytes": 2390}}, {"counter": {"family": "ip", "name": "l0_other", "table": "netgen_ipsec", "handle": 5, "packets": 3, "bytes": 338}}]}
"""


def test_underlay_addresses_are_the_links_own_30():
    link = IpsecLink(End("pe", "eth5"), End("ce", "eth1"), 3, "inet", "k", ipaddress.IPv4Network("100.126.0.0/16"))
    assert (str(link.a_addr), str(link.b_addr)) == ("100.126.0.12", "100.126.0.14")
    assert (link.a.underlay, link.inet_ifname("b"), link.conn) == ("u5", "ipsec3b", "l3")
    with pytest.raises(LabError, match="holds 64 links"):
        IpsecLink(End("a", "eth1"), End("b", "eth1"), 64, "inet", "k", ipaddress.IPv4Network("198.19.0.0/24"))


def test_the_underlay_block_is_one_the_model_does_not_use():
    assert ipsec.underlay_block([ipaddress.IPv4Network("10.0.0.0/8")]) == ipsec.UNDERLAY_BLOCKS[0]
    assert ipsec.underlay_block([ipaddress.IPv4Network("198.19.4.0/24")]) == ipsec.UNDERLAY_BLOCKS[1]
    with pytest.raises(LabError, match="taken by the intent"):
        ipsec.underlay_block([ipaddress.IPv4Network("0.0.0.0/0")])


def test_the_psk_is_never_in_the_specs_repr_and_goes_to_swanctl_in_hex():
    assert PSK not in repr(LINK)
    conf = ipsec.swanctl_conf("r1", [LINK])
    assert PSK not in conf and f"secret = 0x{PSK.encode().hex()}" in conf
    script = ipsec.setup_script([LINK])
    assert PSK not in script
    # the files holding it are written under umask 077, in a subshell (not leaking the umask)
    assert re.search(r"^\(\numask 077\n(.*\n)*cat > /run/netgen-ipsec/r1/swanctl.conf <<'EOF'\n", script, re.M)


def test_each_end_protects_all_traffic_between_the_underlay_addresses_in_transport_mode():
    a, b = ipsec.swanctl_conf("r1", [LINK]), ipsec.swanctl_conf("r2", [LINK])
    assert "local_addrs = 198.19.0.0" in a and "remote_addrs = 198.19.0.2" in a
    assert "local_ts = 198.19.0.2/32" in b and "remote_ts = 198.19.0.0/32" in b
    for conf in (a, b):
        assert "version = 2" in conf and "mode = transport" in conf and "auth = psk" in conf
        assert "start_action = trap" in conf and "start_action = trap|start" not in conf


def test_setup_script_order_charons_then_interfaces_then_sas_then_gretaps():
    script = ipsec.setup_script([LINK])
    steps = [script.index(s) for s in (
        "exec /usr/lib/ipsec/charon", "ip link add u1 netns r1 type veth peer name ipsec0a netns inet",
        "nft -f -", "swanctl --load-all", "swanctl --initiate --child gre --ike l0",
        "link add eth1 mtu 1400 type gretap local 198.19.0.0 remote 198.19.0.2 ttl 64")]
    assert steps == sorted(steps)
    assert "route add 198.19.0.2/32 via 198.19.0.1 dev u1" in script
    # the initiation runs from the a end only
    assert script.count("--initiate") == 1 and "unix:///run/netgen-ipsec/r1/charon.vici" in script
    # the wait is for the swanctl jobs, never for the charons (they are the shell's children too)
    assert "wait $pids" in script and "\nwait\n" not in script


def test_a_block_policy_under_charons_keeps_the_far_end_from_clear_text():
    script = ipsec.setup_script([LINK])
    assert "xfrm policy add src 198.19.0.0/31 dst 198.19.0.2/31 dir out action block priority 1000000000" in script
    assert "xfrm policy add src 198.19.0.2/31 dst 198.19.0.0/31 dir out action block priority 1000000000" in script
    down = ipsec.teardown_script([LINK])
    assert "ip -n r1 -force -batch - 2>/dev/null <<'EOF' || true\nlink del eth1\nlink del u1\n" \
           "xfrm policy delete src 198.19.0.0/31 dst 198.19.0.2/31 dir out\n" in down
    assert "xfrm state flush proto esp\n" in down
    assert "kill $p" in down and "rm -rf /run/netgen-ipsec/r2" in down


def test_setup_script_is_valid_sh():
    for script in (ipsec.setup_script([LINK]), ipsec.check_script([LINK]), ipsec.teardown_script([LINK]),
                   ipsec.restart_script("r2", [LINK])):
        assert subprocess.run(["sh", "-n"], input=script, text=True).returncode == 0


def test_links_in_two_internets_are_refused():
    other = IpsecLink(End("r3", "eth1"), End("r4", "eth1"), 1, "inet2", "k")
    with pytest.raises(LabError, match="more than one Internet"):
        ipsec.setup_script([LINK, other])


def test_watch_ruleset_counts_esp_ike_and_the_rest_per_link():
    two = IpsecLink(End("r3", "eth2"), End("r4", "eth7"), 1, "inet", "k")
    rules = ipsec.watch_ruleset([LINK, two])
    assert rules.startswith("table ip netgen_ipsec {}\ndelete table ip netgen_ipsec\n")
    assert "ip saddr { 198.19.0.4, 198.19.0.6 } ip daddr { 198.19.0.4, 198.19.0.6 } jump l1" in rules
    assert "ip protocol esp counter name l0_esp accept" in rules
    assert "udp dport { 500, 4500 } counter name l1_ike accept" in rules
    assert "counter name l1_other\n" in rules and "policy accept" in rules


def test_check_script_keeps_the_keys_in_the_namespaces():
    script = ipsec.check_script([LINK])
    assert "ip -n r1 xfrm state" in script and "nft -j list counters table ip netgen_ipsec" in script
    assert script.rstrip().endswith("grep -v -E '^[[:space:]]+(auth|auth-trunc|enc|aead|comp) '")
    assert not re.search(r"auth-trunc|enc cbc", UP)  # what the captures show: no key lines


def test_parse_check_up():
    [s] = ipsec.parse_check(UP, [LINK])
    assert s == LinkStatus(LINK.name, True, True, 14, 12, 0, True, True, False, True)
    assert s.ok and s.problems() == []


def test_parse_check_key_mismatch_names_the_link_and_the_cause():
    [s] = ipsec.parse_check(DOWN, [LINK])
    assert (s.sa_a, s.sa_b, s.other, s.auth_failed) == (False, False, 0, True)
    assert not s.ok
    assert s.problems() == ["no IPsec SA on the a end: IKE authentication failed (pre-shared key mismatch?)",
                            "no IPsec SA on the b end: IKE authentication failed (pre-shared key mismatch?)"]


def test_parse_check_clear_text_on_the_internet():
    [s] = ipsec.parse_check(CLEAR, [LINK])
    assert s.sa_a and s.sa_b and s.other == 3 and not s.ok
    assert s.problems() == ["3 packet(s) neither ESP nor IKE seen on the Internet (clear text)"]


def test_parse_check_without_daemons_or_watch():
    [s] = ipsec.parse_check(UP.replace("\nup\n", "\n").split("@@netgen-ipsec nft")[0], [LINK])
    assert not s.charon_a and not s.charon_b and not s.watched and not s.ok
    assert s.problems() == ["no IKE daemon running on the a end", "no IKE daemon running on the b end",
                            "no counters on the Internet side (nft table netgen_ipsec missing)"]
