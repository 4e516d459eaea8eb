"""Parsing of VRP and Comware `display` output: the one home of it for netgen's CLI drivers.

Where networktocode's ntc-templates (TextFSM, installed with netmiko) has a template for the
command, that template parses; it is tested upstream on device captures, and netgen's own tests
run it on captures copied into tests/deploy/captures/ (see the README there). A template stops
with TextFSMError on a line it does not know (a release that prints one more header line, a
state such as `Idle(Admin)`); the output is then read by the tolerant hand-written parser
beside it, which is held to the template's results on every capture (tests/deploy/test_parsers.py).
Where no template exists (Comware `display version` in ntc-templates 9.x, VRP `display esn`,
the BGP header lines), only the hand-written parser reads, ignoring case and spacing.

Templates used (ntc_templates/templates/, platform, command as in its index):
- huawei_vrp_display_version.textfsm   huawei_vrp  display version
- huawei_vrp_display_bgp_peer.textfsm  huawei_vrp  display bgp peer (also each section of
  `display bgp vpnv4 all peer`, which has the same row layout per VPN instance)
- hp_comware_display_bgp_peer_ipv4.textfsm  hp_comware  display bgp peer ipv4 (also `… vpnv4`
  and `… ipv4 vpn-instance NAME`, printed in the same layout)
- hp_comware_display_device_manuinfo.textfsm  hp_comware  display device manuinfo
"""
from __future__ import annotations

import logging
import re

from ntc_templates.parse import ParsingException, parse_output
from textfsm import TextFSMError

log = logging.getLogger(__name__)


def template(platform: str, command: str, text: str) -> list[dict] | None:
    """ntc-templates' records for `command`'s output, or None when the template rejects it
    (trailing blanks are dropped first: a blank-only line is an error to these templates)."""
    data = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    try:
        return parse_output(platform=platform, command=command, data=data)
    except (TextFSMError, ParsingException) as exc:
        log.debug("ntc-templates %s `%s`: %s; reading it by hand", platform, command, exc)
        return None


# ------------------------------------------------------------------------------ durations

_UNITS = {"year": 31536000, "week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def uptime_seconds(text: str) -> float:
    """`161 days, 0 hour, 20 minutes` / `84 weeks,2 days,3 hours` → seconds; -1 if none."""
    found = re.findall(r"(\d+)\s*(year|week|day|hour|minute|second)s?", text, re.I)
    return float(sum(int(n) * _UNITS[unit.lower()] for n, unit in found)) if found else -1.0


def duration(token: str) -> int:
    """A BGP Up/Down cell (`00:17:49`, `0286h47m`, `1d02h`) → seconds; -1 if unreadable."""
    if re.fullmatch(r"\d+:\d+:\d+", token):
        h, m, s = (int(x) for x in token.split(":"))
        return h * 3600 + m * 60 + s
    parts = re.findall(r"(\d+)([ydhms])", token.lower())
    if not parts or "".join(n + u for n, u in parts) != token.lower():
        return -1
    units = {"y": 31536000, "d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in parts)


# ------------------------------------------------------------------------------ facts


def _model(text: str) -> str:
    # ntc-templates' VRP template leaves a trailing ` Router` out of MODEL; done alike for both
    return re.sub(r"\s+(?:Router|Switch)$", "", text.strip())


def vrp_version(text: str) -> dict:
    """`display version` (VRP) → {"os_version": "8.180 (NE40E V800R011C00SPC200)", "model",
    "uptime" (seconds)}; empty strings / -1 for what is absent."""
    rows = template("huawei_vrp", "display version", text)
    if rows:
        row = rows[0]
        return {"os_version": f"{row['vrp_version']} ({row['product_version']})",
                "model": _model(row["model"]), "uptime": uptime_seconds(row["uptime"])}
    version = re.search(r"software,\s*Version\s+(\S+)\s*\(([^)]*)\)", text, re.I)
    head = re.search(r"^\s*(?:HUAWEI|Quidway)\s+(.+?)\s+uptime\s+is\s+(.+)$", text, re.I | re.M)
    return {"os_version": f"{version.group(1)} ({version.group(2).strip()})" if version else "",
            "model": _model(head.group(1)) if head else "",
            "uptime": uptime_seconds(head.group(2)) if head else -1.0}


def comware_version(text: str) -> dict:
    """`display version` (Comware 5/7, H3C or HPE) → {"os_version": "7.1.070, Release 6710P01-US",
    "model", "uptime"}. Hand-written: ntc-templates 9.x has no Comware `display version`."""
    version = re.search(r"Comware\s+Software,\s*Version\s+(.+?)\s*$", text, re.I | re.M)
    head = re.search(r"^\s*(?:H3C|HPE?|New H3C)\s+(.+?)\s+uptime\s+is\s+(.+?)\s*$", text, re.I | re.M)
    return {"os_version": version.group(1) if version else "",
            "model": _model(head.group(1)) if head else "",
            "uptime": uptime_seconds(head.group(2)) if head else -1.0}


def vrp_serial(text: str) -> str:
    """`display esn` → the first ESN (`ESN of slot 1: X`, `ESN of device: X`, `ESN of master: X`;
    the value may follow on the next line). Hand-written: no ntc-template exists."""
    found = re.search(r"ESN\s+of\s+[^:\n]*:\s*([0-9A-Za-z]+)", text, re.I)
    return found.group(1) if found else ""


def comware_serial(text: str) -> str:
    """`display device manuinfo` → the serial of the first chassis/slot (not a fan or power
    supply); '' when none is printed."""
    rows = template("hp_comware", "display device manuinfo", text)
    if rows is None:   # by hand: `KEY : value` blocks, each after a `Slot …`/`Fan …` line
        rows, kind = [], ""
        for line in text.splitlines():
            if m := re.match(r"\s*(chassis|slot|subslot|fan|power)\b", line, re.I):
                kind = m.group(1)
            elif m := re.match(r"\s*(?:DEVICE_SERIAL_NUMBER|MANU\s+SERIAL\s+NUMBER)\s*:\s*(\S*)", line, re.I):
                rows.append({"slot_type": kind, "device_serial_number": m.group(1)})
    for row in rows:
        if row["slot_type"].lower() not in ("fan", "power") and row["device_serial_number"]:
            return row["device_serial_number"]
    return ""


def interfaces_of(running: str) -> list[str]:
    """Interface names in a running config's `interface X` lines."""
    return [line.split(None, 1)[1] for line in running.splitlines() if line.startswith("interface ")]


# ------------------------------------------------------------------------------ BGP peers

_RID = re.compile(r"BGP\s+local\s+router\s+ID\s*:\s*(\S+)", re.I)
_LOCAL_AS = re.compile(r"local\s+AS\s+number\s*:\s*(\d+)", re.I)
# `VPN-Instance vpna, Router ID 1.1.1.1:` (VRP; some releases print `router ID`)
_VPN = re.compile(r"^\s*VPN-Instance\s+([^,]+),\s*Router\s+ID\s+([^:\s]+)\s*:?\s*$", re.I)
_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+")


def _peer(row: dict, family: str, local_as: int) -> dict:
    """One napalm BGPStateNeighborDict from a row (keys as in the VRP template)."""
    state, received = row["state"], row["pref_rcvd"]
    return {"local_as": local_as, "remote_as": int(row["asn"]) if row["asn"].isdigit() else 0,
            "remote_id": "", "is_up": state.lower() == "established",
            "is_enabled": "admin" not in state.lower(), "description": "",
            "uptime": duration(row["up_down"]),
            "address_family": {family: {"received_prefixes": int(received) if received.isdigit() else -1,
                                        "accepted_prefixes": -1, "sent_prefixes": -1}}}


# the header of each platform's table, for rows printed without one (a VPN instance's, on VRP)
_HEADER = {"huawei_vrp": "Peer V AS MsgRcvd MsgSent OutQ Up/Down State PrefRcv",
           "hp_comware": "Peer AS MsgRcvd MsgSent OutQ PrefRcv Up/Down State"}
_NAMES = {"Peer": "peer", "AS": "asn", "Up/Down": "up_down", "State": "state", "PrefRcv": "pref_rcvd"}


def _rows_by_header(platform: str, text: str) -> list[dict]:
    """Rows of a peer table read by hand: the columns come from the `Peer … AS … State` header
    (VRP and Comware order them differently; case ignored); a row needs an address and as
    many cells as there are columns."""
    columns, rows = [], []
    names = {k.lower(): v for k, v in _NAMES.items()}

    def header(tokens):
        return [names.get(t.lower(), t) for t in tokens]

    default = header(_HEADER[platform].split())
    for raw in text.splitlines():
        tokens = raw.replace("*", " ").split()
        if [t.lower() for t in tokens[:1]] == ["peer"] and {"as", "state"} <= {t.lower() for t in tokens}:
            columns = header(tokens)
        elif tokens and _ADDRESS.fullmatch(tokens[0]) and len(tokens) == len(columns or default):
            row = dict(zip(columns or default, tokens))
            rows.append({k: row.get(k, "") for k in _NAMES.values()})
    return rows


def _table(platform: str, command: str, text: str) -> list[dict]:
    """A peer table's rows as {peer, asn, up_down, state, pref_rcvd}: the template's, or by hand."""
    rows = template(platform, command, text)
    if rows is None:
        return _rows_by_header(platform, text)
    if platform == "hp_comware":
        return [{"peer": r["peer"], "asn": r["remote_asn"], "up_down": r["up_down"], "state": r["state"],
                 "pref_rcvd": r["prefixes_received"]} for r in rows]
    return [{k: r[k] for k in ("peer", "asn", "up_down", "state", "pref_rcvd")} for r in rows]


def _head(text: str) -> tuple[str, int]:
    rid, asn = _RID.search(text), _LOCAL_AS.search(text)
    return (rid.group(1) if rid else ""), (int(asn.group(1)) if asn else 0)


def vrp_bgp_peers(text: str, family: str, vrf_family: str = "ipv4") -> dict[str, dict]:
    """`display bgp peer` / `display bgp vpnv4 all peer` (VRP) → {vrf: {"router_id", "peers":
    {address: napalm peer}}}. The public table is `global` (its peers in `family`); each
    `VPN-Instance NAME, Router ID X:` section is VRF NAME (its peers in `vrf_family`)."""
    router_id, local_as = _head(text)
    sections: list[tuple[str, str, str, list[str]]] = [("global", router_id, family, [])]
    for line in text.splitlines():
        if m := _VPN.match(line):
            sections.append((m.group(1).strip(), m.group(2), vrf_family, []))
        elif not re.match(r"\s*Peer\s+of\s+\S+\s+for\s+vpn\s+instance", line, re.I):
            sections[-1][3].append(line)
    result: dict[str, dict] = {}
    for vrf, rid, fam, lines in sections:
        rows = _table("huawei_vrp", "display bgp peer", "\n".join(lines))
        entry = result.setdefault(vrf, {"router_id": rid, "peers": {}})
        for row in rows:
            entry["peers"][row["peer"]] = _peer(row, fam, local_as)
    return result


def comware_bgp_peers(text: str, family: str, vrf: str = "global") -> dict[str, dict]:
    """`display bgp peer ipv4|vpnv4 [vpn-instance NAME]` (Comware 7) → the same shape as
    vrp_bgp_peers, all peers in `vrf`."""
    router_id, local_as = _head(text)
    peers = {row["peer"]: _peer(row, family, local_as)
             for row in _table("hp_comware", "display bgp peer ipv4", text)}
    return {vrf: {"router_id": router_id, "peers": peers}}


def merge_bgp(tables) -> dict:
    """Several peer tables → one napalm get_bgp_neighbors dict (a peer seen in several families
    keeps them all and is up if any of its sessions is)."""
    out: dict[str, dict] = {"global": {"router_id": "", "peers": {}}}
    for table in tables:
        for vrf, data in table.items():
            entry = out.setdefault(vrf, {"router_id": data["router_id"], "peers": {}})
            entry["router_id"] = entry["router_id"] or data["router_id"]
            for ip, peer in data["peers"].items():
                known = entry["peers"].get(ip)
                if known is None:
                    entry["peers"][ip] = peer
                else:
                    known["address_family"].update(peer["address_family"])
                    known["is_up"] = known["is_up"] or peer["is_up"]
    return out
