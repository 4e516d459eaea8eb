"""Internet-carried links inside IPsec: a gretap over an "Internet" namespace, ESP transport on it.

A link of the model with `ipsec=True` is not a veth pair in the lab. Instead each end gets:
- an underlay veth `u<port>` from its router namespace into the Internet namespace (`ipsec<n>a`/
  `ipsec<n>b` there), each end on its own /31 of a lab-owned block, the Internet namespace routing
  between them (connected routes, forwarding on);
- a gretap named `eth<port>` over that underlay — the name the rendered FRR config uses, so IS-IS,
  LDP and MPLS run on it unchanged (LAB-NOTES, second half: measured with MTU 1400);
- one strongSwan charon per router namespace (IKEv2, PSK, ESP *transport* mode for everything
  between the two underlay addresses, GRE above all) with trap policies, initiated by the setup
  from the `a` end so the SA is up without traffic; under them a kernel block policy, so nothing
  leaves for the far end in clear even while charon (re)starts.

And the Internet namespace gets a watch: an nftables table counting, per link, ESP, IKE (udp 500/
4500) and anything else forwarded between the link's underlay addresses. `check_script` +
`parse_check` turn the SAs on both ends and those counters into a LinkStatus per link.

Each charon has its own /run: `ip netns exec` gives every command a new mount namespace
(ip-netns(8)), in which the per-namespace directory /run/netgen-ipsec/<ns> is bind-mounted over
/run — charon's pid file path is compiled in, two charons sharing /run collide (LAB-NOTES). The
directory stays visible from outside at its own path: pid file, vici socket, log, and the
swanctl.conf holding the keys (0600, in a 0700 directory on the /run tmpfs).

The scripts this module returns carry the PSKs (hex) in their text: hand them to a Runner, never
to a log. Nothing here runs a process except `check`, through the Runner it is given.
"""
from __future__ import annotations

import ipaddress
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Iterable

from .system import LabError

# Lab-owned underlay space: the first block that nothing in the model uses (pass the model's
# networks to `underlay_block`). Benchmarking space (RFC 2544) beside topology.INTERNET_BLOCKS'
# 198.18.255.0/24, then shared address space (RFC 6598). A link takes 4 addresses: a /16 holds
# 16384 links.
UNDERLAY_BLOCKS = tuple(ipaddress.IPv4Network(b) for b in ("198.19.0.0/16", "100.126.0.0/16"))
GRE_MTU = 1400  # LAB-NOTES: IS-IS, LDP and MPLS measured inside ESP with this MTU on the gretap
# Below every policy charon installs (its priorities are ~100000-400000; larger = weaker).
FALLBACK_PRIORITY = 1000000000
STATE_DIR = "/run/netgen-ipsec"  # one 0700 directory per router namespace: that charon's /run
WATCH_TABLE = "netgen_ipsec"
CHARON = "/usr/lib/ipsec/charon"
# Only what IKEv2 with a PSK needs (strongswan.conf(5) `charon.load`); no openssl here: MODP via
# gmp. Fewer plugins, faster start under TCG. vici: swanctl's socket.
PLUGINS = "random nonce aes sha1 sha2 hmac kdf gmp xcbc kernel-netlink socket-default vici"
IKE_PROPOSAL = "aes256-sha256-modp2048"
ESP_PROPOSAL = "aes256-sha256-modp2048"


@dataclass(frozen=True)
class End:
    netns: str  # the router's namespace
    port: str  # the interface name the rendered config uses: eth<port>

    @property
    def underlay(self) -> str:
        """The underlay veth's name in the router namespace: u<port>."""
        return "u" + self.port.removeprefix("eth")


@dataclass(frozen=True)
class IpsecLink:
    """One Internet-carried link. Underlay addresses: the index-th /30 of `block` — a end .0 (the
    Internet's side .1), b end .2 (.3)."""

    a: End
    b: End
    index: int
    internet: str  # the Internet namespace
    psk: str = field(repr=False)
    block: ipaddress.IPv4Network = UNDERLAY_BLOCKS[0]

    def __post_init__(self):
        if not 0 <= self.index < self.block.num_addresses // 4:
            raise LabError(f"IPsec link {self.index}: the underlay block {self.block} holds "
                           f"{self.block.num_addresses // 4} links; use a larger one")
        if not self.psk:
            raise LabError(f"IPsec link {self.name}: empty pre-shared key")

    @property
    def name(self) -> str:
        return f"{self.a.netns} {self.a.port} ↔ {self.b.netns} {self.b.port}"

    def _addr(self, n: int) -> ipaddress.IPv4Address:
        return self.block.network_address + 4 * self.index + n

    @property
    def a_addr(self) -> ipaddress.IPv4Address:
        return self._addr(0)

    @property
    def b_addr(self) -> ipaddress.IPv4Address:
        return self._addr(2)

    def inet_ifname(self, side: str) -> str:
        return f"ipsec{self.index}{side}"

    @property
    def conn(self) -> str:
        return f"l{self.index}"


@dataclass(frozen=True)
class LinkStatus:
    link: str  # IpsecLink.name
    sa_a: bool  # ESP states both ways installed in the a end's namespace
    sa_b: bool
    esp: int  # packets the Internet forwarded between the underlay addresses
    ike: int
    other: int  # neither ESP nor IKE: must be 0
    charon_a: bool = True  # the end's charon is running
    charon_b: bool = True
    auth_failed: bool = False  # either charon logged an IKE authentication failure
    watched: bool = True  # the Internet namespace has the link's counters

    @property
    def ok(self) -> bool:
        return self.sa_a and self.sa_b and self.watched and self.esp > 0 and self.other == 0

    def problems(self) -> list[str]:
        """What is wrong, in words verify can print after the link's name."""
        out = []
        for side, sa, charon in (("a", self.sa_a, self.charon_a), ("b", self.sa_b, self.charon_b)):
            if not charon:
                out.append(f"no IKE daemon running on the {side} end")
            elif not sa:
                why = "IKE authentication failed (pre-shared key mismatch?)" if self.auth_failed else "IKE failed"
                out.append(f"no IPsec SA on the {side} end: {why}")
        if not self.watched:
            out.append(f"no counters on the Internet side (nft table {WATCH_TABLE} missing)")
        elif self.other:
            out.append(f"{self.other} packet(s) neither ESP nor IKE seen on the Internet (clear text)")
        if self.sa_a and self.sa_b and self.watched and not self.esp:
            out.append("no ESP seen on the Internet (no traffic crossed the tunnel)")
        return out


def underlay_block(used: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The first of UNDERLAY_BLOCKS that overlaps none of `used` (the model's networks, the lab's
    Internet block)."""
    used = list(used)
    for block in UNDERLAY_BLOCKS:
        if not any(block.overlaps(u) for u in used):
            return block
    raise LabError("every block the lab's IPsec underlay could use is taken by the intent: "
                   + ", ".join(map(str, UNDERLAY_BLOCKS)))


def _by_netns(links: list[IpsecLink]) -> dict[str, list[IpsecLink]]:
    out: dict[str, list[IpsecLink]] = {}
    for link in links:
        for end in (link.a, link.b):
            out.setdefault(end.netns, []).append(link)
    return out


def _dir(netns: str) -> str:
    return f"{STATE_DIR}/{netns}"


def _heredoc(command: str, text: str, then: str = "") -> str:
    return f"{command} <<'EOF'{then}\n{text}EOF"


# ------------------------------------------------------------------ set up


def setup_script(links: list[IpsecLink]) -> str:
    """Underlays, gretaps, the Internet's routing and watch, and a charon per router namespace
    with IPsec links, on namespaces that exist (the Internet's is made if missing) and hold none
    of these interfaces yet. Run it before the MPLS sysctls on `eth<port>` and before FRR's
    config is loaded."""
    if not links:
        return ""
    internets = {link.internet for link in links}
    if len(internets) != 1:
        raise LabError(f"IPsec links cross more than one Internet namespace: {', '.join(sorted(internets))}")
    inet = internets.pop()
    q = shlex.quote
    by_ns = _by_netns(links)
    # charons first: their start (1-3 s under TCG) overlaps the interfaces' set-up
    out = ["set -e", f"[ -e /run/netns/{q(inet)} ] || ip netns add {q(inet)}", *_start_lines(by_ns)]
    inet_lines = ["link set lo up"]
    router_lines: dict[str, list[str]] = {}
    gre_lines: dict[str, list[str]] = {}
    for link in links:
        for side, end, here, there in (("a", link.a, link.a_addr, link.b_addr),
                                       ("b", link.b, link.b_addr, link.a_addr)):
            gw = here + 1
            out.append(f"ip link add {end.underlay} netns {q(end.netns)} type veth peer name "
                       f"{link.inet_ifname(side)} netns {q(inet)}")
            inet_lines += [f"addr add {gw}/31 dev {link.inet_ifname(side)}", f"link set {link.inet_ifname(side)} up"]
            router_lines.setdefault(end.netns, ["link set lo up"]).extend([
                f"addr add {here}/31 dev {end.underlay}", f"link set {end.underlay} up",
                f"route add {there}/32 via {gw} dev {end.underlay}",
                # the floor under charon's policies: while its own are not in (charon starting,
                # restarting: seen, IS-IS hellos went out in clear) nothing leaves for the far end.
                # A /31 selector, so charon's /32 one never replaces it; its IKE sockets bypass it.
                f"xfrm policy add src {here}/31 dst {there}/31 dir out action block priority {FALLBACK_PRIORITY}"])
            gre_lines.setdefault(end.netns, []).extend([
                f"link add {end.port} mtu {GRE_MTU} type gretap local {here} remote {there} ttl 64",
                f"link set {end.port} up"])
    out.append(_heredoc(f"ip -n {q(inet)} -batch -", "\n".join(inet_lines) + "\n"))
    out += [_heredoc(f"ip -n {q(ns)} -batch -", "\n".join(lines) + "\n") for ns, lines in router_lines.items()]
    out.append(f"ip netns exec {q(inet)} sysctl -q -w net.ipv4.ip_forward=1")
    out.append(_heredoc(f"ip netns exec {q(inet)} nft -f -", watch_ruleset(links)))
    out += _load_lines(by_ns, [(link.a.netns, link) for link in links])
    # the gretaps only once the SAs (or trap policies) are in: an interface coming up sends at once
    # (IPv6 router solicitations, seen as clear-text GRE on the Internet when it came up first)
    out += [_heredoc(f"ip -n {q(ns)} -batch -", "\n".join(lines) + "\n") for ns, lines in gre_lines.items()]
    return "\n".join(out) + "\n"


def watch_ruleset(links: list[IpsecLink]) -> str:
    """The Internet's watch: per link, named counters for ESP, IKE and the rest, forwarded between
    its underlay addresses. Counting only (policy accept): the trap policies keep anything from
    leaving in clear; this proves it. Replaces the table if present (add + delete + define)."""
    counters, rules, chains = [], [], []
    for link in links:
        c = link.conn
        counters += [f"  counter {c}_{kind} {{}}" for kind in ("esp", "ike", "other")]
        pair = f"{{ {link.a_addr}, {link.b_addr} }}"
        rules.append(f"    ip saddr {pair} ip daddr {pair} jump {c}")
        chains.append(f"  chain {c} {{\n    ip protocol esp counter name {c}_esp accept\n"
                      f"    udp dport {{ 500, 4500 }} counter name {c}_ike accept\n"
                      f"    counter name {c}_other\n  }}")
    return "\n".join([
        f"table ip {WATCH_TABLE} {{}}", f"delete table ip {WATCH_TABLE}", f"table ip {WATCH_TABLE} {{",
        *counters, "  chain forward {", "    type filter hook forward priority 0; policy accept;",
        *rules, "  }", *chains, "}"]) + "\n"


def strongswan_conf() -> str:
    """charon's settings, as it sees them (its /run is the namespace's directory)."""
    return ("charon {\n"
            f"  load = {PLUGINS}\n"
            "  install_routes = no\n"  # transport mode: no routes; leave the router's tables to FRR
            "  install_virtual_ip = no\n"
            "  filelog {\n    log {\n      path = /run/charon.log\n      time_format = %T\n"
            "      default = 1\n      flush_line = yes\n    }\n  }\n"  # level 1: states and errors, never keys
            "}\n"
            "swanctl {\n  load = random\n}\n")  # swanctl only talks vici: no default plugin noise


def swanctl_conf(netns: str, links: list[IpsecLink]) -> str:
    """Connections and PSKs of one router namespace (swanctl.conf(5), strongSwan 5.9.8): IKEv2,
    addresses as identities, ESP transport for all traffic between the two underlay addresses —
    GRE, and the ICMP errors about it (a gretap not up yet answers GRE with a port unreachable,
    seen in clear on the Internet when only GRE was protected); IKE passes by charon's own socket
    bypass policies. Trap policies, no start: `_load_lines` initiates. The key goes in hex
    (`0x…`), so no character of it needs quoting."""
    conns, secrets = [], []
    for link in links:
        here, there = (link.a_addr, link.b_addr) if link.a.netns == netns else (link.b_addr, link.a_addr)
        conns.append(
            f"  {link.conn} {{\n    version = 2\n    local_addrs = {here}\n    remote_addrs = {there}\n"
            f"    proposals = {IKE_PROPOSAL}\n    dpd_delay = 10s\n"
            f"    local {{\n      auth = psk\n      id = {here}\n    }}\n"
            f"    remote {{\n      auth = psk\n      id = {there}\n    }}\n"
            f"    children {{\n      gre {{\n        mode = transport\n        local_ts = {here}/32\n"
            f"        remote_ts = {there}/32\n        esp_proposals = {ESP_PROPOSAL}\n"
            f"        start_action = trap\n        dpd_action = trap\n      }}\n    }}\n  }}")
        secrets.append(f"  ike-{link.conn} {{\n    id-1 = {here}\n    id-2 = {there}\n"
                       f"    secret = 0x{link.psk.encode().hex()}\n  }}")
    return "connections {\n" + "\n".join(conns) + "\n}\nsecrets {\n" + "\n".join(secrets) + "\n}\n"


def _start_lines(by_ns: dict[str, list[IpsecLink]]) -> list[str]:
    """In a subshell (umask 077: the keys' file 0600, its directory 0700), write each namespace's
    files and start its charon over its own /run."""
    q = shlex.quote
    out = ["(", "umask 077", f"mkdir -p {STATE_DIR}"]
    for ns, links in by_ns.items():
        d = q(_dir(ns))
        out += [f"mkdir -p {d}", _heredoc(f"cat > {d}/strongswan.conf", strongswan_conf()),
                _heredoc(f"cat > {d}/swanctl.conf", swanctl_conf(ns, links)),
                # ip netns exec: a fresh mount namespace per command (ip-netns(8)), so the bind over
                # /run is this charon's alone
                f"ip netns exec {q(ns)} sh -c 'mount --bind \"$0\" /run && export STRONGSWAN_CONF=/run/strongswan.conf "
                f"&& exec {CHARON}' {d} </dev/null >{d}/charon.out 2>&1 &"]
    return [*out, ")"]


def _load_lines(by_ns: dict[str, list[IpsecLink]], initiate: list[tuple[str, IpsecLink]]) -> list[str]:
    """Wait for the charons' vici sockets, load every namespace's connections (trap policies: from
    here on nothing between the underlay addresses leaves in clear), then initiate each link from
    one end and wait up to 10 s for it (a failure is check's to report, not setup's). Initiating
    once every end is loaded, from one end, before the gretaps send: no IKE request meets an
    unloaded peer (NO_PROPOSAL_CHOSEN, seen) and no acquire from the other end races it into a
    second pair of SAs (seen with `start_action = start` on one end). In parallel: each swanctl
    start costs ~0.5 s under TCG."""
    q = shlex.quote
    out = []
    for ns in by_ns:
        d = q(_dir(ns))
        out.append(f"i=0; until [ -S {d}/charon.vici ]; do i=$((i+1)); if [ $i -gt 300 ]; then "
                   f"echo \"charon in {ns} did not start: $(tail -3 {d}/charon.out {d}/charon.log)\" >&2; exit 1; "
                   "fi; sleep 0.1; done")

    def swanctl(ns: str, args: str) -> str:
        d = q(_dir(ns))
        return f"STRONGSWAN_CONF={d}/strongswan.conf swanctl {args} --uri unix://{d}/charon.vici >/dev/null"

    out.append("pids=")
    out += [swanctl(ns, f"--load-all --noprompt --debug 0 --file {q(_dir(ns))}/swanctl.conf") + ' & pids="$pids $!"'
            for ns in by_ns]
    out.append('for p in $pids; do wait $p || { echo "swanctl could not load an IPsec configuration" >&2; exit 1; }; '
               "done")
    out.append("pids=")
    out += [swanctl(ns, f"--initiate --child gre --ike {link.conn} --timeout 10") + ' 2>&1 & pids="$pids $!"'
            for ns, link in initiate]
    return [*out, "wait $pids || true"]  # only these: the charons are children of this shell too


def _stop_lines(namespaces: Iterable[str]) -> list[str]:
    """Stop the charons of these namespaces by their pid files (SIGTERM: they delete their SAs and
    policies), wait for them to exit, remove their directories."""
    out = []
    for ns in namespaces:
        d = shlex.quote(_dir(ns))
        out.append(f"if [ -f {d}/charon.pid ]; then read p < {d}/charon.pid; kill $p 2>/dev/null || true; i=0; "
                   f"while kill -0 $p 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done; fi; rm -rf {d}")
    return out


def restart_script(netns: str, links: list[IpsecLink]) -> str:
    """Restart one namespace's charon with `links` (all of its IPsec links, keys as given)."""
    mine = [link for link in links if netns in (link.a.netns, link.b.netns)]
    return "\n".join(["set -e", *_stop_lines([netns]), *_start_lines({netns: mine}),
                      *_load_lines({netns: mine}, [(netns, link) for link in mine])]) + "\n"


def teardown_script(links: list[IpsecLink]) -> str:
    """Everything setup_script made, but the namespaces: charons, their directories, underlays and
    gretaps, the watch table. Tolerates what is already gone. Per router namespace, as the charon
    is: the namespaces' other IPsec links lose their charon too — pass them all."""
    q = shlex.quote
    out = _stop_lines(_by_netns(links))
    for link in links:
        for end, here, there in ((link.a, link.a_addr, link.b_addr), (link.b, link.b_addr, link.a_addr)):
            # acquire states (spi 0) outlive charon, and `xfrm state deleteall` does not reach them
            # (seen): flush the namespace's ESP states, which only its charon made
            lines = [f"link del {end.port}", f"link del {end.underlay}",
                     f"xfrm policy delete src {here}/31 dst {there}/31 dir out", "xfrm state flush proto esp"]
            out.append(_heredoc(f"ip -n {q(end.netns)} -force -batch - 2>/dev/null", "\n".join(lines) + "\n", " || true"))
    for inet in sorted({link.internet for link in links}):
        out.append(f"ip netns exec {q(inet)} nft delete table ip {WATCH_TABLE} 2>/dev/null || true")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ check

_MARK = "@@netgen-ipsec"


def check_script(links: list[IpsecLink]) -> str:
    """One script: each router namespace's xfrm states and charon liveness and auth failures, the
    Internet's counters (JSON). Sections start with a marker line parse_check reads."""
    q = shlex.quote
    out = []
    for ns in _by_netns(links):
        d = q(_dir(ns))
        out += [f"echo '{_MARK} xfrm {ns}'", f"ip -n {q(ns)} xfrm state",
                f"echo '{_MARK} charon {ns}'",
                f"if [ -f {d}/charon.pid ] && read p < {d}/charon.pid && kill -0 $p 2>/dev/null; then echo up; fi",
                # level-1 log lines of a PSK mismatch: the initiator is told AUTHENTICATION_FAILED,
                # the responder finds the MAC mismatched (charon.log captured in the lab guest)
                f"grep -c -e AUTHENTICATION_FAILED -e 'MAC mismatched' {d}/charon.log 2>/dev/null || true"]
    for inet in sorted({link.internet for link in links}):
        out += [f"echo '{_MARK} nft {inet}'",
                f"ip netns exec {q(inet)} nft -j list counters table ip {WATCH_TABLE} 2>/dev/null || true"]
    # no key material leaves the namespaces: `ip xfrm state` prints the ESP keys
    return "{\n" + "\n".join(out) + "\n} | grep -v -E '^[[:space:]]+(auth|auth-trunc|enc|aead|comp) '\n"


def check(runner, links: list[IpsecLink]) -> list[LinkStatus]:
    return parse_check(runner.script(check_script(links), timeout=120).stdout, links)


_STATE = re.compile(r"^src (\S+) dst (\S+)\s*\n\s+proto esp spi 0x(?!0{8})[0-9a-f]+ reqid \d+ mode (\w+)", re.M)


def parse_check(output: str, links: list[IpsecLink]) -> list[LinkStatus]:
    """The per-link status from check_script's output."""
    sections: dict[tuple[str, str], str] = {}
    for part in output.split(_MARK + " ")[1:]:
        head, _, body = part.partition("\n")
        kind, _, where = head.strip().partition(" ")
        sections[(kind, where)] = body
    counters: dict[tuple[str, str], int] = {}
    for (kind, inet), body in sections.items():
        if kind == "nft" and body.strip():
            for item in json.loads(body)["nftables"]:
                if "counter" in item:
                    counters[(inet, item["counter"]["name"])] = item["counter"]["packets"]
    out = []
    for link in links:
        def sa(ns: str) -> bool:
            states = {(s, d) for s, d, mode in _STATE.findall(sections.get(("xfrm", ns), "")) if mode == "transport"}
            return {(str(link.a_addr), str(link.b_addr)), (str(link.b_addr), str(link.a_addr))} <= states

        def charon(ns: str) -> tuple[bool, int]:
            lines = sections.get(("charon", ns), "").split()
            return "up" in lines, sum(int(x) for x in lines if x.isdigit())

        (up_a, fail_a), (up_b, fail_b) = charon(link.a.netns), charon(link.b.netns)
        count = {k: counters.get((link.internet, f"{link.conn}_{k}")) for k in ("esp", "ike", "other")}
        watched = None not in count.values()
        out.append(LinkStatus(link.name, sa(link.a.netns), sa(link.b.netns), count["esp"] or 0, count["ike"] or 0,
                              count["other"] or 0, up_a, up_b, bool(fail_a or fail_b), watched))
    return out
