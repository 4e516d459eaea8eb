"""napalm's driver test suite for the frr driver, as napalm's community drivers run it.

- Mocked (class TestGetter): `PatchedFrrDriver` replaces the SSH transport with `FakeFrrRouter`,
  which answers each command from mocked_data/<test>/<case>/<command>.txt — outputs recorded
  from real lab routers by capture_mocked_data.py — and napalm compares the result with
  expected_result.json.
- Live (class TestLiveGetters): the same test bodies against a real FrrDriver connected through
  the lab's ssh_config to jx-nc-ncx-pe1 in a lab of Jiangxi with the rendered configs applied
  (root and FRR needed; skipped otherwise). napalm's own switch does the same for one device:
  `NAPALM_TEST_MOCK=0 NAPALM_HOSTNAME=jx-nc-ncx-pe1 NAPALM_USERNAME=root
  NAPALM_OPTIONAL_ARGS='{"ssh_config_file": "/run/netgen-lab/NAME/ssh/ssh_config"}'`.
"""
from __future__ import annotations

import pytest
from napalm.base.test import conftest as parent_conftest
from napalm.base.test.double import BaseTestDouble

from netgen.deploy.drivers.frr import FrrDriver
from netgen.deploy.drivers.frr_ssh import Result

from . import lab_setup as L

LIVE_LAB = "frg"  # + this process's PID: lab_setup.lab_name


@pytest.fixture(scope="class")
def set_device_parameters(request):
    """napalm's fixture: the class's driver, patched (mocked data) unless NAPALM_TEST_MOCK=0."""
    request.cls.driver = FrrDriver
    request.cls.patched_driver = PatchedFrrDriver
    request.cls.vendor = "frr"
    parent_conftest.set_device_parameters(request)
    yield
    request.cls.device.close()


@pytest.fixture(scope="class")
def live_device(request):
    """A lab of Jiangxi with the rendered configs (+ lab_setup.EXTRA) and a driver on the DUT."""
    reason = L.lab_skip_reason()
    if reason:
        pytest.skip(reason)
    name = L.lab_name(LIVE_LAB)
    try:
        name, net, routers = L.lab_up(LIVE_LAB)
        L.apply_all(name, L.rendered(net, routers))
        L.wait_for(lambda: L.bgp_ready(name), 120, what="BGP sessions and the 1.0.4.0/24 route on the DUT")
        request.cls.driver = FrrDriver
        request.cls.device = L.driver(name, L.DUT)
        yield
        request.cls.device.close()
    finally:
        L.lab_down(name)


def pytest_generate_tests(metafunc):
    if metafunc.cls is not None and getattr(metafunc.cls, "live", False):
        if "test_case" in metafunc.fixturenames:
            metafunc.parametrize("test_case", ["live"])
        return
    parent_conftest.pytest_generate_tests(metafunc, __file__)


class PatchedFrrDriver(FrrDriver):
    """FrrDriver whose SSH transport is the test double."""

    def __init__(self, hostname, username, password, timeout=60, optional_args=None):
        super().__init__(hostname, username, password, timeout, optional_args)
        self.patched_attrs = ["_transport"]
        self._transport = FakeFrrRouter()

    def open(self):
        pass

    def close(self):
        pass


class FakeFrrRouter(BaseTestDouble):
    """Answers each command with the recorded output of the current test case."""

    def alive(self) -> bool:
        return True

    def run(self, command: str, stdin: bytes | None = None, timeout: float | None = None) -> Result:
        path = self.find_file(L.mock_filename(command))
        return Result(0, self.read_txt_file(path), "")
