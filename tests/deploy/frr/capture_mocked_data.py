"""Regenerate mocked_data/ for the frr driver's napalm test suite from real lab routers.

    python3 -m tests.deploy.frr.capture_mocked_data        # from the repository root, as root

Needs root and FRR (`bash scripts/setup`); takes about a minute. It starts its own lab
(`frc<pid>`, Jiangxi: 8 routers) and tears it down at the end, also on failure. For each napalm
test it runs napalm's own test body (BaseTestGetters) on a real FrrDriver whose transport
records every command's output, then writes, per case, mocked_data/<test>/<case>/:

- `<command>.txt`: the raw output of each command (lab_setup.mock_filename names them), which
  FakeFrrRouter replays;
- `expected_result.json`: what the driver returned from those outputs.

Cases:
- `minimal`: jx-nc-ncx-pe1 as the lab starts it (hostname, VRFs, no routing config), before any
  config is applied — only the tests whose assertions hold for it (e.g. get_bgp_neighbors → {});
- `lab_pe`: jx-nc-ncx-pe1 after the rendered configs (+ lab_setup.EXTRA) are applied to all 8
  routers and its BGP sessions (global and VRF ZW-PUB) are up.

Review the diff of expected_result.json files before committing: they are the driver's output
on the recordings, so a change there is a change in the driver's mapping.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

from napalm.base.test.getters import BaseTestGetters

from . import lab_setup as L

HERE = Path(__file__).resolve().parent
LAB = "frc"  # + this process's PID: lab_setup.lab_name
TESTS = {name: fn.__wrapped__ for name, fn in vars(BaseTestGetters).items()
         if name.startswith("test_") and hasattr(fn, "__wrapped__")}


class Recorder:
    """The real transport, keeping each command's stdout under its mocked-data file name."""

    def __init__(self, real):
        self.real, self.outputs = real, {}

    def alive(self):
        return self.real.alive()

    def run(self, command, stdin=None, timeout=None):
        result = self.real.run(command, stdin=stdin, timeout=timeout)
        self.outputs[L.mock_filename(command)] = result.stdout
        return result


def capture(driver, case: str, only: set[str] | None = None) -> list[str]:
    written = []
    real = driver._transport
    for name, body in sorted(TESTS.items()):
        if only is not None and name not in only:
            continue
        recorder = Recorder(real)
        driver._transport = recorder
        try:
            result = body(SimpleNamespace(device=driver), case)
        except NotImplementedError:
            continue
        except AssertionError as exc:
            print(f"  {name}/{case}: napalm's assertions do not hold here, not recorded ({exc})")
            continue
        finally:
            driver._transport = real
        target = HERE / "mocked_data" / name / case
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for filename, output in sorted(recorder.outputs.items()):
            (target / filename).write_text(output, encoding="utf-8")
        expected = json.loads(json.dumps(result))
        (target / "expected_result.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
        written.append(f"{name}/{case}")
    return written


def main() -> int:
    reason = L.lab_skip_reason()
    if reason:
        print(f"cannot capture: {reason}", file=sys.stderr)
        return 2
    lab = L.lab_name(LAB)
    try:
        print(f"lab {lab}: starting Jiangxi")
        lab, net, routers = L.lab_up(LAB)
        d = L.driver(lab, L.DUT)
        try:
            print("case minimal")
            done = capture(d, "minimal")
        finally:
            d.close()
        print("applying the rendered configs")
        L.apply_all(lab, L.rendered(net, routers))
        L.wait_for(lambda: L.bgp_ready(lab), 120, what="BGP on the DUT")
        d = L.driver(lab, L.DUT)
        try:
            print("case lab_pe")
            done += capture(d, "lab_pe")
        finally:
            d.close()
        print(f"wrote {len(done)} case(s): {', '.join(done)}")
        return 0
    finally:
        L.lab_down(lab)


if __name__ == "__main__":
    sys.exit(main())
