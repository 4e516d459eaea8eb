"""netgen's napalm driver for H3C Comware 7 (`netgen_comware`): see cli.py for the lifecycle.

Comware specifics: netmiko `hp_comware`; `display current-configuration` prints global
single-line commands indented by one space (` sysname x` after a `#`) while views start at
column 0 — normalisation dedents them so the text compares with a rendered config — and its
` version 7.1.…, Release …` line is dropped; a rejected command prints a `% …` line (`% Unrecognized command …`, `% Wrong parameter …`; a
log message on the terminal is `%Jan  1 …`, no space) or `Error: …`; saving is
`save force` (no prompt).

commit_mode: `netgen-held` or `commit-delay` (Comware 7: `configuration commit delay M` before
the change, the device removes it unless `configuration commit` follows; see cli.py).
"""
from __future__ import annotations

import re

from netgen.deploy.drivers import parsers
from netgen.deploy.drivers.cli import CliDriver, _tidy

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
    native_modes = ("commit-delay",)

    def normalise_running(self, raw: str) -> str:
        return normalise_comware(raw)

    vendor = "H3C"
    serial_command = "display device manuinfo"
    parse_version = staticmethod(parsers.comware_version)   # by hand: no Comware template in ntc 9.x
    parse_serial = staticmethod(parsers.comware_serial)     # ntc-templates hp_comware manuinfo

    def get_bgp_neighbors(self):
        """Global IPv4 unicast and VPNv4 peers, and each VPN instance's IPv4 peers (instance
        names from the running config: Comware asks for them one by one). Syntax: H3C/HPE
        Comware 7 Layer 3 IP Routing, "Displaying BGP": `display bgp [ instance NAME ] peer ipv4
        [ unicast ] [ vpn-instance NAME ]`; `display bgp peer vpnv4` likewise (MPLS L3VPN)."""
        tables = [parsers.comware_bgp_peers(self._show("display bgp peer ipv4"), "ipv4"),
                  parsers.comware_bgp_peers(self._show("display bgp peer vpnv4"), "vpnv4")]
        for vrf in re.findall(r"^ip vpn-instance (\S+)", self._running(), re.M):
            tables.append(parsers.comware_bgp_peers(self._show(f"display bgp peer ipv4 vpn-instance {vrf}"),
                                                    "ipv4", vrf=vrf))
        return parsers.merge_bgp(tables)
