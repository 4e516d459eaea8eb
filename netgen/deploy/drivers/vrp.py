"""netgen's napalm driver for Huawei VRP (`netgen_vrp`): see cli.py for the lifecycle.

VRP specifics: netmiko `huawei`; `display current-configuration` starts with `!Software
Version …` / `!Last configuration was updated at <time> …` lines, dropped by normalisation;
a rejected command prints `Error: …`; `save` asks `[Y/N]`, answered from the dialog table.

commit_mode: `netgen-held` (VRP5, single-stage: commands take effect as entered; commit-confirm
emulated by netgen) or `two-stage` (VRP8 NE40E/NE8000: `[~name]` prompts, `[*name]` with
uncommitted changes, nothing takes effect before `commit`/`commit trial N`; see cli.py).
"""
from __future__ import annotations

import re

from netgen.deploy.drivers import parsers
from netgen.deploy.drivers.cli import CliDriver, _tidy


class VrpDriver(CliDriver):
    platform = "huawei_vrp"
    netmiko_device_type = "huawei"
    error_line = re.compile(r"^\s*Error:.*$", re.M)
    save_command = "save"
    native_modes = ("two-stage",)

    def normalise_running(self, raw: str) -> str:
        # `!…` lines: software version and the last-changed / last-saved times
        return _tidy(line for line in raw.splitlines() if not line.startswith("!"))

    vendor = "Huawei"
    # `display esn`: Huawei command reference (ESN of the device/slot); parsed by hand, no template
    serial_command = "display esn"
    parse_version = staticmethod(parsers.vrp_version)   # ntc-templates huawei_vrp `display version`
    parse_serial = staticmethod(parsers.vrp_serial)

    def get_bgp_neighbors(self):
        """Global IPv4 unicast peers (`display bgp peer`), VPNv4 peers and the peers of every
        VPN instance (`display bgp vpnv4 all peer`). Both commands: Huawei NE40E/NE8000 command
        reference, `display bgp peer` (formats `display bgp peer`, `display bgp vpnv4 all peer`)."""
        return parsers.merge_bgp([parsers.vrp_bgp_peers(self._show("display bgp peer"), "ipv4"),
                                  parsers.vrp_bgp_peers(self._show("display bgp vpnv4 all peer"), "vpnv4")])
