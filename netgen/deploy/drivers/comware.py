"""netgen's napalm driver for H3C Comware 7 (`netgen_comware`): see cli.py for the lifecycle.

Comware specifics: netmiko `hp_comware`; `display current-configuration` prints global
single-line commands indented by one space (` sysname x` after a `#`) while views start at
column 0 — normalisation dedents them so the text compares with a rendered config — and its
` version 7.1.…, Release …` line is dropped; a rejected command prints a `% …` line (`% Unrecognized command …`, `% Wrong parameter …`; a
log message on the terminal is `%Jan  1 …`, no space) or `Error: …`; saving is
`save force` (no prompt).
"""
from __future__ import annotations

import re

from netgen.deploy.drivers.cli import CliDriver, _tidy, merge_bgp, parse_peer_table

_VERSION = re.compile(r"^\s*version \d+\.\d+")


def normalise_comware(raw: str) -> str:
    """Comware's display → rendered-config layout (see the module doc)."""
    out, in_view = [], False
    for line in raw.splitlines():
        if _VERSION.match(line):
            continue
        if line.startswith("#") or not line.strip():
            in_view = False
        elif not line[0].isspace():
            in_view = True
        elif not in_view:
            line = line[1:]   # a global command shown one space in
        out.append(line)
    return _tidy(out)


class ComwareDriver(CliDriver):
    platform = "h3c_comware"
    netmiko_device_type = "hp_comware"
    # `% Unrecognized command…`, `% Wrong parameter…`, …; not `%Jan  1 …` (a log message)
    error_line = re.compile(r"^\s*(?:% \S|Error:).*$", re.M)
    save_command = "save force"

    def normalise_running(self, raw: str) -> str:
        return normalise_comware(raw)

    vendor = "H3C"
    version_re = re.compile(r"Comware Software,\s*Version\s+(.+)")
    model_re = re.compile(r"^\s*(?:H3C|HPE?)\s+(\S+)\s+uptime is", re.M)
    serial_command, serial_re = "display device manuinfo", re.compile(r"DEVICE_SERIAL_NUMBER\s*:\s*(\S+)")

    def get_bgp_neighbors(self):
        """Global IPv4 unicast and VPNv4 peers, and each VPN instance's IPv4 peers (instance
        names from the running config: Comware asks for them one by one)."""
        tables = [parse_peer_table(self._show("display bgp peer ipv4"), "ipv4"),
                  parse_peer_table(self._show("display bgp peer vpnv4"), "vpnv4")]
        for vrf in re.findall(r"^ip vpn-instance (\S+)", self._running(), re.M):
            tables.append(parse_peer_table(self._show(f"display bgp peer ipv4 vpn-instance {vrf}"), "ipv4",
                                           default_vrf=vrf))
        return merge_bgp(tables)
