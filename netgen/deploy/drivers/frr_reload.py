"""frr-reload.py's output, parsed: the commands it will run, a human diff, and secrets masked.

`frr-reload.py --test` prints two sections, "Lines To Delete" and "Lines To Add". Each entry is
one command *with its context*, as frr-reload sends it to vtysh: the context lines (unindented
first, then one more space per level) followed by the line itself — `no …` for a deletion — or
only context lines when a whole context is added or removed:

    Lines To Delete
    ===============
    router bgp 65000
     no neighbor 10.0.0.1 description old

    Lines To Add
    ============
    interface lo
     ip address 10.255.0.1/32

A new entry starts at every unindented line. Deletions are run first, then additions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DELETE_HEADER = "Lines To Delete"
ADD_HEADER = "Lines To Add"

# FRR commands whose next word is a secret (an optional `clear`/`md5` keyword in between).
_SECRET = re.compile(
    r"(?P<keep>\b(?:password|authentication-key|key-string|message-digest-key\s+\d+\s+md5|"
    r"authentication\s+string|area-password|domain-password|key)\s+(?:(?:clear|md5|hmac-\S+)\s+)?)"
    r"(?P<secret>\S+)")
MASK = "<removed>"


def mask(line: str) -> str:
    """The line with every secret value replaced by `<removed>`."""
    return _SECRET.sub(lambda m: m.group("keep") + MASK, line)


@dataclass(frozen=True)
class Entry:
    delete: bool
    lines: tuple[str, ...]  # context lines, then the command, exactly as frr-reload prints them

    @property
    def context(self) -> tuple[str, ...]:
        return self.lines[:-1]

    @property
    def command(self) -> str:
        return self.lines[-1]

    @property
    def original(self) -> str:
        """For a deletion, the config line that goes away (frr-reload's inverse of `no`)."""
        if not self.delete:
            return self.command
        indent = len(self.command) - len(self.command.lstrip())
        body = self.command.lstrip()
        return " " * indent + (body[3:] if body.startswith("no ") else "no " + body)


def parse_test_output(text: str) -> list[Entry]:
    """The entries of `frr-reload.py --test` stdout, in the order frr-reload applies them."""
    entries: list[Entry] = []
    section = None
    current: list[str] = []

    def flush():
        if current and section is not None:
            entries.append(Entry(section == DELETE_HEADER, tuple(current)))
        current.clear()

    for raw in text.splitlines():
        line = raw.rstrip("\n")
        stripped = line.strip()
        if stripped in (DELETE_HEADER, ADD_HEADER):
            flush()
            section = stripped
            continue
        if not stripped or set(stripped) == {"="}:
            flush()
            continue
        if section is None:
            continue  # anything before the first header (there is nothing in 8.4)
        if not line.startswith(" "):
            flush()
        current.append(line)
    flush()
    return entries


def commands(entries: list[Entry]) -> list[str]:
    """Every line frr-reload sends, context included, in order (exact: secrets included)."""
    return [line for e in entries for line in e.lines]


def human_diff(entries: list[Entry]) -> str:
    """`-`/`+` lines with their parent lines (prefixed by a space) for context, secrets masked.

    A context is printed once for consecutive entries under it; a context that is itself
    added or removed is printed with its `+`/`-`."""
    out: list[str] = []
    shown: tuple[str, ...] = ()
    for e in entries:
        sign = "-" if e.delete else "+"
        ctx = e.context
        # print the context lines not already on screen
        common = 0
        while common < min(len(ctx), len(shown)) and ctx[common] == shown[common]:
            common += 1
        for line in ctx[common:]:
            out.append(" " + mask(line))
        out.append(sign + mask(e.original.rstrip()))
        shown = ctx if e.delete else e.lines  # an added line may be the context of the next entries
    return "\n".join(out) + ("\n" if out else "")


def leftover_summary(entries: list[Entry], limit: int = 12) -> str:
    """A short, masked description of entries still pending after a reload (for error messages)."""
    lines = []
    for e in entries[:limit]:
        lines.append(("-" if e.delete else "+") + " " + " / ".join(mask(x.strip()) for x in
                                                                     (*e.context, e.original)))
    if len(entries) > limit:
        lines.append(f"… and {len(entries) - limit} more")
    return "\n".join(lines)


def error_lines(log_text: str, limit: int = 6) -> list[str]:
    """frr-reload's ERROR/WARNING messages and vtysh `%` errors, masked, for an error message."""
    out = []
    for line in log_text.splitlines():
        s = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
        if re.search(r"\b(ERROR|WARNING)\b", s) or s.startswith("%") or "Failure to communicate" in s:
            s = re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+\s+", "", s)
            out.append(mask(s))
    return out[:limit]
