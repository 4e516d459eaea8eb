"""Interactive prompts the VRP/Comware drivers answer, as data: command → expected question → answer.

A push never answers a question blindly: `CliDriver._send_config` looks the (command, question)
pair up here and sends the row's answer; a question no row expects stops the push (declined
with `n`, or `c` where the device offers cancel, so nothing is confirmed by accident) and the
change is rolled back. Every row names where its text comes from; a row marked UNVERIFIED
reproduces only the documented fact that the command asks, not the device's exact wording —
its prompt pattern is therefore loose (`[Y/N]`) and tied to the command.
"""
from __future__ import annotations

import re
from typing import NamedTuple

# A question the device waits on: `[Y/N]:`, `[Y/N/C]:`, `[Y(yes)/N(no)/C(cancel)]:`.
QUESTION = r"\[(?:[Yy]/[Nn](?:/[Cc])?|Y\(yes\)/N\(no\)/C\(cancel\))\]\s*:?\s*$"


class Dialog(NamedTuple):
    command: re.Pattern     # the command that asks (full command, stripped)
    prompt: re.Pattern      # the question's last line
    answer: str
    source: str


def _row(command: str, prompt: str, answer: str, source: str) -> Dialog:
    return Dialog(re.compile(command), re.compile(prompt), answer, source)


VRP = (
    # netmiko huawei.py HuaweiBase.save_config docstring (captured VRP output):
    # "Warning: The current configuration will be written to the device. Continue? [Y/N]:y"
    _row(r"^save$", r"The current configuration will be written to the device\. Continue\? ?\[Y/N\]:?\s*$", "y",
         "netmiko/huawei/huawei.py save_config docstring (device capture)"),
    # NE40E/NE8000 V8 command reference, `abort trial` example:
    # "Warning: The trial configuration will be rolled back. Continue? [Y/N]:Y"
    _row(r"^abort trial$", r"The trial configuration will be rolled back\. Continue\? ?\[Y/N\]:?\s*$", "y",
         "Huawei NetEngine 8000 F1A command reference, abort trial (CfgTrial(CFGOM))"),
    # Leaving a two-stage session with uncommitted changes (field capture of a VRP8 box):
    # "Warning: Uncommitted configurations found, commit them before exiting? [Y(yes)/N(no)/C(cancel)]:"
    # netgen always commits explicitly first, so a leftover candidate is a failed push: discard it.
    _row(r"^(?:return|quit)$", r"Uncommitted configurations found, commit them before exiting\? ?"
                               r"\[Y\(yes\)/N\(no\)/C\(cancel\)\]:?\s*$", "n",
         "operator notes with VRP8 captures (code index, find_string 'Uncommitted configurations found')"),
    # UNVERIFIED wording: removing a whole routing/MPLS section asks for confirmation; field scripts
    # answer `y` after `undo bgp 1`, `undo isis 1`, `undo mpls`, `undo mpls ldp`, `undo ospf 1`.
    _row(r"^undo (?:bgp|isis|ospf|mpls)\b", r"\[Y/N\]:?\s*$", "y",
         "UNVERIFIED text; confirmation seen in Huawei test scripts (code index, find_string 'undo bgp')"),
)

COMWARE = (
    # UNVERIFIED wording: `undo bgp` asks on Comware 7 (test double's text); confirmed by field
    # scripts classifying it as critical, not by a capture of the prompt.
    _row(r"^undo bgp\b", r"\[Y/N\]:?\s*$", "y", "UNVERIFIED text (no capture found)"),
)

DIALOGS = {"huawei_vrp": VRP, "h3c_comware": COMWARE}


def answer(platform: str, command: str, question: str) -> Dialog | None:
    """The row expecting `question` after `command`, or None (an unexpected prompt)."""
    return next((d for d in DIALOGS.get(platform, ()) if d.command.search(command) and d.prompt.search(question)),
                None)


def decline(question: str) -> str:
    """What refuses a question without confirming anything: cancel where offered, else no."""
    return "c" if re.search(r"/C\b|C\(cancel\)", question) else "n"


# ---------------------------------------------------------------------------- commit modes

TWO_STAGE, COMMIT_DELAY, NETGEN_HELD = "two-stage", "commit-delay", "netgen-held"
MODES = (TWO_STAGE, COMMIT_DELAY, NETGEN_HELD)
LABELS = {TWO_STAGE: "native commit trial", COMMIT_DELAY: "native commit delay", NETGEN_HELD: "netgen-held rollback"}
