"""A small MPLS L3VPN for the lab guest test: PE1 — P — PE2, IS-IS L2 + LDP in the core, BGP VPNv4
between the PEs, VRF `blue` on each PE with a host namespace behind it (PE1's on an 802.1q
sub-interface, real tagged frames). Hand-written FRR 8.4 configs with fast timers (LAB-NOTES:
1 s IS-IS/LDP hellos, 2 s BGP connect); not the frr platform templates (issue 18 will move there).
"""
from __future__ import annotations

ROUTERS = {"pe1": 1, "p": 2, "pe2": 3}  # name → number in its loopback 10.255.0.N and IS-IS NET
CORE = {"pe1": ["eth1"], "p": ["eth1", "eth2"], "pe2": ["eth1"]}
LANS = {"pe1": ("eth2.100", "10.1.1"), "pe2": ("eth2", "10.2.2")}  # PE → (VRF port, /24)
DAEMONS = ["zebra", "isisd", "ldpd", "bgpd"]


def build_script() -> str:
    """Namespaces, veths, VRFs, VLANs, addresses and sysctls: one `ip -batch` per namespace."""
    out = ["set -e", *[f"ip netns add {n}" for n in [*ROUTERS, "h1", "h2"]],
           "ip link add eth1 netns pe1 type veth peer name eth1 netns p",
           "ip link add eth2 netns p type veth peer name eth1 netns pe2",
           "ip link add eth2 netns pe1 type veth peer name eth0 netns h1",
           "ip link add eth2 netns pe2 type veth peer name eth0 netns h2"]
    core = {"pe1": ["10.0.12.1/30"], "p": ["10.0.12.2/30", "10.0.23.2/30"], "pe2": ["10.0.23.1/30"]}
    for r, n in ROUTERS.items():
        lines = ["link set lo up", f"addr add 10.255.0.{n}/32 dev lo"]
        for ifname, addr in zip(CORE[r], core[r]):
            lines += [f"addr add {addr} dev {ifname}", f"link set {ifname} up"]
        mpls_if = list(CORE[r])
        if r in LANS:
            port, net = LANS[r]
            lines += ["link add blue type vrf table 10", "link set blue up", "link set eth2 up"]
            if "." in port:
                lines.append(f"link add link eth2 name {port} type vlan id {port.split('.')[1]}")
            lines += [f"link set {port} master blue", f"addr add {net}.1/24 dev {port}", f"link set {port} up"]
            mpls_if.append("blue")
        out.append(f"ip -n {r} -batch - <<'EOF'\n" + "\n".join(lines) + "\nEOF")
        sysctls = ["net.ipv4.ip_forward=1", "net.mpls.platform_labels=100000",
                   *[f"net.mpls.conf.{i}.input=1" for i in mpls_if]]
        out.append(f"ip netns exec {r} sysctl -q -w {' '.join(sysctls)}")
    for h, (port, net) in zip(("h1", "h2"), LANS.values()):
        dev = "eth0.100" if "." in port else "eth0"
        lines = ["link set lo up", "link set eth0 up"]
        if dev != "eth0":
            lines.append("link add link eth0 name eth0.100 type vlan id 100")
        lines += [f"addr add {net}.2/24 dev {dev}", f"link set {dev} up", f"route add default via {net}.1"]
        out.append(f"ip -n {h} -batch - <<'EOF'\n" + "\n".join(lines) + "\nEOF")
    return "\n".join(out) + "\n"


def start_script() -> str:
    """Four FRR daemons per router, each router its own pathspace (`-N`) in its namespace."""
    out = ["set -e"]
    for r in ROUTERS:
        out.append(f"mkdir -p /etc/frr/{r} /run/frr/{r} && touch /etc/frr/{r}/vtysh.conf && "
                   f"chown frr:frr /etc/frr/{r} /run/frr/{r}")
        out += [f"ip netns exec {r} /usr/lib/frr/{d} -d -N {r} -P 0" for d in DAEMONS]
    return "\n".join(out) + "\n"


def frr_config(r: str) -> str:
    n = ROUTERS[r]
    lines = [f"hostname {r}", "!"]
    for ifname in CORE[r]:
        lines += [f"interface {ifname}", " ip router isis core", " isis network point-to-point",
                  " isis hello-interval 1", " isis hello-multiplier 3", "exit", "!"]
    lines += ["interface lo", " ip router isis core", " isis passive", "exit", "!",
              "router isis core", f" net 49.0001.0000.0000.000{n}.00", " is-type level-2-only",
              " lsp-gen-interval 1", "exit", "!",
              "mpls ldp", f" router-id 10.255.0.{n}", " discovery hello holdtime 3", " discovery hello interval 1",
              " address-family ipv4", f"  discovery transport-address 10.255.0.{n}",
              "  label local allocate host-routes",
              *[f"  interface {i}" for i in CORE[r]], " exit-address-family", "exit", "!"]
    if r in LANS:
        peer = 4 - n  # the other PE: 1 ↔ 3
        lines += ["router bgp 65000", f" bgp router-id 10.255.0.{n}", " no bgp default ipv4-unicast",
                  f" neighbor 10.255.0.{peer} remote-as 65000", f" neighbor 10.255.0.{peer} update-source lo",
                  f" neighbor 10.255.0.{peer} timers 3 9", f" neighbor 10.255.0.{peer} timers connect 2",
                  " address-family ipv4 vpn", f"  neighbor 10.255.0.{peer} activate", " exit-address-family",
                  "exit", "!",
                  "router bgp 65000 vrf blue", f" bgp router-id 10.255.0.{n}", " address-family ipv4 unicast",
                  "  redistribute connected", "  label vpn export auto", f"  rd vpn export 65000:{n}",
                  "  rt vpn both 65000:100", "  export vpn", "  import vpn", " exit-address-family", "exit", "!"]
    return "\n".join(lines) + "\n"
