"""A paramiko SSH server on 127.0.0.1 that gives each login a simulated CLI session."""
from __future__ import annotations

import socket
import threading

import paramiko

from .device import SimDevice
from .shell import Session


class _Auth(paramiko.ServerInterface):
    def __init__(self, server: "SimServer"):
        self.server = server
        self.shell = threading.Event()

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        ok = username == self.server.username and password == self.server.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        ok = (username == self.server.username and self.server.authorized_key is not None
              and key.get_base64() == self.server.authorized_key.get_base64())
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel, term, width, height, pixelwidth, pixelheight, modes):
        return True

    def check_channel_shell_request(self, channel):
        self.shell.set()
        return True


class SimServer:
    """`SimServer(device).start()` listens on a free port (`.port`); `.stop()` ends everything."""

    host_key = None  # one key for all servers of the test run (generating costs time)

    def __init__(self, device: SimDevice, username: str = "netgen", password: str = "sim-login-pw",
                 authorized_key: paramiko.PKey | None = None):
        self.device, self.username, self.password = device, username, password
        self.authorized_key = authorized_key
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.transports: list[paramiko.Transport] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        if SimServer.host_key is None:
            SimServer.host_key = paramiko.ECDSAKey.generate()

    def start(self) -> "SimServer":
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        thread = threading.Thread(target=self._accept, name=f"cli-sim-{self.port}", daemon=True)
        thread.start()
        self.threads.append(thread)
        return self

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle wait between echo and prompt
        transport = paramiko.Transport(client)
        transport.set_log_channel("cli_sim.ssh")  # the server side's own paramiko log
        self.transports.append(transport)
        transport.add_server_key(self.host_key)
        auth = _Auth(self)
        try:
            transport.start_server(server=auth)
            channel = None
            while channel is None and transport.is_active() and not self.stopping.is_set():
                channel = transport.accept(0.05)   # short waits: a failed login must not hold stop()
            if channel is None or not auth.shell.wait(10):
                return
            Session(self.device, channel, self.stopping).run()
        except (paramiko.SSHException, EOFError, OSError):
            pass  # the client went away
        finally:
            transport.close()

    def stop(self) -> None:
        self.stopping.set()
        self.sock.close()
        for transport in self.transports:
            transport.close()
        for thread in self.threads:
            thread.join(timeout=2)
