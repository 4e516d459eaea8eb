"""Lab figures: lab up time and memory, plan, apply, convergence and verify times.

    python3 benchmarks/bench_lab.py [DIR] [--routers N] [--name NAME] [--json]

Without --routers the whole intent is emulated (the example: 18 routers). With --routers N the
scope is the site whose subtree holds the number of devices closest to N (e.g. a synthetic
intent from gen_intent.py: `python3 benchmarks/gen_intent.py /tmp/g --sites 2000`, then
`--routers 50`). Root only; the lab is torn down at the end, also on failure. A benchmark, not
a test.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from netgen.lab import down, up  # noqa: E402
from netgen.lab.state import LabState  # noqa: E402
from netgen.lab.system import existing_netns, processes_in  # noqa: E402
from netgen.model import resolve  # noqa: E402


def pss_mb(pids) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def pick_scope(network, n: int) -> list[str]:
    children: dict[str, list[str]] = {}
    for s in network.sites.values():
        if s.parent:
            children.setdefault(s.parent, []).append(s.id)
    count: dict[str, int] = {}

    def size(sid: str) -> int:
        if sid not in count:
            count[sid] = len(network.sites[sid].devices) + sum(size(c) for c in children.get(sid, ()))
        return count[sid]

    best = min(network.sites, key=lambda s: (abs(size(s) - n), s))
    return [best]


def timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "netgen", *cmd], capture_output=True, text=True)
    return time.perf_counter() - t0, p.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", nargs="?", default=str(REPO / "inventory"))
    ap.add_argument("--routers", type=int)
    ap.add_argument("--name", default="bench")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--design", choices=("lite",), default="lite")  # its figures are host-side (namespaces, PSS)
    args = ap.parse_args()
    res = resolve(args.directory)
    if not res.ok:
        sys.exit(f"{args.directory}: the intent does not resolve; run `netgen validate`")
    if res.lock_changed:
        res.write_lock()
    scope = pick_scope(res.network, args.routers) if args.routers else None
    fig: dict = {"intent": args.directory, "scope": scope}
    secrets = Path(tempfile.mkdtemp()) / "secrets.yaml"
    secrets.write_text("aaa-shared-key: bench-aaa\nsnmp-auth: bench-auth\nsnmp-priv: bench-priv\n")
    secrets.chmod(0o600)
    os.environ["NETGEN_SECRETS"] = str(secrets)
    plan = str(secrets.parent / "plan.json")
    try:
        r = up(res.network, args.name, scope, args.directory, design=args.design)
        fig["routers"] = len(r.added)
        fig["lab_up_s"] = round(r.seconds, 1)
        state = LabState.load(args.name)
        ours = {n for n in existing_netns() if n.startswith(state.prefix + "-")}
        fig["namespaces"] = len(ours)
        fig["lab_pss_mb_idle"] = round(pss_mb(p for p, _ in processes_in(ours)))
        lab = ["--lab", args.name]
        fig["plan_s"], _ = timed(["plan", args.directory, *lab, "-o", plan])
        fig["apply_s"], code = timed(["apply", plan, args.directory, *lab, "--yes"])
        fig["apply_ok"] = code == 0
        t0, verified = time.perf_counter(), False
        while time.perf_counter() - t0 < 300:
            dt, code = timed(["verify", args.directory, *lab])
            if code == 0:
                verified = True
                break
        fig["converged_after_apply_s"] = round(time.perf_counter() - t0, 1)
        fig["verify_s"], fig["verify_ok"] = round(dt, 1), verified
        fig["lab_pss_mb_configured"] = round(pss_mb(p for p, _ in processes_in(ours)))
        fig["replan_s"], code = timed(["plan", args.directory, *lab, "--detailed-exitcode"])
        fig["replan_empty"] = code == 0
    finally:
        t0 = time.perf_counter()
        down(args.name)
        fig["lab_down_s"] = round(time.perf_counter() - t0, 1)
    fig = {k: round(v, 1) if isinstance(v, float) else v for k, v in fig.items()}
    if args.json:
        print(json.dumps(fig, indent=1))
    else:
        for k, v in fig.items():
            print(f"{k:28} {v}")


if __name__ == "__main__":
    main()
