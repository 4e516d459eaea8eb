"""What differs between the simulated VRP and Comware CLIs: views, prompts, messages, how a
key is stored (the `display` replies are in display.py, built from captured device output).

Written from the vendors' documented CLI behaviour, independently of netgen's driver tables
(the driver has its own view list): a disagreement shows up as a test failure, not a shared bug.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field


def _token(n: int = 24) -> str:
    return secrets.token_urlsafe(n).replace("-", "A").replace("_", "B")


@dataclass(frozen=True)
class Profile:
    name: str
    default_hostname: str
    views: tuple                   # (depth or None, regex): a config command that opens a view
    top_leaf_indent: str           # how `display current-configuration` indents a global leaf
    paging_command: str
    system_view_banner: str
    error_prefix: str              # "Error: " | "% "
    confirm_undo: re.Pattern       # `undo <this>` of a view with children asks [Y/N]
    login_banner: str
    labels: tuple = field(default=())   # (regex, replacement) for prompt labels, first match wins

    def opens_view(self, command: str, depth: int) -> bool:
        return not command.startswith("undo ") and any(
            (d is None or d == depth) and p.search(command) for d, p in self.views)

    def label(self, command: str) -> str:
        for pattern, repl in self.labels:
            if re.match(pattern, command):
                return re.sub(pattern, repl, command).replace(" ", "-")
        return command.split()[0]

    def header(self, updated: float) -> list[str]:
        if self.name == "huawei_vrp":
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(updated))
            return ["!Software Version V800R021C10SPC600",
                    f"!Last configuration was updated at {stamp}+08:00 by netgen"]
        return ["#", " version 7.1.070, Release 7585P05"]

    # ---- keys: what the device stores for a line carrying a secret

    def store(self, line: str) -> str:
        if self.name == "huawei_vrp":
            return re.sub(r"\b(cipher|irreversible-cipher)\s+(\S+)",
                          lambda m: f"{m.group(1)} {self._encrypt(m.group(2))}", line)
        if re.search(r"\bsnmp-agent usm-user\b.*\b(?:simple|cipher) authentication-mode\b", line):
            line = re.sub(r"\b(authentication-mode|privacy-mode)\s+(\S+)\s+(\S+)",
                          lambda m: f"{m.group(1)} {m.group(2)} {self._encrypt(m.group(3))}", line)
            return re.sub(r"\bsimple (authentication-mode)", r"cipher \1", line)
        return re.sub(r"\b(?:simple|cipher)\s+(\S+)", lambda m: f"cipher {self._encrypt(m.group(1))}", line)

    def _encrypt(self, value: str) -> str:
        if self.is_encrypted(value):
            return value  # a stored ciphertext given back is kept as is
        # a fresh salt every time, as the devices do: the same key never shows the same twice
        return f"%^%#{_token()}%^%#" if self.name == "huawei_vrp" else f"$c$3${_token()}=="

    def is_encrypted(self, value: str) -> bool:
        return bool(re.fullmatch(r"%\^%#\S+%\^%#", value) if self.name == "huawei_vrp"
                    else re.fullmatch(r"\$c\$3\$\S+", value))

    def key_of(self, stored: str) -> str:
        """A stored line with its ciphertexts blanked: setting the same key again replaces it."""
        return re.sub(r"%\^%#\S+%\^%#|\$c\$3\$\S+", "*", stored)


VRP = Profile(
    name="huawei_vrp",
    default_hostname="HUAWEI",
    views=(
        (0, re.compile(r"^(?:mpls|mpls ldp|aaa)$")),
        (0, re.compile(r"^(?:interface|bgp|isis|ospf|ip vpn-instance|acl|user-interface|route-policy"
                       r"|hwtacacs-server template|radius-server template|firewall zone|security-policy) ")),
        (None, re.compile(r"^(?:ipv4-family|ipv6-family|area|authentication-scheme|authorization-scheme"
                          r"|accounting-scheme|domain|rule name)\b")),
    ),
    top_leaf_indent="",
    paging_command="screen-length 0 temporary",
    system_view_banner="Enter system view, return user view with return command.",
    error_prefix="Error: ",
    confirm_undo=re.compile(r"^(?:bgp|isis|ospf|mpls)\b"),
    login_banner=("Info: The max number of VTY users is 10, and the number\n"
                  "      of current VTY users on line is 1.\n"),
    labels=((r"^interface (\S+)$", r"\1"), (r"^bgp \d+$", "bgp"), (r"^ipv4-family vpn-instance (\S+)$", r"\1"),
            (r"^ip(v4|v6)-family$", r"af-ip\1"), (r"^ip(?:v4|v6)-family (\S+)$", r"af-\1"), (r"^ip vpn-instance (\S+)$", r"vpn-instance-\1"),
            (r"^(isis|ospf) (\d+).*$", r"\1-\2"), (r"^user-interface (\S+) (.*)$", r"ui-\1\2"),
            (r"^acl number (\d+)$", r"acl-basic-\1"), (r"^mpls ldp$", "mpls-ldp")),
)

COMWARE = Profile(
    name="h3c_comware",
    default_hostname="H3C",
    views=(
        (0, re.compile(r"^(?:mpls ldp)$")),
        (0, re.compile(r"^(?:interface|bgp|isis|ospf|ip vpn-instance|acl|line|route-policy|hwtacacs scheme"
                       r"|radius scheme|domain|local-user|security-zone name|security-policy|zone-pair) ")),
        (None, re.compile(r"^(?:address-family|ip vpn-instance|area|rule name)\b")),
    ),
    top_leaf_indent=" ",
    paging_command="screen-length disable",
    system_view_banner="System View: return to User View with Ctrl+Z.",
    error_prefix="% ",
    confirm_undo=re.compile(r"^bgp\b"),
    login_banner=("\n******************************************************************************\n"
                  "* Copyright (c) 2004-2022 New H3C Technologies Co., Ltd. All rights reserved.*\n"
                  "******************************************************************************\n"),
    labels=((r"^interface (\S+)$", r"\1"), (r"^bgp \d+$", "bgp-default"), (r"^address-family (\S+).*$", r"\1"),
            (r"^ip vpn-instance (\S+)$", r"vpn-instance-\1"), (r"^(isis|ospf) (\d+).*$", r"\1-\2"),
            (r"^line (\S+) (.*)$", r"line-\1\2"), (r"^acl basic (\d+)$", r"acl-ipv4-basic-\1"),
            (r"^mpls ldp$", "ldp")),
)

PROFILES = {p.name: p for p in (VRP, COMWARE)}
