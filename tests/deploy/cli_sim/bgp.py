"""`display bgp … peer` for the simulator: the peers come from the config tree, their state
from `SimDevice.bgp_state` (Established unless a test says otherwise). Layouts follow the
vendors' documented examples; the counters are made up."""
from __future__ import annotations

import re


def _child(node, prefix: str):
    return next((c for c in node.children if c.text == prefix or c.text.startswith(prefix + " ")), None)


def _peers(node) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for c in node.children
            if (m := re.fullmatch(r"peer (\S+) as-number (\d+)", c.text))]


def _enabled(node) -> set[str]:
    return {m.group(1) for c in (node.children if node else []) if (m := re.fullmatch(r"peer (\S+) enable", c.text))}


def _bgp(device):
    return next((c for c in device.root.children if re.fullmatch(r"bgp \d+", c.text)), None)


def _router_id(bgp) -> str:
    rid = _child(bgp, "router-id")
    return rid.text.split()[1] if rid else "0.0.0.0"


def bgp_display(device, command: str) -> str | None:
    bgp = _bgp(device)
    vrp = device.profile.name == "huawei_vrp"
    family = None
    if vrp and command == "display bgp peer":
        family = "ipv4"
    elif vrp and command == "display bgp vpnv4 all peer":
        family = "vpnv4"
    elif not vrp and command == "display bgp peer ipv4":
        family = "ipv4"
    elif not vrp and command == "display bgp peer vpnv4":
        family = "vpnv4"
    elif not vrp and (m := re.fullmatch(r"display bgp peer ipv4 vpn-instance (\S+)", command)):
        family = ("vrf", m.group(1))
    if family is None:
        return None
    if bgp is None:
        return "Info: BGP is not configured.\n" if vrp else ""
    asn, rid = int(bgp.text.split()[1]), _router_id(bgp)
    peers = _peers(bgp)
    if family == "ipv4":
        if vrp and _child(bgp, "undo default ipv4-unicast") is None:
            chosen = peers
        else:
            af = _child(bgp, "ipv4-family unicast") if vrp else _child(bgp, "address-family ipv4")
            chosen = [p for p in peers if p[0] in _enabled(af)]
    elif family == "vpnv4":
        af = _child(bgp, "ipv4-family vpnv4") if vrp else _child(bgp, "address-family vpnv4")
        chosen = [p for p in peers if p[0] in _enabled(af)]
    else:
        vrf = _child(bgp, f"ip vpn-instance {family[1]}")
        chosen = _peers(vrf) if vrf else []
    text = _table(device, asn, rid, chosen, vrp)
    if vrp and family == "vpnv4":
        text += "\n  Peer of IPv4-family for vpn instance :\n"
        for af in bgp.children:
            if m := re.fullmatch(r"ipv4-family vpn-instance (\S+)", af.text):
                text += f"\n VPN-Instance {m.group(1)}, Router ID {rid}:\n"
                text += "".join(_row(device, ip, remote, vrp) for ip, remote in _peers(af))
    return text


def _table(device, asn: int, rid: str, peers, vrp: bool) -> str:
    up = sum(1 for ip, _ in peers if device.bgp_state.get(ip, "Established") == "Established")
    sep = " : " if vrp else ": "
    head = (f" BGP local router ID{sep}{rid}\n Local AS number{sep}{asn}\n"
            f" Total number of peers{sep}{len(peers)}                 Peers in established state{sep}{up}\n\n")
    if vrp:
        head += "  Peer            V          AS  MsgRcvd  MsgSent  OutQ  Up/Down       State  PrefRcv\n"
    else:
        head += "  * - Dynamically created peer\n  Peer                    AS  MsgRcvd  MsgSent OutQ PrefRcv Up/Down  State\n\n"
    return head + "".join(_row(device, ip, remote, vrp) for ip, remote in peers)


def _row(device, ip: str, remote: int, vrp: bool) -> str:
    state = device.bgp_state.get(ip, "Established")
    if vrp:
        return f"  {ip:<15} 4 {remote:>11} {120:>8} {131:>8} {0:>5} {'0010h12m':>8} {state:>12} {5:>8}\n"
    return f"  {ip:<18} {remote:>12} {120:>8} {131:>8} {0:>4} {5:>7} 01:02:03 {state}\n"
