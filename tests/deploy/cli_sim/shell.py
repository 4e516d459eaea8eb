"""One interactive CLI session on a simulated device: prompts, views, paging, [Y/N] questions.

User view `<name>`; `system-view` → `[name]`; a view-opening command → `[name-label]` (nested
views chain their labels); `quit` goes up one view (out of system-view to user view, and from
user view ends the session); `return` goes to user view from anywhere. Output longer than a
page stops at `---- More ----` until the paging command of the profile turns paging off.
"""
from __future__ import annotations

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
        return "[" + "-".join([host] + labels) + "]"

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
        if command == "return" and self.views is not None:
            self.views = None
            self.show("")
            return None
        if command == "quit":
            if self.views is None:
                self.channel.close()
                return False
            self.views.pop()
            if not self.views:
                self.views = None
            self.show("")
            return None
        if self.views is None:
            return self.user_view(command, profile)
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

    def user_view(self, command: str, profile):
        if command == "system-view":
            self.views = [(self.device.root, "")]
            self.show(profile.system_view_banner)
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
