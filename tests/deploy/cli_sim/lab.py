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

    def __init__(self):
        self.servers: list[SimServer] = []
        self.drivers: list = []

    def device(self, platform: str, config: str = "", server_args: dict | None = None,
               **device_args) -> tuple[SimDevice, SimServer]:
        device = SimDevice(platform, config, **device_args)
        server = SimServer(device, **(server_args or {})).start()
        self.servers.append(server)
        return device, server

    def driver(self, platform: str, server: SimServer, password: str | None = None, **optional_args):
        driver = DRIVER[platform]("127.0.0.1", server.username, server.password if password is None else password,
                                  timeout=10, optional_args={"port": server.port, "read_timeout": 10, **optional_args})
        driver.open()
        self.drivers.append(driver)
        return driver

    def close(self) -> None:
        for driver in self.drivers:
            driver.close()
        for server in self.servers:
            server.stop()
