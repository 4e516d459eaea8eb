"""The simulator's `display` replies the drivers read for facts and BGP state, built from
device captures (tests/deploy/captures/, see its README), not from layouts written here.

- `display version`: a captured output with the simulated box's own software version, model
  and uptime put in place of the captured ones (the rest — boards, images — stays as captured).
- `display device manuinfo` (Comware): the captured layout, the first slot's name, serial, MAC
  and vendor replaced. `display esn` (VRP): no capture is stored; the one-line form
  `ESN of slot N: X` is the one public VRP outputs show (CE6857, S5720, AR routers).
- `display bgp … peer`: the captured header and one captured row per peer, the row's cells
  replaced by the peer's address, AS and state and re-aligned on the captured columns (an
  Established peer takes the counters of a captured Established row, any other those of a
  captured idle one). VRP `display bgp vpnv4 all peer` adds, after the public table, `Peer of
  IPv4-family for vpn instance :` and per VPN instance `VPN-Instance NAME, Router ID X:` with
  its header and rows — the layout of Huawei's NE40E configuration guide ("Example for
  Configuring an MCE", `display bgp vpnv4 all peer` on PE1).

Which peers a table lists comes from the config tree, their state from `SimDevice.bgp_state`
(Established unless a test says otherwise).
"""
from __future__ import annotations

import re
from pathlib import Path

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def capture(platform: str, command: str, name: str) -> str:
    """A stored capture's text (platform and command as the directory names)."""
    return (CAPTURES / platform / command.replace(" ", "_") / name).read_text(encoding="utf-8")


def _swap(text: str, pairs) -> str:
    """`text` with each (captured, own) pair replaced; a captured value that is not there is an
    error, so a changed capture cannot silently leave the simulated box with its values."""
    for old, new in pairs:
        if old not in text:
            raise ValueError(f"capture lacks {old!r}")
        text = text.replace(old, new)
    return text


# The simulated boxes: VRP8 on an NE40E-X8A; Comware 7 on an H3C SR6608-X.
VRP_VERSION = _swap(capture("huawei_vrp", "display version", "huawei_vrp_display_version.raw"), (
    ("8.180 (NE40E V800R011C00SPC200)", "8.210 (NE40E V800R021C10SPC600)"),
    ("NE40E-X2-M8A", "NE40E-X8A"),
    ("HUAWEI NE40E-X8A uptime is 161 days, 0 hour, 20 minutes", "HUAWEI NE40E-X8A uptime is 12 days, 3 hours, 4 minutes"),
)) + "\n"
COMWARE_VERSION = _swap(capture("hp_comware", "display version", "hp_comware_display_version_cw7_1.raw"), (
    ("HPE Comware Software", "H3C Comware Software"),
    ("6710P01-US", "7585P05"),
    # the copyright line of H3C-branded Comware 7 (`display version` of H3C S-series and SR boxes)
    ("Copyright (c) 2010-2023 Hewlett Packard Enterprise Development LP",
     "Copyright (c) 2004-2022 New H3C Technologies Co., Ltd. All rights reserved."),
    ("HPE FF 5945 32QSFP28 Switch", "H3C SR6608-X"),
    ("FF 5945 32QSFP28 Switch", "SR6608-X"),
)) + "\n"
VRP_SERIAL = "2102351931P0K8000123"
COMWARE_SERIAL = "219801A0CNH123000001"
VRP_ESN = f"ESN of slot 1: {VRP_SERIAL}\n"
COMWARE_MANUINFO = _swap(capture("hp_comware", "display device manuinfo", "hp_comware_display_device_manuinfo_5930.raw"), (
    ("HP FlexFabirc 5930-32QSFP+ Switch JG726A", "SR6608-X"),
    ("CN43GG2001", COMWARE_SERIAL),
    ("00E0-FC00-5800", "0011-2233-4455"),
    ("HPE", "H3C"),
))

# ---------------------------------------------------------------------------- BGP peer tables


class _Table:
    """A captured peer table: its header (up to the column line), its column line, and a row
    per state kind; `row()` puts a peer's cells in a captured row's columns."""

    def __init__(self, text: str, align: str, cells: dict[str, int]):
        lines = text.splitlines()
        columns = next(i for i, line in enumerate(lines) if line.split()[:1] == ["Peer"])
        rid = next(i for i, line in enumerate(lines) if re.search(r"(?i)router ID", line))
        counted = max(i for i, line in enumerate(lines[:columns]) if re.search(r"(?i)number of|established", line))
        self.before = [line for line in lines[:rid] if line.strip()]              # VRP `Status codes`
        self.after = [line for line in lines[counted + 1:columns] if line.strip()]  # Comware `* - Dynamically…`
        self.columns = lines[columns]
        rows = [line for line in lines[columns + 1:] if line.strip()]
        self.up = next(r for r in rows if r.split()[cells["state"]] == "Established")
        self.down = next(r for r in rows if r.split()[cells["state"]] != "Established")
        self.align, self.cells = align, cells

    def row(self, ip: str, asn: int, state: str) -> str:
        model = self.up if state == "Established" else self.down
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", model)]
        values = model.split()
        values[self.cells["peer"]], values[self.cells["as"]], values[self.cells["state"]] = ip, str(asn), state
        out, shift = "", 0   # a cell wider than the captured one pushes the next ones right
        for (start, end), value, side in zip(spans, values, self.align):
            if side == "l":
                out += " " * max(start + shift - len(out), 1 if out else start) + value
            else:
                out += " " * max(end + shift - len(value) - len(out), 1) + value
            shift = max(shift, len(out) - end)
        return out + "\n"


# Columns: VRP `Peer V AS MsgRcvd MsgSent OutQ Up/Down State PrefRcv` (cells right-aligned but
# the address); Comware `Peer AS MsgRcvd MsgSent OutQ PrefRcv Up/Down State` (State left).
_VRP = _Table(capture("huawei_vrp", "display bgp peer", "huawei_vrp_display_bgp_peer.raw"),
              "lrrrrrrrr", {"peer": 0, "as": 2, "state": 7})
_COMWARE = _Table(capture("hp_comware", "display bgp peer ipv4", "hp_comware_display_bgp_peer_ipv4.raw"),
                  "lrrrrrrl", {"peer": 0, "as": 1, "state": 7})


def _child(node, prefix: str):
    return next((c for c in node.children if c.text == prefix or c.text.startswith(prefix + " ")), None)


def _peers(node) -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for c in node.children
            if (m := re.fullmatch(r"peer (\S+) as-number (\d+)", c.text))]


def _enabled(node) -> set[str]:
    return {m.group(1) for c in (node.children if node else []) if (m := re.fullmatch(r"peer (\S+) enable", c.text))}


def _family(vrp: bool, command: str):
    """Which table `command` asks for: "ipv4", "vpnv4", ("vrf", NAME), or None."""
    if command == ("display bgp peer" if vrp else "display bgp peer ipv4"):
        return "ipv4"
    if command == ("display bgp vpnv4 all peer" if vrp else "display bgp peer vpnv4"):
        return "vpnv4"
    m = None if vrp else re.fullmatch(r"display bgp peer ipv4 vpn-instance (\S+)", command)
    return ("vrf", m.group(1)) if m else None


def _table(device, table: _Table, asn: int, rid: str, peers, vrp: bool) -> str:
    state = {ip: device.bgp_state.get(ip, "Established") for ip, _ in peers}
    up = sum(1 for s in state.values() if s == "Established")
    # the header lines as each capture prints them: VRP ` : ` and one count a line; Comware `: `
    # with both counts on one line, a blank line before the header and one after the columns
    if vrp:
        head = (f" BGP local router ID : {rid}\n Local AS number : {asn}\n"
                f" Total number of peers : {len(peers)}\n Peers in established state : {up}\n")
    else:
        head = (f"\n BGP local router ID: {rid}\n Local AS number: {asn}\n"
                f" Total number of peers: {len(peers)}                 Peers in established state: {up}\n")
    text = "".join(line + "\n" for line in table.before) + head + "\n"
    text += "".join(line + "\n" for line in table.after) + table.columns + "\n" + ("" if vrp else "\n")
    return text + "".join(table.row(ip, remote, state[ip]) for ip, remote in peers)


def bgp_display(device, command: str) -> str | None:
    """A `display bgp … peer` reply, or None for another command."""
    vrp = device.profile.name == "huawei_vrp"
    family = _family(vrp, command)
    if family is None:
        return None
    bgp = next((c for c in device.root.children if re.fullmatch(r"bgp \d+", c.text)), None)
    if bgp is None:
        return ""   # no BGP: no table
    rid_line = _child(bgp, "router-id")
    asn, rid = int(bgp.text.split()[1]), rid_line.text.split()[1] if rid_line else "0.0.0.0"
    peers = _peers(bgp)
    if family == "ipv4" and not (vrp and _child(bgp, "undo default ipv4-unicast") is None):
        peers = [p for p in peers if p[0] in _enabled(_child(bgp, "ipv4-family unicast" if vrp else "address-family ipv4"))]
    elif family == "vpnv4":
        peers = [p for p in peers if p[0] in _enabled(_child(bgp, "ipv4-family vpnv4" if vrp else "address-family vpnv4"))]
    elif isinstance(family, tuple):
        vrf = _child(bgp, f"ip vpn-instance {family[1]}")
        peers = _peers(vrf) if vrf else []
    text = _table(device, _VRP if vrp else _COMWARE, asn, rid, peers, vrp)
    if vrp and family == "vpnv4":
        text += "\n  Peer of IPv4-family for vpn instance :\n\n"
        for af in bgp.children:
            if m := re.fullmatch(r"ipv4-family vpn-instance (\S+)", af.text):
                text += f"  VPN-Instance {m.group(1)}, Router ID {rid}:\n" + _VRP.columns + "\n"
                text += "".join(_VRP.row(ip, remote, device.bgp_state.get(ip, "Established")) for ip, remote in _peers(af))
    return text


def captured_display(device, command: str) -> str | None:
    """The reply to `display version`, the serial number's command or a BGP peer table; None
    for anything else."""
    vrp = device.profile.name == "huawei_vrp"
    if command == "display version":
        return VRP_VERSION if vrp else COMWARE_VERSION
    if command == ("display esn" if vrp else "display device manuinfo"):
        return VRP_ESN if vrp else COMWARE_MANUINFO
    return bgp_display(device, command)
