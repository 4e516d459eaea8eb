"""The simulated device's state: a config tree, the saved copy, and what configuring a line does.

Line semantics (a small, honest model, not VRP's or Comware's parser):
- a command equal to an existing line in the current view does nothing, or enters it if it is
  a view; a new command is appended (keys stored encrypted, a key replacing the same key); a
  command matching the profile's view patterns opens a view;
- `undo X` removes the line X (or the first line starting `X `: `undo description`) with its
  children — asking `[Y/N]` first for big sections on VRP (`undo bgp|isis|ospf|mpls`), `undo
  bgp` on Comware; where there is no X it stores `undo X` (a negated default, such as `undo
  telnet server enable`); a positive command removes its stored `undo` form;
- any command matching a test's `reject()` pattern prints the platform's error line and
  changes nothing. Nothing checks that a command is valid otherwise.
"""
from __future__ import annotations

import re
import threading
import time

from .display import captured_display
from .profiles import PROFILES, Profile
from .transactions import Transactions

# A physical port's name (sub-interfaces `X.N` share their port's check); logical interfaces
# (LoopBack, Eth-Trunk, Tunnel, Vlanif, NULL …) are not hardware.
_PHYSICAL = re.compile(r"^(?:GigabitEthernet|Ten-GigabitEthernet|FortyGigE|HundredGigE|XGigabitEthernet"
                       r"|(?:10|25|40|50|100|200|400)GE|Ethernet)\d")


# Commands that hold one value in their view: setting one replaces the last. Sources: annet's
# huawei.rul / h3c.rul, which key these lines by their keyword (`description %global`, `sysname`,
# `interface * / isis cost`, `user-interface ~ / idle-timeout`, `mpls lsr-id`, `bgp / router-id`,
# `header login`), and the VRP8 `bandwidth` page (NE40E V8 command reference) for bandwidth.
SINGLE_VALUED = ("sysname ", "description ", "bandwidth ", "isis cost ", "idle-timeout ", "mpls lsr-id ",
                 "router-id ", "header login ")


class Node:
    """A config line and its children, kept in the device's display order: each line text ever
    seen in this view has a rank (its place at load; a new line goes after the last line of
    its kind — same first word), so a line removed and set again shows where it was, as on a
    device whose display order is fixed by the command, not by when it was typed."""

    def __init__(self, text: str, view: bool = False):
        self.text, self.view, self.children = text, view, []
        self.ranks: dict[str, float] = {}
        self.rank = 0.0

    def insert(self, node: "Node", key: str) -> None:
        if key not in self.ranks:
            kind = key.split()[0]
            same = [r for t, r in self.ranks.items() if t.split()[0] == kind]
            if same:
                after = max(same)
                later = [r for r in self.ranks.values() if r > after]
                self.ranks[key] = (after + min(later)) / 2 if later else after + 1
            else:
                self.ranks[key] = max(self.ranks.values(), default=0) + 1
        node.rank = self.ranks[key]
        index = next((i for i, c in enumerate(self.children) if c.rank > node.rank), len(self.children))
        self.children.insert(index, node)

    def find(self, text: str) -> "Node | None":
        return next((c for c in self.children if c.text == text), None)


class SimDevice:
    """One simulated router; shared by all SSH sessions to it (one lock)."""

    def __init__(self, platform: str, config: str = "", commit_mode: str | None = None,
                 ports: list[str] | None = None, time_scale: float = 1.0, strict_undo: bool = True):
        """`commit_mode="two-stage"` (VRP only): changes wait in each session's candidate for
        `commit`. `ports`: the model's physical ports; `interface X` for another physical port is
        refused. `time_scale`: device seconds → real seconds for the commit timers.
        `strict_undo`: refuse undo forms the device refuses (VRP `undo bandwidth <value>`)."""
        self.profile: Profile = PROFILES[platform]
        if commit_mode not in (None, "two-stage") or (commit_mode and platform != "huawei_vrp"):
            raise ValueError(f"commit_mode {commit_mode!r} is not a mode of {platform}")
        self.two_stage = commit_mode == "two-stage"
        self.ports = set(ports) if ports is not None else None
        self.time_scale, self.strict_undo = time_scale, strict_undo
        self.questions: list[tuple[re.Pattern, str]] = []   # ask(): extra questions a test makes up
        self.command_delay = 0.0                            # seconds each config command takes
        self.lock = threading.RLock()
        self.root = Node("", view=True)
        self.saved_text = ""
        self.updated = time.time()
        self.rejects: list[tuple[re.Pattern, str]] = []
        self.bgp_state: dict[str, str] = {}     # peer → state; default Established
        self.commands: list[str] = []           # every config-view command received, in order
        if config:
            self.load(config)
        self.save()
        self.tx = Transactions(self)
        self.tx._point("CLI")     # the boot configuration is the first commit point

    # ---- test API

    def load(self, text: str) -> None:
        """Replace the config with `text` (rendered layout: one space per level), as if typed."""
        with self.lock:
            self.root = Node("", view=True)
            stack: list[Node] = [self.root]
            for line in text.splitlines():
                if not line.strip() or line.lstrip().startswith("#") or line.strip() == "return":
                    continue
                depth = len(line) - len(line.lstrip(" "))
                del stack[depth + 1:]
                parent = stack[-1]
                node = Node(self.profile.store(line.strip()), self.profile.opens_view(line.strip(), depth))
                parent.insert(node, self.profile.key_of(node.text))
                parent.view = True
                stack.append(node)
            self.updated = time.time()

    def ask(self, pattern: str, question: str) -> None:
        """Make every command matching `pattern` ask `question` first (applied on y)."""
        self.questions.append((re.compile(pattern), question))

    def reject(self, pattern: str, message: str = "Wrong parameter found at '^' position.") -> None:
        """Make every command matching `pattern` fail with the platform's error line."""
        self.rejects.append((re.compile(pattern), message))

    def running_text(self) -> str:
        with self.lock:
            return self._render(self.root)

    def save(self) -> None:
        with self.lock:
            self.saved_text = self._render(self.root)

    @property
    def hostname(self) -> str:
        sysname = next((c.text for c in self.root.children if c.text.startswith("sysname ")), None)
        return sysname.split(None, 1)[1] if sysname else self.profile.default_hostname

    # ---- configuring (called by a session in a config view)

    def configure(self, view: Node, depth: int, command: str):
        """Apply one command in `view` → (output, view entered or None, confirm callback or None)."""
        with self.lock:
            self.commands.append(command)
            for pattern, message in self.rejects:
                if pattern.search(command):
                    return f"{' ' * 10}^\n{self.profile.error_prefix}{message}\n", None, None
            time.sleep(self.command_delay)
            for pattern, question in self.questions:
                if pattern.search(command):
                    def later(yes: bool, view=view, depth=depth, command=command) -> str:
                        saved, self.questions = self.questions, []
                        try:
                            return self.configure(view, depth, command)[0] if yes else ""
                        finally:
                            self.questions = saved
                    return question, None, later
            refused = self._refuses(depth, command)
            if refused:
                return f"{' ' * 10}^\n{self.profile.error_prefix}{refused}\n", None, None
            if command.startswith("undo "):
                return self._undo(view, command[5:].strip())
            existing = view.find(command)
            if existing is not None:
                return "", existing if existing.view else None, None
            negated = view.find(f"undo {command}")
            if negated is not None:
                view.children.remove(negated)
                self._touch()
                return "", None, None
            stored = self.profile.store(command)
            key = self.profile.key_of(stored)
            single = next((w for w in SINGLE_VALUED if command.startswith(w)), None)
            for child in list(view.children):
                if (key != stored and self.profile.key_of(child.text) == key) or (
                        single is not None and child.text.startswith(single)):
                    # single-valued commands: a new value overwrites the old one
                    view.children.remove(child)
            node = Node(stored, self.profile.opens_view(command, depth))
            view.insert(node, key)
            self._touch()
            return "", node if node.view else None, None

    def _refuses(self, depth: int, command: str) -> str:
        """What the device itself refuses (beyond a test's reject()): the error text, or ""."""
        # NE40E V8 command reference, `bandwidth`: the undo form is `undo bandwidth`, no value;
        # a value after it is a parameter VRP does not take. Error wording: Huawei "Interpreting
        # CLI error messages" (Error: Wrong parameter / Too many parameters found at '^' position).
        if (self.strict_undo and self.profile.name == "huawei_vrp"
                and re.fullmatch(r"undo bandwidth \S+", command)):
            return "Too many parameters found at '^' position."
        name = re.fullmatch(r"interface (\S+)", command)
        if depth == 0 and name and self.ports is not None and _PHYSICAL.match(name.group(1)):
            if name.group(1).split(".", 1)[0] not in self.ports:
                # no such port on this model: the name is a wrong parameter (same reference)
                return "Wrong parameter found at '^' position."
        return ""

    def _undo(self, view: Node, target: str):
        if view.text.startswith("bgp ") and re.fullmatch(r"peer \S+", target):
            # `undo peer X` deletes the peer and every setting of it, in every address family
            # (NE8000 command reference, peer as-number: "all configurations related to the peer
            # are deleted"; Comware 7 BGP command reference, peer as-number, likewise)
            prefix = target + " "

            def purge(node: Node) -> bool:
                before = len(node.children)
                node.children[:] = [c for c in node.children if not c.text.startswith(prefix)]
                return any([purge(c) for c in node.children]) or len(node.children) != before

            if purge(view):
                self._touch()
            return "", None, None
        user = re.fullmatch(r"(snmp-agent usm-user v3 \S+) local", target)
        if user and self.profile.name == "h3c_comware":
            # HPE/H3C Comware 7 network management command reference, snmp-agent usm-user v3:
            # `undo snmp-agent usm-user v3 user-name local` deletes the local user
            target = user.group(1)
        node = view.find(target) or next((c for c in view.children if c.text.startswith(target + " ")), None)
        if node is None:
            if view.find(f"undo {target}") is None:
                view.insert(Node(f"undo {target}"), f"undo {target}")
                self._touch()
            return "", None, None

        def remove(yes: bool = True) -> str:
            if yes and node in view.children:
                view.children.remove(node)
                self._touch()
            return ""

        if node.children and self.profile.confirm_undo.match(target):
            question = ("Warning: All the related configurations will be deleted. Continue? [Y/N]:"
                        if self.profile.name == "huawei_vrp" else "Undo the configuration? [Y/N]:")
            return question, None, remove
        return remove(), None, None

    def _touch(self) -> None:
        self.updated = time.time()

    # ---- display

    def _render(self, root: Node) -> str:
        out = self.profile.header(self.updated)
        previous_view = True
        for node in root.children:
            if node.view or previous_view:
                out.append("#")
            if node.view:
                out.append(node.text)
                self._render_children(node, 1, out)
            else:
                out.append(self.profile.top_leaf_indent + node.text)
            previous_view = node.view
        out += ["#", "return"]
        return "\n".join(out) + "\n"

    def _render_children(self, node: Node, depth: int, out: list[str]) -> None:
        for child in node.children:
            if child.view:
                out.append(" " * depth + "#")
            out.append(" " * depth + child.text)
            self._render_children(child, depth + 1, out)

    def display(self, command: str) -> str | None:
        """Output of a `display …` command, or None if the simulator does not know it."""
        command = re.sub(r"\s+", " ", command.strip())
        if command == "display current-configuration":
            return self.running_text()
        if command == "display saved-configuration":
            return self.saved_text
        if self.two_stage and command == "display configuration commit list verbose":
            return self.tx.commit_list()
        return captured_display(self, command)   # version, serial, BGP peers: from captures
