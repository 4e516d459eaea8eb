"""napalm's own driver test suite (`napalm.base.test.getters.BaseTestGetters`) for the frr driver:
method signatures and data models, on recorded outputs and on a live lab router (conftest.py)."""
from __future__ import annotations

import functools
import inspect

import pytest
from napalm.base.test.getters import BaseTestGetters

from netgen.deploy.drivers.base import IgpReadingDriver, MplsReadingDriver, PlanningDriver

# netgen's documented extensions of napalm's API (netgen/deploy/drivers/base.py). napalm's
# signature test reports any public method napalm.base lacks; these are checked against
# netgen's protocol instead. (`get_route_to`'s keyword-only `vrf=` is outside what napalm
# compares, so napalm's own check covers that method unchanged.)
EXTENSIONS = {"candidate_commands": PlanningDriver.candidate_commands,
              "get_igp_neighbors": IgpReadingDriver.get_igp_neighbors,
              "get_ldp_neighbors": MplsReadingDriver.get_ldp_neighbors,
              "get_vrf_routes": MplsReadingDriver.get_vrf_routes,
              "get_vpn_route": MplsReadingDriver.get_vpn_route,
              "get_vrf_bgp_paths": MplsReadingDriver.get_vrf_bgp_paths}


@pytest.mark.usefixtures("set_device_parameters")
class TestGetter(BaseTestGetters):
    """Mocked: recorded outputs in mocked_data/, expected results compared by napalm."""

    def test_method_signatures(self):
        real = self.driver
        self.driver = type("NapalmView", (real,), {name: None for name in EXTENSIONS})
        try:
            super().test_method_signatures()
        finally:
            self.driver = real
        for name, spec in EXTENSIONS.items():
            assert inspect.getfullargspec(getattr(real, name))[:4] == inspect.getfullargspec(spec)[:4], name
        assert real.native_commit_confirm is True


def _live(test):
    inner = test.__wrapped__  # napalm's test body, without its mocked-data comparison

    @functools.wraps(inner)
    def run(self, test_case):
        try:
            inner(self, test_case)  # asserts the data models; the value is for napalm's comparison
        except NotImplementedError:
            pytest.skip("not implemented by the frr driver")

    return run


# The same test bodies against a real router (napalm's "NAPALM_TEST_MOCK=0" mode, per class).
TestLiveGetters = pytest.mark.usefixtures("live_device")(type("TestLiveGetters", (), {
    "live": True,
    "__doc__": "Live: jx-nc-ncx-pe1 in a lab of Jiangxi with the rendered configs applied.",
    **{name: _live(fn) for name, fn in vars(BaseTestGetters).items()
       if name.startswith("test_") and hasattr(fn, "__wrapped__")},
}))
