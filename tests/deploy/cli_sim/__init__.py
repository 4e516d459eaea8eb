"""A CLI simulator over real SSH for netgen's VRP and Comware napalm drivers — a test double.

It exists because no Huawei or H3C router is available here. It is a test double for the
transport (paramiko SSH, netmiko's `huawei`/`hp_comware` prompt and paging handling) and for
netgen's own push/commit-confirm/rollback logic — NOT a router: it does not validate command
syntax or semantics beyond a handful of line rules (device.py), models no protocol, no
two-stage commit, no line wrapping or per-character echo. Its `display version`, serial and
BGP peer replies are built from real device captures (display.py, tests/deploy/captures/).
What it does emulate: user-view
`<name>` and `[name-view]` prompts, `system-view`, views opened by the platform's view
commands, `quit`/`return`, `undo` removing a line with its children, paging and
`screen-length 0 temporary` / `screen-length disable`, `display current-configuration` with a
volatile header (VRP `!Software Version …` and `!Last configuration was updated at <time>`;
Comware ` version 7.1.070, …` — Comware prints no time line), Comware's one-space indented
global lines, keys stored encrypted with a fresh salt, `save` with `[Y/N]` (VRP) / `save
force` (Comware), `[Y/N]` before deleting big sections, and `reject(pattern)` to make a test's
command fail with an `Error:` (VRP) / `% …` (Comware) line.

    device = SimDevice("huawei_vrp", config_text)
    server = SimServer(device).start()     # server.port on 127.0.0.1
    ...
    server.stop()
"""
from .device import Node, SimDevice
from .server import SimServer

__all__ = ["Node", "SimDevice", "SimServer"]
