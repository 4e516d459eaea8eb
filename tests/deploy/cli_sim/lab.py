"""Simulated routers on SSH servers, and netgen's drivers opened to them, closed together."""
from __future__ import annotations

from netgen.deploy.drivers.comware import ComwareDriver
from netgen.deploy.drivers.vrp import VrpDriver

from .device import SimDevice
from .server import SimServer

DRIVER = {"huawei_vrp": VrpDriver, "h3c_comware": ComwareDriver}


class SimLab:
    """`device()` starts a simulated router on 127.0.0.1; `driver()` opens netgen's napalm driver
    to it; `close()` (a fixture's finaliser) closes every driver, then stops every server."""

    def __init__(self, known_hosts=None):
        self.servers: list[SimServer] = []
        self.drivers: list = []
        # drivers check host keys: each server's key is written here when it starts
        if known_hosts is None:
            import tempfile
            self._tmp = tempfile.TemporaryDirectory(prefix="cli-sim-")
            known_hosts = f"{self._tmp.name}/known_hosts"
        self.known_hosts = str(known_hosts)

    def device(self, platform: str, config: str = "", server_args: dict | None = None,
               **device_args) -> tuple[SimDevice, SimServer]:
        device = SimDevice(platform, config, **device_args)
        server = SimServer(device, **(server_args or {})).start()
        self.servers.append(server)
        key = server.host_key
        with open(self.known_hosts, "a", encoding="utf-8") as f:
            f.write(f"[127.0.0.1]:{server.port} {key.get_name()} {key.get_base64()}\n")
        return device, server

    def driver(self, platform: str, server: SimServer, password: str | None = None, **optional_args):
        driver = DRIVER[platform]("127.0.0.1", server.username, server.password if password is None else password,
                                  timeout=10, optional_args={"port": server.port, "read_timeout": 10,
                                                                 "known_hosts": self.known_hosts, **optional_args})
        driver.open()
        self.drivers.append(driver)
        return driver

    def close(self) -> None:
        for driver in self.drivers:
            driver.close()
        for server in self.servers:
            server.stop()
