"""One interactive CLI session on a simulated device: prompts, views, paging, [Y/N] questions.

User view `<name>`; `system-view` → `[name]`; a view-opening command → `[name-label]` (nested
views chain their labels); `quit` goes up one view (out of system-view to user view, and from
user view ends the session); `return` goes to user view from anywhere. Output longer than a
page stops at `---- More ----` until the paging command of the profile turns paging off.

Two-stage (VRP8) sessions edit their own candidate, a copy of the running config taken at
`system-view`; the prompt is `[~name]`, `[*name]` once the candidate differs from the running
config (NE40E V8 command reference, commit: "*" marks uncommitted configurations, "~" none);
`commit …` / `abort trial` go to transactions.py; leaving with uncommitted changes asks
"Warning: Uncommitted configurations found, commit them before exiting? [Y(yes)/N(no)/C(cancel)]:"
(y commits, n discards, c stays; anything else: "Error: Please choose 'YES', 'NO' or 'CANCEL'
first before pressing 'Enter'. [Y/N/C]:" — both from VRP8 field captures); a session that ends
(disconnect) drops its candidate: nothing uncommitted ever reaches the running config.
"""
from __future__ import annotations

import copy
import re
import socket

from .device import Node, SimDevice

PAGE = 40


class Session:
    def __init__(self, device: SimDevice, channel, stop):
        self.device, self.channel, self.stop = device, channel, stop
        self.views: list[tuple[Node, str]] | None = None   # None: user view
        self.paging = True
        self.more: list[str] = []          # lines waiting behind ---- More ----
        self.pending = None                # callback waiting for a [Y/N] answer
        self.pending_raw = None            # callback taking the raw answer (Y/N/C)
        self.candidate = None              # two-stage: this session's candidate config
        self.buffer = ""
        self.last_cr = False

    # ---- I/O

    def write(self, text: str) -> None:
        self.channel.sendall(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))

    def prompt(self) -> str:
        host = self.device.hostname
        if self.views is None:
            return f"<{host}>"
        labels = [label for _, label in self.views[1:]]
        mark = ("*" if self.dirty() else "~") if self.device.two_stage else ""
        return "[" + mark + "-".join([host] + labels) + "]"

    def dirty(self) -> bool:
        return self.candidate is not None and (
            self.device._render(self.candidate).split("\n", 2)[2:] != self.device._render(self.device.root).split("\n", 2)[2:])

    def run(self) -> None:
        self.write(self.device.profile.login_banner + self.prompt())
        self.channel.settimeout(0.05)
        raw = b""
        while not self.stop.is_set():
            try:
                data = self.channel.recv(4096)
            except socket.timeout:
                continue
            if not data:
                return
            raw += data
            try:
                text, raw = raw.decode("utf-8"), b""
            except UnicodeDecodeError:
                continue  # a multi-byte character split across reads
            for char in text:
                if self.feed(char) is False:
                    return

    def feed(self, char: str):
        if char == "\x00":
            return None  # netmiko's is_alive() probe: a terminal ignores NUL
        if self.more:
            self.page(char)
            return None
        if char in "\r\n":
            if char == "\n" and self.last_cr:
                self.last_cr = False
                return None
            self.last_cr = char == "\r"
            line, self.buffer = self.buffer, ""
            self.write(line + "\n")
            return self.execute(line)
        self.last_cr = False
        self.buffer += char
        return None

    def page(self, char: str) -> None:
        if char in "qQ\x03":
            self.more = []
        else:
            count = PAGE if char == " " else 1
            chunk, self.more = self.more[:count], self.more[count:]
            self.write("\n".join(chunk) + "\n")
        self.write("  ---- More ----" if self.more else self.prompt())

    def show(self, text: str) -> None:
        lines = text.rstrip("\n").split("\n") if text else []
        if self.paging and len(lines) > PAGE:
            self.write("\n".join(lines[:PAGE]) + "\n  ---- More ----")
            self.more = lines[PAGE:]
            return
        self.write(text if not text or text.endswith("\n") else text + "\n")
        self.write(self.prompt())

    # ---- commands

    def error(self, message: str = "Unrecognized command found at '^' position.") -> str:
        return f"{' ' * 10}^\n{self.device.profile.error_prefix}{message}\n"

    def execute(self, line: str):
        command = " ".join(line.split())
        profile = self.device.profile
        if self.pending_raw is not None:
            return self.pending_raw(command.lower())
        if self.pending is not None:
            callback, self.pending = self.pending, None
            self.show(callback(command.lower().startswith("y")))
            return None
        if not command:
            self.write(self.prompt())
            return None
        if command.startswith("display "):
            output = self.device.display(command)
            self.show(self.error() if output is None else output)
            return None
        leaving = command == "return" or (command == "quit" and self.views is not None and len(self.views) == 1)
        if self.views is not None and leaving and self.dirty():
            return self.ask_uncommitted()
        if command == "return" and self.views is not None:
            self.views = self.candidate = None
            self.show("")
            return None
        if command == "quit":
            if self.views is None:
                self.channel.close()
                return False
            self.views.pop()
            if not self.views:
                self.views = self.candidate = None
            self.show("")
            return None
        if self.views is None:
            return self.user_view(command, profile)
        if self.transaction(command):
            return None
        view, depth = self.views[-1][0], len(self.views) - 1
        output, entered, confirm = self.device.configure(view, depth, command)
        if confirm is not None:
            self.pending = confirm
            self.write(output)
            return None
        if entered is not None:
            self.views.append((entered, profile.label(entered.text)))
        self.show(output)
        return None

    # ---- transactions (transactions.py)

    def ask_uncommitted(self):
        def answer(reply: str):
            if reply in ("y", "yes", "n", "no", "c", "cancel"):
                self.pending_raw = None
                if reply.startswith("y"):
                    self.device.tx.commit(self.candidate, self)
                if not reply.startswith("c"):
                    self.views = self.candidate = None   # `n`: the candidate is discarded
                self.show("")
            else:
                self.write("Error: Please choose 'YES', 'NO' or 'CANCEL' first before pressing 'Enter'. [Y/N/C]:")
        self.pending_raw = answer
        self.write("Warning: Uncommitted configurations found, commit them before exiting? "
                   "[Y(yes)/N(no)/C(cancel)]:")

    def transaction(self, command: str) -> bool:
        """A transaction command in a config view: handled (True) or not one (False)."""
        tx = self.device.tx
        if re.match(r"(?:commit|abort trial|configuration commit)\b", command):
            self.device.commands.append(command)
        if self.device.two_stage and (m := re.fullmatch(r"commit(?: trial(?: (\d+))?)?(?: (?:label|description) .*)?",
                                                        command)):
            trial = (int(m.group(1)) if m.group(1) else 600) if " trial" in command else None
            self.show(tx.commit(self.candidate, self, trial))
            self.candidate = self._rebase()
            return True
        if self.device.two_stage and command == "abort trial":
            def abort(yes: bool) -> str:
                out = tx.abort_trial() if yes else ""
                self.candidate = self._rebase()
                return out
            self.pending = abort
            self.write("Warning: The trial configuration will be rolled back. Continue? [Y/N]:")
            return True
        if self.device.profile.name == "h3c_comware" and len(self.views) == 1:
            if m := re.fullmatch(r"configuration commit delay (\d+)", command):
                self.show(tx.commit_delay(int(m.group(1))))
                return True
            if command == "configuration commit":
                self.show(tx.confirm_delay())
                return True
        return False

    def _rebase(self):
        """After a commit or an abort: a fresh candidate from the running config, same views."""
        path = [label for _, label in self.views]
        texts = []
        node = self.candidate
        for view, _ in self.views[1:]:
            texts.append(view.text)
        fresh = copy.deepcopy(self.device.root)
        views, node = [(fresh, "")], fresh
        for text, label in zip(texts, path[1:]):
            node = node.find(text) or node
            views.append((node, label))
        self.views = views
        return fresh

    def user_view(self, command: str, profile):
        if command == "system-view":
            if self.device.two_stage:
                self.candidate = copy.deepcopy(self.device.root)
                self.views = [(self.candidate, "")]
            else:
                self.views = [(self.device.root, "")]
            self.show(profile.system_view_banner)
        elif self.device.two_stage and (m := re.fullmatch(r"rollback configuration to commit-id (\d+)", command)):
            out = self.device.tx.rollback_to(int(m.group(1)))
            self.show(self.error("Wrong parameter found at '^' position.") if out is None else out)
        elif command == profile.paging_command:
            self.paging = False
            self.show("Info: The configuration takes effect on the current user terminal interface only."
                      if profile.name == "huawei_vrp" else "")
        elif profile.name == "huawei_vrp" and command == "save":
            def save(yes: bool) -> str:
                if not yes:
                    return ""
                self.device.save()
                return "Now saving the current configuration to the slot 1.\nInfo: Save the configuration successfully."
            self.pending = save
            self.write("Warning: The current configuration will be written to the device. Continue? [Y/N]:")
        elif profile.name == "h3c_comware" and command == "save force":
            self.device.save()
            self.show("Validating file. Please wait...\nSaved the current configuration to mainboard device successfully.")
        else:
            self.show(self.error())
        return None
