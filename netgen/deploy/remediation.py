"""hier_config for Huawei VRP and H3C Comware: parse, remediation, human diff, secrets.

The one home for netgen's hier_config use on the two CLI platforms ("huawei_vrp",
"h3c_comware"); the napalm drivers (netgen/deploy/drivers/cli.py) call only this module.

Parsing
    VRP parses with hier_config's Platform.HUAWEI_VRP driver (it drops `#`/`!` comment lines);
    Comware with Platform.HP_COMWARE5 plus the same `#` comment rule. A top-level `return`
    (the last line of a rendered config and of `display current-configuration`) is dropped:
    it is an end marker, never a command to send. Texts must be normalised device output or
    rendered configs (the Comware driver dedents its one-space global lines first).

Remediation: the commands a push sends
    `remediation()` returns the commands that take `running` to `intended`: hier_config's
    remediation fed with the platform's rules (netgen/deploy/rules/<platform>.yaml, each row with
    its vendor reference: negation forms such as `undo bandwidth` without argument, idempotent
    commands whose new value simply replaces the old, ordering weights), plus netgen's own rule
    kinds from the same file where hier_config has none: a section the device cannot delete
    (physical port, vty lines) loses its lines instead; lines a change clears on the device (the
    addresses when the VPN binding changes, VPN targets around an RD change) are sent again; a
    removed BGP peer is one `undo peer X`, nothing else about X.
    The list is *flattened for a CLI session in system-view*: a line that opens a view (it has
    children here, or it is a view-opening command such as `mpls` or `address-family ipv4` that
    has none) is followed by its children and a `quit`, so every block ends back in the view it
    started in. Each line carries one leading space per view depth, for reading only: the push
    strips them. `system-view` before and `return` after are the driver's, not in the list.

Secrets
    A device shows a stored key encrypted (VRP `cipher %^%#…%^%#`, Comware `cipher $c$3$…`, a
    Comware `simple` key is shown as `cipher`) while the candidate holds the clear value (or
    still its `<<secret:NAME>>` placeholder). A naive comparison would re-push every key on
    every plan. So a candidate line carrying a secret *matches* a running line that differs
    only in its secret tokens (and `simple` vs `cipher`): the candidate line is taken as the
    running one. The price: a key changed only in value is not detected — rotate deliberately
    with `push_secrets=True` (the drivers' optional arg), which sends every secret-bearing
    candidate line as an addition (setting a key overwrites it; no `undo`). Rollback compares
    exactly (`match_secrets=False`) so a rotated key is put back by its stored ciphertext.
    `redact()` masks secret tokens (clear or encrypted) in any text; `diff()` output and
    anything the drivers log or raise goes through it.
"""
from __future__ import annotations

import ipaddress
import re

from hier_config import HConfig, Platform, WorkflowRemediation, get_hconfig, get_hconfig_driver
from hier_config.models import MatchRule, PerLineSubRule

from netgen.deploy.rules import load as load_rules

PLATFORMS = ("huawei_vrp", "h3c_comware")
MASK = "******"
PLACEHOLDER = re.compile(r"<<(?:secret|env):[^>\s]*>>")

# Tokens that hold a secret, per platform: every group of every pattern is one secret token.
_SECRET_PATTERNS = {
    "huawei_vrp": (
        re.compile(r"\b(?:cipher|irreversible-cipher|simple)\s+(\S+)"),
    ),
    "h3c_comware": (
        re.compile(r"\b(?:cipher|simple|hash)\s+(?!authentication-mode\b)(\S+)"),
        # snmp-agent usm-user v3 U G {cipher|simple} authentication-mode ALG KEY privacy-mode ALG KEY
        re.compile(r"\bsnmp-agent usm-user\b.*?\bauthentication-mode\s+\S+\s+(\S+)"),
        re.compile(r"\bsnmp-agent usm-user\b.*?\bprivacy-mode\s+\S+\s+(\S+)"),
    ),
}

# Per-platform rules (view openers, negation forms, idempotent commands, ordering, permanent
# sections, re-send after a change, BGP peer removal) are data with their vendor references:
# netgen/deploy/rules/<platform>.yaml. A command missing from the view openers that opens a view
# anyway is caught at push time (the prompt changes after what we sent as a leaf: the driver sends
# `quit` and logs it).


def _check(platform: str) -> None:
    if platform not in PLATFORMS:
        raise ValueError(f"unknown CLI platform {platform!r} (expected one of {', '.join(PLATFORMS)})")


def _driver(platform: str):
    _check(platform)
    rules = load_rules(platform)
    if platform == "huawei_vrp":
        driver = get_hconfig_driver(Platform.HUAWEI_VRP)
    else:
        driver = get_hconfig_driver(Platform.HP_COMWARE5)
        driver.rules.per_line_sub.append(PerLineSubRule(search=r"^\s*#.*", replace=""))
    driver.rules.negation_sub.extend(rules.negation_sub)
    driver.rules.idempotent_commands.extend(rules.idempotent)
    driver.rules.ordering.extend(rules.ordering)
    return driver


def parse(platform: str, text: str) -> HConfig:
    """A config text (rendered, or normalised device output) as a hier_config tree."""
    body = "\n".join(line for line in text.splitlines() if line.rstrip() != "return")
    return get_hconfig(_driver(platform), body)


# ------------------------------------------------------------------------------------ secrets


def _spans(platform: str, line: str) -> list[tuple[int, int]]:
    spans = {m.span(g) for p in _SECRET_PATTERNS[platform] for m in p.finditer(line)
             for g in range(1, (p.groups or 0) + 1) if m.group(g)}
    return sorted(spans)


def has_secret(platform: str, line: str) -> bool:
    return bool(_spans(platform, line))


def _replace_spans(line: str, spans: list[tuple[int, int]], token: str) -> str:
    for start, end in reversed(spans):
        line = line[:start] + token + line[end:]
    return line


def secret_key(platform: str, line: str) -> str:
    """The line with its secret tokens masked and `simple` read as `cipher`: two lines with the
    same key set the same secret (one shown encrypted, the other given clear)."""
    spans = _spans(platform, line)
    if not spans:
        return line
    return re.sub(r"\bsimple\b", "cipher", _replace_spans(line, spans, "<secret>"))


def secret_values(platform: str, text: str) -> set[str]:
    """The clear secret values a config text holds (placeholders excluded): what logs must hide."""
    values = set()
    for line in text.splitlines():
        for start, end in _spans(platform, line):
            token = line[start:end]
            if not PLACEHOLDER.fullmatch(token):
                values.add(token)
    return values


def redact(platform: str, text: str, values=()) -> str:
    """`text` with every secret token (by position, clear or encrypted) and every given value masked."""
    lines = [_replace_spans(line, _spans(platform, line), MASK) for line in text.split("\n")]
    out = "\n".join(lines)
    for value in sorted((v for v in values if v), key=len, reverse=True):
        out = out.replace(value, MASK)
        escaped = repr(value.encode())[2:-1]  # how it appears inside a logged bytes repr
        if escaped != value:
            out = out.replace(escaped, MASK)
    return out


def placeholders(lines) -> list[str]:
    """Unfilled `<<secret:…>>`/`<<env:…>>` references in `lines` (their names are not secret)."""
    return sorted({m.group(0) for line in lines for m in PLACEHOLDER.finditer(line)})


def _align(platform: str, running: HConfig, intended: HConfig, push_secrets: bool) -> tuple[HConfig, HConfig]:
    """Copies of both trees where a candidate secret line matching a running line by
    `secret_key` carries the running text (no diff), or, with `push_secrets`, where the running
    twin is gone (so the line is sent as an addition)."""
    running = running.deep_copy()
    lines: list[str] = []

    def walk(want, have, depth: int) -> None:
        for child in want.children:
            text = child.text
            twin = have.children.get(text) if have is not None else None
            if has_secret(platform, text) and have is not None:
                if twin is None:
                    key = secret_key(platform, text)
                    twin = next((c for c in have.children if secret_key(platform, c.text) == key), None)
                if twin is not None:
                    if push_secrets:
                        twin.delete()
                        twin = None
                    else:
                        text = twin.text
            lines.append(" " * depth + text)
            walk(child, twin, depth + 1)

    walk(intended, running, 0)
    return running, get_hconfig(_driver(platform), "\n".join(lines))


# ---------------------------------------------------------------------------------- remediation


def _opens_view(platform: str, text: str, depth: int) -> bool:
    if text.startswith("undo "):
        return False
    return any((d is None or d == depth) and p.search(text) for d, p in load_rules(platform).view_openers)


def flatten(platform: str, tree: HConfig) -> list[str]:
    """A remediation tree as the CLI lines a push sends: views closed by `quit` (module doc)."""
    out: list[str] = []

    def walk(node, depth: int) -> None:
        for child in sorted(node.children):
            out.append(" " * depth + child.text)
            if child.children or _opens_view(platform, child.text, depth):
                walk(child, depth + 1)
                out.append(" " * (depth + 1) + "quit")

    walk(tree, 0)
    return out


def _keep_permanent(platform: str, have: HConfig, want: HConfig) -> None:
    """A section the device cannot delete (a physical port, the vty lines) that `want` lacks is
    kept in `want` empty: its lines are removed one by one instead of an `undo` of the section."""
    for child in have.children:
        if child.text not in want.children and any(p.search(child.text) for p in load_rules(platform).permanent):
            want.add_child(child.text)


def _resend(platform: str, have: HConfig, want: HConfig) -> None:
    """Where a `resend` rule's trigger line changes (added or removed) in a section, the running
    copy forgets the section's lines the device clears with it, so they are sent again."""
    for rule in load_rules(platform).resend:
        for section in want.all_children():
            if not section.is_lineage_match(rule.lineage):
                continue
            twin = have.get_child_deep(tuple(MatchRule(equals=t) for t in section.path()))
            if twin is None:
                continue
            old = {c.text for c in twin.children if rule.trigger.search(c.text)}
            new = {c.text for c in section.children if rule.trigger.search(c.text)}
            if old == new:
                continue
            for child in list(twin.children):
                if rule.resend.search(child.text) and child.text in section.children:
                    child.delete()


_PEER = re.compile(r"^peer (\S+) as-number \S+$")


def _removed_peers(have, want) -> dict[tuple[str, ...], set[str]]:
    """{path of a section: peers whose `peer X as-number` it loses}, for a BGP view and its families."""
    out: dict[tuple[str, ...], set[str]] = {}

    def walk(old, new) -> None:
        peers = {m.group(1) for c in old.children if (m := _PEER.match(c.text))}
        kept = {m.group(1) for c in new.children if (m := _PEER.match(c.text))} if new is not None else set()
        if peers - kept:
            out[tuple(old.path())] = peers - kept
        for child in old.children:
            if child.children:
                walk(child, new.children.get(child.text) if new is not None else None)

    for child in have.children:
        twin = want.children.get(child.text)
        if child.children and twin is not None:
            walk(child, twin)
    return out


def _collapse_peers(platform: str, have: HConfig, want: HConfig, delta: HConfig) -> None:
    """A removed BGP peer is one `undo peer X` in the view that declared it: it deletes every
    setting of the peer, so no other line about X is sent (rules: peer_removal)."""
    view = load_rules(platform).peer_view
    for path, peers in _removed_peers(have, want).items():
        if not view.search(path[0]):
            continue
        node = delta.get_child_deep(tuple(MatchRule(equals=t) for t in path))
        if node is None:
            continue
        about = re.compile(rf"^undo peer (?:{'|'.join(map(re.escape, sorted(peers)))})(?: |$)")
        for child in list(node.all_children()):
            if about.match(child.text):
                parent = child.parent
                child.delete()
                # a family that held only lines about the peer goes too
                while parent is not node and not parent.children:
                    parent, gone = parent.parent, parent
                    gone.delete()
        for peer in sorted(peers, key=_peer_key):
            node.add_child(f"undo peer {peer}")
    delta.set_order_weight()


def _peer_key(peer: str):
    try:
        return (0, ipaddress.ip_address(peer))
    except ValueError:
        return (1, peer)


def remediation(platform: str, running: str, intended: str, *, push_secrets: bool = False,
                match_secrets: bool = True) -> list[str]:
    """The commands (flattened, see the module doc) that take `running` to `intended`.

    `match_secrets=False` compares secret lines exactly (rollback to a stored ciphertext)."""
    have, want = parse(platform, running), parse(platform, intended)
    if match_secrets or push_secrets:
        have, want = _align(platform, have, want, push_secrets)
    else:
        have = have.deep_copy()
    _keep_permanent(platform, have, want)
    _resend(platform, have, want)
    delta = WorkflowRemediation(have, want).remediation_config
    _collapse_peers(platform, have, want, delta)
    return flatten(platform, delta)


def diff(platform: str, running: str, intended: str, *, push_secrets: bool = False) -> str:
    """A human diff running → intended: `- `/`+ ` lines with their parents as `  ` context,
    indented one space per level, secrets masked. Empty when nothing would change."""
    have, want = _align(platform, parse(platform, running), parse(platform, intended), push_secrets)
    out: list[str] = []

    def subtree(sign: str, node, depth: int) -> None:
        out.append(f"{sign} {' ' * depth}{node.text}")
        for child in node.children:
            subtree(sign, child, depth + 1)

    def walk(old, new, depth: int) -> None:
        for child in old.children:
            other = new.children.get(child.text)
            if other is None:
                subtree("-", child, depth)
                continue
            mark = len(out)
            walk(child, other, depth + 1)
            if len(out) > mark:
                out.insert(mark, f"  {' ' * depth}{child.text}")
        for child in new.children:
            if child.text not in old.children:
                subtree("+", child, depth)

    walk(have, want, 0)
    return redact(platform, "\n".join(out) + "\n") if out else ""

