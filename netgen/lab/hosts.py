"""Department hosts, the Internet, and the exits' NAT firewall (nftables) in the lab."""
from __future__ import annotations

from .system import ip_batch, run
from .topology import ExitSpec, HostSpec, Topology


def host_lines(h: HostSpec) -> list[str]:
    """`ip -batch` lines that address a department host on its `eth0`."""
    lines = ["link set lo up", "link set eth0 up"]
    if h.ipv4:
        lines += [f"addr replace {h.ipv4} dev eth0", f"route replace default via {h.gateway4}"]
    if h.ipv6:
        lines += [f"addr replace {h.ipv6} dev eth0 nodad", f"route replace default via {h.gateway6}"]
    return lines


def configure_host(h: HostSpec) -> None:
    ip_batch(host_lines(h), h.netns)


def internet_lines(topo: Topology) -> tuple[list[str], list[str]]:
    """The Internet: the ISP gateway of each exit, a server, and a route back to each NAT pool
    only — department LANs are not routable on the Internet. Each exit's attacker address has a
    routing table of its own whose default route leads into that exit. Returns the `ip -batch`
    lines and the `ip rule add` lines (not idempotent: the caller deletes them first)."""
    lines = ["link set lo up", "addr flush dev lo scope global", f"addr replace {topo.internet_server}/32 dev lo"]
    rules = []
    for x in topo.exits:
        lines += [f"link set {x.inet_ifname} up", f"addr replace {x.gateway}/{x.address.network.prefixlen} "
                  f"dev {x.inet_ifname}", f"route replace {x.nat_pool} via {x.address.ip}"]
        if x.attacker is not None:
            lines += [f"addr replace {x.attacker}/32 dev lo",
                      f"route replace default via {x.address.ip} dev {x.inet_ifname} table {x.attacker_table}"]
            rules.append(f"rule add from {x.attacker} lookup {x.attacker_table} priority {x.attacker_table}")
    return lines, rules


def configure_internet(topo: Topology) -> None:
    lines, rules = internet_lines(topo)
    ip_batch(lines, topo.internet_netns)
    # `ip rule add` is not idempotent: drop this lab's rules first (absent ones are fine).
    ip_batch([r.replace("rule add", "rule del", 1) for r in rules], topo.internet_netns, force=True)
    ip_batch(rules, topo.internet_netns)


def nat_firewall(x: ExitSpec) -> str:
    """The exit's ruleset, in its internet VRF: source NAT to the model's pool on the way out,
    and a stateful firewall that lets nothing in from the Internet that was not asked for."""
    return f"""table inet netgen-exit
delete table inet netgen-exit
table inet netgen-exit {{
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname "{x.ifname}" ct state established,related accept
    iifname "{x.ifname}" counter drop comment "default deny from the Internet"
  }}
  chain input {{
    type filter hook input priority filter; policy accept;
    iifname "{x.ifname}" ct state established,related accept
    iifname "{x.ifname}" counter drop
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    oifname "{x.ifname}" ip saddr != {x.address.ip} snat ip to {x.nat_first}-{x.nat_last}
  }}
}}
"""


def configure_exit(x: ExitSpec) -> None:
    run(["ip", "netns", "exec", x.vrf_netns, "nft", "-f", "-"], input=nat_firewall(x))
