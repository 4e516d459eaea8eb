"""SSH transport of the frr driver: paramiko, exec channels only (no interactive shell).

The connection parameters come, in this order of precedence, from the driver's arguments and
`optional_args`, then from an OpenSSH client config (`ssh_config_file`: HostName, User, Port,
IdentityFile, IdentitiesOnly, ProxyCommand, UserKnownHostsFile, StrictHostKeyChecking), then
from paramiko's defaults. Host keys are checked as every netgen driver does (hostkeys.py): against
`known_hosts`/`known_hosts_file`, the config's known-hosts files and the system's; unknown keys
refused unless `host_key_policy` (or `strict_host_key_checking`) is `accept-new`, which records them.

Nothing here logs or raises with a password or the data sent on stdin (a config may hold
secrets): errors name the host, the SSH-level reason and at most the command line.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from napalm.base.exceptions import (CommandTimeoutException, ConnectAuthError, ConnectionClosedException,
                                    ConnectionException, ConnectTimeoutError)

from . import hostkeys

log = logging.getLogger(__name__)

SYSTEM_KNOWN_HOSTS = hostkeys.SYSTEM_KNOWN_HOSTS


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


@dataclass
class SshParameters:
    """Where and how to connect, resolved from the arguments and the ssh_config."""

    host: str  # the name the caller used (also the host-key name unless HostName changes it)
    hostname: str
    port: int = 22
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    key_files: list[str] = field(default_factory=list)
    proxy_command: str | None = None
    known_hosts: list[str] = field(default_factory=list)
    strict: bool | str = True  # True: reject unknown keys; "accept-new"/False: accept unknown ones
    allow_agent: bool = True
    look_for_keys: bool = True
    timeout: float = 60.0


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "yes", "true", "on")
    return bool(value)


def resolve(host: str, username: str, password: str, timeout: float, optional_args: dict) -> SshParameters:
    """Merge the driver's arguments with the host's entry in an OpenSSH client config."""
    opts = optional_args or {}
    cfg: dict = {}
    config_file = opts.get("ssh_config_file")
    if config_file:
        path = Path(os.path.expanduser(str(config_file)))
        try:
            cfg = paramiko.SSHConfig.from_path(str(path)).lookup(host)
        except OSError as exc:
            raise ConnectionException(f"{host}: cannot read ssh_config_file {path}: {exc.strerror}") from None
    p = SshParameters(host=host, hostname=cfg.get("hostname", host), timeout=float(opts.get("timeout", timeout)))
    p.port = int(opts.get("port") or cfg.get("port") or 22)
    p.username = username or cfg.get("user") or None
    p.password = password or None
    if opts.get("key_file"):
        p.key_files = [os.path.expanduser(str(opts["key_file"]))]
    p.key_files += [os.path.expanduser(f) for f in cfg.get("identityfile", [])]
    p.proxy_command = cfg.get("proxycommand")
    if p.proxy_command and p.proxy_command.strip().lower() == "none":
        p.proxy_command = None
    only = _truthy(cfg.get("identitiesonly", "no"))
    p.allow_agent = _truthy(opts.get("allow_agent", not only))
    p.look_for_keys = _truthy(opts.get("use_keys", not only))
    p.known_hosts = hostkeys.known_hosts_files(opts, cfg)
    raw = next((opts[k] for k in ("host_key_policy", "strict_host_key_checking") if k in opts),
               cfg.get("stricthostkeychecking"))
    try:
        policy = hostkeys.policy_of(raw)
    except ValueError as exc:
        raise ConnectionException(f"{host}: {exc}") from None
    p.strict = {hostkeys.STRICT: True, hostkeys.ACCEPT_NEW: "accept-new", hostkeys.NO_CHECK: False}[policy]
    return p


class SshTransport:
    """One SSH connection; each command runs on its own exec channel."""

    def __init__(self, params: SshParameters):
        self.p = params
        self.client: paramiko.SSHClient | None = None

    # -------------------------------------------------------------- connection
    def open(self) -> None:
        p = self.p
        client = paramiko.SSHClient()
        # unknown keys: rejected (strict), recorded (accept-new), or accepted for this connection
        # (False); a key that contradicts a known one is always refused (BadHostKeyException)
        policy = {True: hostkeys.STRICT, "accept-new": hostkeys.ACCEPT_NEW}.get(p.strict, hostkeys.NO_CHECK)
        hostkeys.prepare(client, p.known_hosts, policy, p.host)
        sock = paramiko.ProxyCommand(p.proxy_command) if p.proxy_command else None
        log.debug("%s: connecting to %s port %s%s", p.host, p.hostname, p.port,
                  " through a ProxyCommand" if sock else "")
        try:
            client.connect(p.hostname, port=p.port, username=p.username, password=p.password,
                           key_filename=[f for f in p.key_files if os.path.exists(f)] or None,
                           timeout=p.timeout, banner_timeout=p.timeout, auth_timeout=p.timeout,
                           allow_agent=p.allow_agent, look_for_keys=p.look_for_keys, sock=sock)
        except paramiko.AuthenticationException as exc:
            client.close()
            raise ConnectAuthError(f"{p.host}: SSH authentication failed for user {p.username!r}: {exc}") from None
        except (socket.timeout, TimeoutError) as exc:
            client.close()
            raise ConnectTimeoutError(f"{p.host}: SSH connection timed out after {p.timeout:g} s") from None
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise ConnectionException(hostkeys.mismatch(p.host, exc)) from None
        except hostkeys.UnknownHostKey as exc:
            client.close()
            raise ConnectionException(str(exc)) from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            client.close()
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in reason:
                reason += " (add it to a known_hosts file, or set strict_host_key_checking)"
            raise ConnectionException(f"{p.host}: cannot connect over SSH to {p.hostname} port {p.port}: "
                                      f"{reason}") from None
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def alive(self) -> bool:
        t = self.client.get_transport() if self.client else None
        return bool(t and t.is_active())

    # -------------------------------------------------------------- commands
    def run(self, command: str, stdin: bytes | None = None, timeout: float | None = None) -> Result:
        """Run `command` through the remote user's shell; `stdin` (never logged) is sent and closed."""
        if not self.alive():
            raise ConnectionClosedException(f"{self.p.host}: not connected (call open() first)")
        timeout = self.p.timeout if timeout is None else timeout
        transport = self.client.get_transport()
        log.debug("%s: exec %s", self.p.host, command if len(command) < 300 else command[:300] + "…")
        try:
            chan = transport.open_session(timeout=timeout)
            chan.settimeout(timeout)
            chan.exec_command(command)
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            out, err = bytearray(), bytearray()
            deadline = time.monotonic() + timeout
            while True:
                busy = False
                while chan.recv_ready():
                    out += chan.recv(65536)
                    busy = True
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                    busy = True
                if chan.exit_status_ready() and chan.eof_received and not chan.recv_ready() \
                        and not chan.recv_stderr_ready():
                    break
                if chan.closed and not chan.recv_ready() and not chan.recv_stderr_ready():
                    break
                if not busy:
                    if time.monotonic() > deadline:
                        chan.close()
                        raise CommandTimeoutException(f"{self.p.host}: `{_short(command)}` did not finish "
                                                      f"in {timeout:g} s")
                    time.sleep(0.003)
            status = chan.recv_exit_status()
            chan.close()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ConnectionClosedException(f"{self.p.host}: SSH failed while running `{_short(command)}`: "
                                            f"{exc or type(exc).__name__}") from None
        return Result(status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _short(command: str) -> str:
    first = command.strip().splitlines()[0] if command.strip() else ""
    return first if len(first) < 120 else first[:120] + "…"
