"""netgen's napalm driver for Huawei VRP (`netgen_vrp`): see cli.py for the lifecycle.

VRP specifics: netmiko `huawei`; `display current-configuration` starts with `!Software
Version …` / `!Last configuration was updated at <time> …` lines, dropped by normalisation;
a rejected command prints `Error: …`; `save` asks `[Y/N]`, answered `y`.

Targets the single-stage configuration mode (commands take effect as entered). A VRP V8 box in
two-stage mode (`[~name]` prompts, changes wait for `commit`) is not handled yet.
"""
from __future__ import annotations

import re

from netgen.deploy.drivers.cli import CliDriver, _tidy, merge_bgp, parse_peer_table


class VrpDriver(CliDriver):
    platform = "huawei_vrp"
    netmiko_device_type = "huawei"
    error_line = re.compile(r"^\s*Error:.*$", re.M)
    save_command = "save"

    def normalise_running(self, raw: str) -> str:
        # `!…` lines: software version and the last-changed / last-saved times
        return _tidy(line for line in raw.splitlines() if not line.startswith("!"))

    vendor = "Huawei"
    version_re = re.compile(r"VRP \(R\) software,\s*Version\s+(.+)")
    model_re = re.compile(r"^\s*(?:HUAWEI|Huawei)\s+(\S+)\s+uptime is", re.M)
    serial_command, serial_re = "display esn", re.compile(r"ESN of (?:slot|device|master)[^:]*:\s*(\S+)")

    def get_bgp_neighbors(self):
        """Global IPv4 unicast peers (`display bgp peer`), VPNv4 peers and the peers of every
        VPN instance (`display bgp vpnv4 all peer`)."""
        return merge_bgp([parse_peer_table(self._show("display bgp peer"), "ipv4"),
                          parse_peer_table(self._show("display bgp vpnv4 all peer"), "vpnv4")])
