"""Time validation, resolution and rendering on synthetic national intents.

    python3 benchmarks/bench.py [--sizes 1000,10000,41806] [--json]

For each size: generate the intent (benchmarks/out/, reused when present), then in a fresh
process time each stage — load, structure, assemble, rules (= validate), resolve (allocation
from an empty lock + the model), cold build (all cores), and a warm run after editing one
county (validate + resolve with the lock + build, counting the files rewritten) — with peak RSS.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CHILD = r"""
import json, resource, shutil, sys, time
from pathlib import Path
from netgen.intent.load import load_dir
from netgen.intent.structure import check_structure
from netgen.intent.intent import assemble
from netgen.intent.rules import run_rules
from netgen.model import resolve
from netgen.render.build import build

src, out = Path(sys.argv[1]), Path(sys.argv[2])
(src / "netgen.lock").unlink(missing_ok=True)
shutil.rmtree(out, ignore_errors=True)
t = {}
def lap(name, t0):
    t[name] = round(time.perf_counter() - t0, 3)
    return time.perf_counter()
t0 = time.perf_counter()
docs, d = load_dir(src); t0 = lap("load", t0)
check_structure(docs); t0 = lap("structure", t0)
intent, _ = assemble(docs); t0 = lap("assemble", t0)
diags = run_rules(intent); t0 = lap("rules", t0)
assert not [x for x in diags if x.severity.value == "error"], diags[:3]
res = resolve(src); t0 = lap("validate+resolve", t0)
assert res.ok, res.diagnostics[:3]
res.write_lock()
b = build(res.network, out); t0 = lap("cold build", t0)
assert b.ok, b.diagnostics[:3]
city = sorted((src / "sites").glob("*/*-c01.yaml"))[0]
text = city.read_text()
city.write_text(text.replace("model: M1", "model: M2", 1))
t0 = time.perf_counter()
res2 = resolve(src, locked=True)
b2 = build(res2.network, out); t0 = lap("warm (1 county)", t0)
city.write_text(text)
print(json.dumps({"devices": len(res.network.devices), "sites": len(res.network.sites), "times": t,
                  "rewritten": len(b2.written), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def run(size: int) -> dict:
    src = OUT / f"intent-{size}"
    if not src.exists():
        subprocess.run([sys.executable, str(HERE / "gen_intent.py"), str(src), "--sites", str(size)], check=True,
                       stdout=subprocess.DEVNULL)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(OUT / f"build-{size}")],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,41806")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = {int(s): run(int(s)) for s in args.sizes.split(",")}
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    stages = list(next(iter(rows.values()))["times"])
    print(f"{'sites':>7} {'devices':>8} " + " ".join(f"{s:>17}" for s in stages) + "  rewritten  peak RSS")
    for size, r in rows.items():
        print(f"{r['sites']:>7} {r['devices']:>8} " + " ".join(f"{r['times'][s]:>16.2f}s" for s in stages)
              + f"  {r['rewritten']:>9}  {r['peak_rss_mb']:>5} MB")
    sizes = list(rows)
    for a, b in zip(sizes, sizes[1:]):
        ra, rb = rows[a], rows[b]
        n = rb["sites"] / ra["sites"]
        ratio = {s: round(rb["times"][s] / max(ra["times"][s], 1e-3), 1) for s in stages}
        print(f"growth {ra['sites']}→{rb['sites']} sites (×{n:.1f}): {ratio}")


if __name__ == "__main__":
    main()
