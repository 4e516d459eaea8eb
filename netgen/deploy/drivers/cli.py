"""The napalm driver shared by Huawei VRP and H3C Comware: netmiko over SSH, hier_config
remediation, and an emulated commit-confirm.

Lifecycle (what netgen's plan/apply rely on, see base.py):
- `load_replace_candidate(config=TEXT)` keeps the full intended config; the device is not
  touched. `compare_config()` (human diff, secrets masked) and `candidate_commands()` (the
  flattened remediation, see netgen/deploy/remediation.py) are computed against the running
  config read once per loaded candidate.
- `commit_config(revert_in=None)` re-reads the running config (the pre-change config, kept),
  recomputes the commands from it (replace semantics), refuses unfilled `<<secret:…>>`
  placeholders, and pushes them in system-view one by one, answering `[Y/N]` prompts. A command
  the device rejects stops the push: the pre-change config is restored (rollback remediation)
  and `CommandRejected` names the command and the device's message. Without `revert_in` the
  result is saved at once. With it, nothing is saved and an in-process timer restores the
  pre-change config unless `confirm_commit()` (which saves) comes first: the emulation of
  commit-confirm, hence `native_commit_confirm = False` — it does not survive netgen dying
  (the unsaved change then stays on the device; a reboot would drop it). `close()` with a
  commit still pending reverts it first.
- `rollback()` restores the config from before the last commit (pending or confirmed),
  verifies the running config then matches it, saves if that commit had been saved, and raises
  `RollbackError` naming what is left otherwise.

Device I/O is serialised by one lock (the revert timer runs on its own thread). Secrets never
reach an exception or a log record: every message goes through remediation.redact, and a
filter on netmiko's logger hides the candidate's secret values (netmiko logs channel traffic at
DEBUG). Do not enable netmiko's `session_log` with secrets unless you keep that file safe.

optional_args: any netmiko ConnectHandler argument (port, ssh_config_file, key_file, use_keys,
allow_agent, conn_timeout, auth_timeout, banner_timeout, …) plus `push_secrets` (bool: send
every secret line, for a deliberate key rotation) and `read_timeout` (seconds per command,
default 60), `host_key_policy` (`strict`, the default, or `accept-new`) and `known_hosts` (a
known-hosts file looked up first; see hostkeys.py).
"""
from __future__ import annotations

import logging
import math
import re
import threading
import time

import paramiko
from napalm.base import NetworkDriver
from napalm.base.exceptions import (CommitConfirmException, CommitError, ConnectAuthError,
                                    ConnectionException, ReplaceConfigException)
from napalm.base.netmiko_helpers import netmiko_args
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout

from netgen.deploy import remediation as rem
from netgen.deploy.drivers import dialogs, hostkeys, parsers
from netgen.deploy.drivers.dialogs import COMMIT_DELAY, MODES, NETGEN_HELD, TWO_STAGE

log = logging.getLogger(__name__)

# A CLI prompt alone on the last line (`<name>`, `[name]`, `[~name-view]`), or a [Y/N] question.
_PROMPT = r"(?:^|[\r\n])[<\[][^\r\n<>\[\]]*[>\]]\s*$"
_CONFIRM = dialogs.QUESTION
_PROMPT_OR_CONFIRM = f"(?:{_PROMPT}|{_CONFIRM})"


class CommandRejected(CommitError):
    """The device rejected a command of a push; `command` and `device_message` (redacted)."""

    def __init__(self, message: str, command: str = "", device_message: str = ""):
        super().__init__(message)
        self.command, self.device_message = command, device_message


class RollbackError(CommitError):
    """Restoring the pre-change config left differences (listed in the message)."""


class UnexpectedPrompt(CommitError):
    """The device asked a question the dialog table (dialogs.py) does not expect for that command."""

    def __init__(self, command: str, question: str):
        super().__init__(f"unexpected prompt after `{command}`: {question!r} (declined)")
        self.command, self.question = command, question


class _Rejected(Exception):
    def __init__(self, index: int, command: str, message: str):
        super().__init__(message)
        self.index, self.command, self.message = index, command, message


class _Redactor(logging.Filter):
    """Masks the driver's secrets in netmiko's log records (channel traffic at DEBUG)."""

    def __init__(self, driver: "CliDriver"):
        super().__init__()
        self.driver = driver

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.driver._redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class CliDriver(NetworkDriver):
    """Shared VRP/Comware driver; subclasses set the platform constants and parsers."""

    platform = ""                 # "huawei_vrp" | "h3c_comware"
    netmiko_device_type = ""      # "huawei" | "hp_comware"
    error_line = re.compile(r"^\s*Error:.*$", re.M)   # a line that means "command rejected"
    save_command = "save"
    native_commit_confirm = False   # per instance: True in the native modes (see commit_mode)
    commit_mode = NETGEN_HELD       # two-stage (VRP8) | commit-delay (Comware 7) | netgen-held
    native_modes: tuple = ()        # the native mode this platform has

    def __init__(self, hostname, username, password, timeout=60, optional_args=None):
        self.hostname, self.username, self.password, self.timeout = hostname, username, password, timeout
        self.optional_args = dict(optional_args or {})
        self.push_secrets = bool(self.optional_args.pop("push_secrets", False))
        self.read_timeout = float(self.optional_args.pop("read_timeout", 60))
        mode = self.optional_args.pop("commit_mode", None) or NETGEN_HELD
        if mode not in MODES or (mode != NETGEN_HELD and mode not in self.native_modes):
            raise ValueError(f"{hostname}: commit_mode {mode!r} is not available on {self.platform or 'this driver'}")
        self.commit_mode = mode
        self.native_commit_confirm = mode != NETGEN_HELD
        self._deadline = 0.0                  # native modes: when the device's own timer fires
        self._pre_commit_id = ""              # two-stage: the device's commit point before ours
        self.netmiko_optional_args = netmiko_args(self.optional_args)
        self.device = None
        self._lock = threading.RLock()
        self._filter = _Redactor(self)
        self._candidate: str | None = None
        self._candidate_running: str | None = None
        self._secrets: set[str] = set()
        self._pre_change: str | None = None   # running config before the last commit
        self._commit_saved = False
        self._pending = False
        self._timer: threading.Timer | None = None
        self.last_revert: str = ""            # what the revert timer did, for apply's report
        self._prompt = ""                     # the last prompt seen: where the session is

    # ------------------------------------------------------------------ platform hooks

    def normalise_running(self, raw: str) -> str:
        """`display current-configuration` → the stable text (subclasses strip volatile lines)."""
        return _tidy(raw.splitlines())

    # get_facts: the vendor's name, the serial number's command, and the parsers of both
    # outputs (netgen/deploy/drivers/parsers.py: {"os_version", "model", "uptime"} and the serial)
    vendor = ""
    serial_command = ""

    @staticmethod
    def parse_version(text: str) -> dict:  # pragma: no cover - subclasses
        raise NotImplementedError

    @staticmethod
    def parse_serial(text: str) -> str:  # pragma: no cover - subclasses
        raise NotImplementedError

    def get_facts(self):
        version = self.parse_version(self._show("display version"))
        serial = self.parse_serial(self._show(self.serial_command))
        running = self._running()
        hostname = re.search(r"^sysname (\S+)", running, re.M)
        name = hostname.group(1) if hostname else self.device.base_prompt
        return {"vendor": self.vendor, "model": version["model"], "os_version": version["os_version"],
                "serial_number": serial, "hostname": name, "fqdn": name, "uptime": version["uptime"],
                "interface_list": parsers.interfaces_of(running)}

    def get_bgp_neighbors(self):  # pragma: no cover - subclasses
        raise NotImplementedError

    # ------------------------------------------------------------------ connection

    def open(self):
        """Connect; the host key is checked first (hostkeys.py): a key that contradicts known_hosts,
        or an unknown one without `host_key_policy: accept-new`, is refused before logging in."""
        try:
            cfg = hostkeys.ssh_config_entry(self.optional_args.get("ssh_config_file"), self.hostname)
            policy = hostkeys.policy_of(self.optional_args.get("host_key_policy",
                                                               cfg.get("stricthostkeychecking")))
        except (OSError, ValueError) as exc:
            raise ConnectionException(f"{self.hostname}: {exc}") from None
        files = hostkeys.known_hosts_files(self.optional_args, cfg)
        args = {k: v for k, v in self.netmiko_optional_args.items()
                if k not in ("ssh_strict", "system_host_keys", "alt_host_keys", "alt_key_file")}
        try:
            self.device = hostkeys.netmiko_class(self.netmiko_device_type, files, policy)(
                device_type=self.netmiko_device_type, host=self.hostname, username=self.username,
                password=self.password, timeout=self.timeout, **args)
        except NetmikoAuthenticationException as exc:
            raise ConnectAuthError(f"{self.hostname}: authentication failed") from exc
        except (NetmikoTimeoutException, OSError, EOFError, paramiko.SSHException) as exc:
            refused = hostkeys.refusal(self.hostname, exc)   # netmiko wraps paramiko's exception
            if refused:
                raise ConnectionException(refused) from None
            raise ConnectionException(f"{self.hostname}: cannot connect ({type(exc).__name__})") from exc
        logging.getLogger("netmiko").addFilter(self._filter)
        self._prompt = f"<{self.device.base_prompt}>"   # netmiko leaves the session in user view

    def close(self):
        with self._lock:
            if self._pending:
                log.warning("%s: closing with an unconfirmed commit: reverting it now", self.hostname)
                self._revert_unconfirmed()
            if self.device is not None:
                device = self.device
                try:
                    self._to_user_view()
                except Exception:  # noqa: BLE001 - closing a broken session still closes it
                    pass
                # netmiko's own cleanup probes the view with a 2 s read; we know we are in user view
                device.cleanup = lambda command="": device.write_channel("quit" + device.RETURN)
                try:
                    device.disconnect()
                finally:
                    self.device = None
                    logging.getLogger("netmiko").removeFilter(self._filter)

    def is_alive(self):
        return {"is_alive": bool(self.device is not None and self.device.is_alive())}

    # ------------------------------------------------------------------ reading

    def _redact(self, text: str) -> str:
        login = {self.password} if self.password and len(self.password) >= 4 else set()
        return rem.redact(self.platform, text, self._secrets | login)

    def _exec(self, command: str, confirm: bool = False) -> str:
        """Send one command and read its reply up to the next prompt (or a [Y/N] question when
        `confirm`): the command's echo first, so a stray prompt left in the channel (netmiko's
        prompt probing sends extra returns) can never pass for the end of this reply. Returns
        the reply without the echo line, ending with the prompt line."""
        device = self.device
        end = _PROMPT_OR_CONFIRM if confirm else _PROMPT
        device.write_channel(device.normalize_cmd(command))
        reply = device.read_until_pattern(pattern=f"{re.escape(command[:20])}[\\s\\S]*?{end}",
                                          read_timeout=self.read_timeout)
        reply = reply[reply.find(command[:20]):]   # anything before the echo was not ours
        reply = reply.replace("\r\n", "\n").replace("\r", "")
        reply = reply.split("\n", 1)[1] if "\n" in reply else reply  # drop the echo line
        self._prompt = _last_line(reply)
        return reply

    def _show(self, command: str) -> str:
        if self.device is None:
            raise ConnectionException(f"{self.hostname}: not connected (call open() first)")
        with self._lock:
            try:
                reply = self._exec(command)
            except (ReadTimeout, OSError, EOFError) as exc:
                raise ConnectionException(f"{self.hostname}: `{command}` failed: "
                                          f"{self._redact(str(exc)).strip()}") from exc
            return reply.rsplit("\n", 1)[0] + "\n" if "\n" in reply else ""

    def _running(self) -> str:
        return self.normalise_running(self._show("display current-configuration"))

    def cli(self, commands, encoding="text"):
        if encoding != "text":
            raise NotImplementedError(f"{self.platform}: cli() returns text only")
        return {command: self._show(command) for command in commands}

    def get_config(self, retrieve="all", full=False, sanitized=False, format="text"):
        result = {"running": "", "startup": "", "candidate": ""}
        if retrieve in ("all", "running"):
            result["running"] = self._running()
        if retrieve in ("all", "startup"):
            result["startup"] = self.normalise_running(self._show("display saved-configuration"))
        if retrieve in ("all", "candidate"):
            result["candidate"] = self._candidate or ""
        if sanitized:
            result = {k: rem.redact(self.platform, v) for k, v in result.items()}
        return result

    # ------------------------------------------------------------------ candidate

    def load_replace_candidate(self, filename=None, config=None):
        if (filename is None) == (config is None):
            raise ReplaceConfigException("give exactly one of filename= or config=")
        if filename is not None:
            try:
                with open(filename, encoding="utf-8") as handle:
                    config = handle.read()
            except OSError as exc:
                raise ReplaceConfigException(f"cannot read candidate {filename}: {exc.strerror}") from exc
        with self._lock:
            self._candidate, self._candidate_running = config, None
            self._secrets = rem.secret_values(self.platform, config)

    def load_merge_candidate(self, filename=None, config=None):
        raise NotImplementedError("netgen replaces whole configs: use load_replace_candidate")

    def discard_config(self):
        with self._lock:
            self._candidate = self._candidate_running = None

    def _require_candidate(self) -> str:
        if self._candidate is None:
            raise ReplaceConfigException(f"{self.hostname}: no candidate loaded")
        return self._candidate

    def _base_running(self) -> str:
        with self._lock:
            if self._candidate_running is None:
                self._candidate_running = self._running()
            return self._candidate_running

    def compare_config(self):
        candidate = self._require_candidate()
        return rem.diff(self.platform, self._base_running(), candidate, push_secrets=self.push_secrets)

    def candidate_commands(self, reveal_secrets: bool = False) -> list[str]:
        """What commit_config sends (base.py), one leading space per view depth. Secret tokens
        are masked unless `reveal_secrets` (a plan file must not hold keys)."""
        candidate = self._require_candidate()
        commands = rem.remediation(self.platform, self._base_running(), candidate, push_secrets=self.push_secrets)
        return commands if reveal_secrets else [self._redact(c) for c in commands]

    # ------------------------------------------------------------------ pushing

    def _send_config(self, command: str) -> str:
        """One command; a question is answered only from the dialog table (dialogs.py), an
        unexpected one is declined and raises UnexpectedPrompt. The reply with its prompt."""
        output = self._exec(command, confirm=True)
        for _ in range(3):
            if not re.search(_CONFIRM, output):
                break
            question = _last_line(output)
            row = dialogs.answer(self.platform, command, question)
            if row is None:
                self._exec(dialogs.decline(question), confirm=True)
                raise UnexpectedPrompt(self._redact(command), self._redact(question))
            output += "\n" + self._exec(row.answer, confirm=True)
        return output

    def _to_user_view(self) -> None:
        if self._prompt.startswith("["):
            self._send_config("return")

    def _push(self, commands: list[str], stop_on_error: bool = True, finish: str = "") -> list[_Rejected]:
        """Send `commands` (remediation.flatten's lines) from system-view, then `finish` (the
        two-stage `commit …`, which works in any config view), then return to user view. Checks
        every reply for an error line and every prompt for the expected view. With
        `stop_on_error=False` (restoring) a rejected line is recorded and skipped, with its
        block if it opens one; a session out of step with the views or an unexpected prompt
        always stops the push. In two-stage mode a push that stops never reaches `finish`: the
        `return` then discards the candidate (dialogs.py), so the running config is untouched."""
        rejected: list[_Rejected] = []
        self._to_user_view()
        try:
            stack = [_view(_last_line(self._send_config("system-view")))]
            index = 0
            while index < len(commands):
                line, command = commands[index], commands[index].strip()
                depth = _depth(line)
                opens = index + 1 < len(commands) and _depth(commands[index + 1]) > depth
                try:
                    output = self._send_config(command)
                except ReadTimeout:
                    raise _Rejected(index, command, f"no prompt within {self.read_timeout:g} s") from None
                except UnexpectedPrompt as asked:
                    raise _Rejected(index, command, str(asked)) from None
                prompt = _view(_last_line(output))
                error = self.error_line.search(output)
                index += 1
                if error:
                    problem = _Rejected(index - 1, command, error.group(0).strip())
                    if stop_on_error:
                        raise problem
                    rejected.append(problem)
                    log.warning("%s: rejected `%s`: %s", self.hostname, self._redact(command),
                                self._redact(problem.message))
                    if opens:  # skip the block and its quit
                        while index < len(commands) and _depth(commands[index]) > depth:
                            index += 1
                    continue
                if command == "quit":
                    stack.pop()
                    if not stack or prompt != stack[-1]:
                        raise _Rejected(index - 1, command, f"`quit` left the session at {prompt}, "
                                                            f"expected {stack[-1] if stack else 'a config view'}")
                elif opens:
                    if prompt == stack[-1]:
                        raise _Rejected(index - 1, command, f"did not open a view (prompt still {prompt})")
                    stack.append(prompt)
                elif command.startswith(("sysname ", "undo sysname")):
                    stack = [prompt]
                elif prompt != stack[-1]:
                    # a view-opening command we did not know of: leave it, the next line is a sibling
                    log.warning("%s: `%s` opened %s; sending quit", self.hostname, self._redact(command), prompt)
                    self._send_config("quit")
            if finish:
                output = self._send_config(finish)
                error = self.error_line.search(output)
                if error:
                    raise _Rejected(len(commands), finish, error.group(0).strip())
        finally:
            try:
                self._to_user_view()
            except (ReadTimeout, OSError, EOFError) as exc:  # keep the push's own error, if any
                log.warning("%s: could not return to user view: %s", self.hostname, type(exc).__name__)
        return rejected

    def _save(self) -> None:
        self._to_user_view()
        output = self._send_config(self.save_command)
        error = self.error_line.search(output)
        if error:
            raise CommitError(f"{self.hostname}: `{self.save_command}` failed: {self._redact(error.group(0).strip())}")

    def _restore(self, target: str) -> None:
        """Push running → `target` (exact, so stored keys come back), keep going past errors,
        then verify; RollbackError names what is left."""
        self._candidate_running = None   # whatever the push does, the cached running is stale
        commands = rem.remediation(self.platform, self._running(), target, match_secrets=False)
        try:
            rejected = self._push(commands, stop_on_error=False, finish=self._commit_word()) if commands else []
        except _Rejected as stopped:
            rejected = [stopped]
        left = rem.remediation(self.platform, self._running(), target)
        if left:
            errors = "; ".join(f"`{self._redact(r.command)}`: {self._redact(r.message)}" for r in rejected)
            raise RollbackError(f"{self.hostname}: the pre-change config is not fully restored; still to do:\n"
                                + "\n".join(self._redact(c) for c in left)
                                + (f"\ndevice errors: {errors}" if errors else ""))

    # ------------------------------------------------------------------ commit / confirm / rollback
    #
    # Native commands (each checked against the vendor's manual, see dialogs.py for the prompts):
    # - VRP8 two-stage: `commit` and `commit trial <60-65535 s>` in any config view; during a trial
    #   a plain `commit` confirms it; `abort trial` reverts it; the device reverts by itself when
    #   the trial times out (Huawei NetEngine 8000 F1A command reference: commit (All views except
    #   the user view), abort trial). `rollback configuration to commit-id <id>` in user view
    #   returns to the config as it was at that commit point; ids are listed by `display
    #   configuration commit list verbose` as `CommitId: 1000000006` (NE40E V800R012C10
    #   configuration guide, Example for Configuration Rollback).
    # - Comware 7: `configuration commit delay <minutes>` in system view starts a timer and a
    #   rollback point; settings take effect at once and are removed unless `configuration
    #   commit` follows before the timer expires (H3C/HPE Comware 7 Fundamentals Configuration
    #   Guide, "Configuring configuration commit delay").

    def _commit_word(self, trial: int = 0) -> str:
        """What ends a two-stage push (nothing in the other modes)."""
        if self.commit_mode != TWO_STAGE:
            return ""
        return f"commit trial {trial}" if trial else "commit"

    def _last_commit_id(self) -> str:
        found = re.search(r"CommitId:\s*(\d+)", self._show("display configuration commit list verbose"))
        return found.group(1) if found else ""

    def _native_timer(self, revert_in) -> int:
        """revert_in seconds → what the device takes: whole seconds 60-65535 (commit trial), or
        whole minutes (commit delay), rounded up: the device never reverts earlier than asked."""
        if self.commit_mode == TWO_STAGE:
            seconds = min(max(60, math.ceil(float(revert_in))), 65535)
            if seconds != float(revert_in):
                log.warning("%s: commit trial takes 60-65535 s: using %d s for %s s", self.hostname, seconds, revert_in)
            return seconds
        return max(1, math.ceil(float(revert_in) / 60))

    def _config_command(self, command: str) -> str:
        """One command in system view (and back to user view); raises CommitError on an error line."""
        try:
            rejected = self._push([command])
        except _Rejected as problem:
            raise CommitError(f"{self.hostname}: `{command}` failed: {self._redact(problem.message)}") from None
        return "" if not rejected else rejected[0].message

    def commit_config(self, message="", revert_in=None):
        candidate = self._require_candidate()
        with self._lock:
            if self.has_pending_commit():
                raise CommitError(f"{self.hostname}: a commit is pending confirmation; confirm or roll back first")
            before = self._running()
            commands = rem.remediation(self.platform, before, candidate, push_secrets=self.push_secrets)
            missing = rem.placeholders(commands)
            if missing:
                raise CommitError(f"{self.hostname}: unfilled secret references in the candidate: {', '.join(missing)}")
            self._pre_change, self._commit_saved, self.last_revert = before, False, ""
            timer = self._native_timer(revert_in) if revert_in and self.native_commit_confirm else 0
            if self.commit_mode == TWO_STAGE:
                self._pre_commit_id = self._last_commit_id()
            log.info("%s: committing %d command(s)%s%s (%s)", self.hostname, len(commands),
                     f" ({message})" if message else "", f", revert in {revert_in} s" if revert_in else "",
                     dialogs.LABELS[self.commit_mode])
            pushed = commands
            if timer and self.commit_mode == COMMIT_DELAY:
                pushed = [f"configuration commit delay {timer}"] + commands   # before the change
            started = time.monotonic()
            try:
                self._push(pushed, finish=self._commit_word(timer))
            except _Rejected as problem:
                raise self._rejected(problem, len(pushed)) from None
            except (ReadTimeout, OSError, EOFError) as exc:
                raise CommitError(f"{self.hostname}: the session failed during the push ({type(exc).__name__}); "
                                  "the device may hold part of the change: check it, then rollback()") from None
            finally:
                self._candidate_running = None
            if revert_in and self.native_commit_confirm:
                self._pending = True
                self._deadline = started + (timer if self.commit_mode == TWO_STAGE else timer * 60)
            elif revert_in:
                self._pending = True
                self._timer = threading.Timer(float(revert_in), self._revert_unconfirmed)
                self._timer.daemon = True
                self._timer.start()
            else:
                self._save()
                self._commit_saved = True

    def _rejected(self, problem: _Rejected, total: int) -> CommandRejected:
        command, device = self._redact(problem.command), self._redact(problem.message)
        text = f"{self.hostname} rejected `{command}` (command {problem.index + 1} of {total}): {device}"
        try:
            self._restore(self._pre_change)
            if self.commit_mode == COMMIT_DELAY:
                self._config_command("configuration commit")   # restored by hand: end the device's timer
            text += "; the pre-change config is restored"
        except (RollbackError, ConnectionException, CommitError) as exc:
            text += f"; ROLLBACK INCOMPLETE: {exc}"
        log.error("%s", text)
        return CommandRejected(text, command, device)

    def _revert_unconfirmed(self) -> None:
        with self._lock:
            if not self._pending:
                return
            if self._timer is not None and self._timer is not threading.current_thread():
                self._timer.cancel()   # called by close(), not by the timer
            self._timer = None
            try:
                self._native_revert() if self.native_commit_confirm else self._restore(self._pre_change)
                self.last_revert = "reverted: the commit was not confirmed in time"
                log.warning("%s: commit not confirmed in time: reverted to the pre-change config", self.hostname)
            except Exception as exc:  # noqa: BLE001 - a timer thread has no caller to raise to
                self.last_revert = f"revert FAILED: {self._redact(str(exc))}"
                log.error("%s: %s", self.hostname, self.last_revert)
            finally:
                self._pending = False

    def _native_revert(self) -> None:
        """Undo a pending native commit now: `abort trial` (VRP8), or the pre-change config pushed
        back and the delay timer ended (Comware has no abort command for commit delay)."""
        try:
            if self.commit_mode == TWO_STAGE:
                self._config_command("abort trial")
            else:
                self._restore(self._pre_change)
                self._config_command("configuration commit")
        except CommitError as exc:   # e.g. the device's timer fired first: then the check below passes
            log.warning("%s: %s", self.hostname, self._redact(str(exc)))
        self._verify_pre_change()

    def _verify_pre_change(self) -> None:
        left = rem.remediation(self.platform, self._running(), self._pre_change)
        if left:
            raise RollbackError(f"{self.hostname}: the pre-change config is not fully restored; still to do:\n"
                                + "\n".join(self._redact(c) for c in left))

    def has_pending_commit(self):
        with self._lock:
            if self._pending and self.native_commit_confirm and time.monotonic() >= self._deadline:
                self._pending = False   # the device's own timer has fired: it reverted by itself
                self.last_revert = "reverted by the device: the commit was not confirmed in time"
            return self._pending

    def confirm_commit(self):
        with self._lock:
            if not self.has_pending_commit():
                why = f" ({self.last_revert})" if self.last_revert else ""
                raise CommitConfirmException(f"{self.hostname}: no commit pending confirmation{why}")
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            if self.native_commit_confirm:
                self._config_command("commit" if self.commit_mode == TWO_STAGE else "configuration commit")
            self._pending = False
            self._save()
            self._commit_saved = True

    def rollback(self):
        with self._lock:
            if self._pre_change is None:
                raise RollbackError(f"{self.hostname}: nothing to roll back (no commit in this session)")
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            pending, self._pending = self.has_pending_commit(), False
            if pending and self.native_commit_confirm:
                self._native_revert()
            elif self.commit_mode == TWO_STAGE and self._pre_commit_id:
                self._rollback_to(self._pre_commit_id)
            else:
                self._restore(self._pre_change)
            if self._commit_saved:
                self._save()
            log.info("%s: rolled back to the pre-change config", self.hostname)

    def _rollback_to(self, commit_id: str) -> None:
        """VRP8: the device's own rollback to the commit point before ours (user view)."""
        self._to_user_view()
        command = f"rollback configuration to commit-id {commit_id}"
        try:
            output = self._send_config(command)
        except UnexpectedPrompt as asked:
            raise RollbackError(f"{self.hostname}: {asked}") from None
        error = self.error_line.search(output)
        if error:
            raise RollbackError(f"{self.hostname}: `{command}` failed: {self._redact(error.group(0).strip())}")
        self._candidate_running = None
        self._verify_pre_change()


# ------------------------------------------------------------------------------------ helpers


def _last_line(text: str) -> str:
    lines = text.rstrip().splitlines()
    return lines[-1].strip() if lines else ""


def _view(prompt: str) -> str:
    """A config prompt without VRP8's two-stage marker: `[~name-x]` / `[*name-x]` (uncommitted
    changes) → `[name-x]` — the view is the same (NE40E V8 command reference, commit: "if a
    user has uncommitted configurations, the configurations are marked with asterisks (*)
    … If all configurations have been committed, ~ is displayed")."""
    return re.sub(r"^\[[~*]", "[", prompt)


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _tidy(lines) -> str:
    """Lines without trailing blanks/CR and leading/trailing empty lines, newline-terminated."""
    out = [line.rstrip() for line in lines]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
