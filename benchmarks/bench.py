"""Time netgen on synthetic national intents: validate, resolve, cold build, warm rebuilds.

    python3 benchmarks/bench.py [--sizes 1000,10000,45000] [--repeat R] [--json]
    python3 benchmarks/bench.py --profile 45000 [--stage resolve] [--top 25]

Per size, the intent comes from gen_intent.py (benchmarks/out/intent-<size>, regenerated when
the generator or the size changed). Then, in a fresh process with an empty cache, no lock
file and no build directory, what `netgen build` does:
  validate    read, parse and check every file, assemble, semantic rules — `netgen validate`
  resolve     what the build adds before rendering: allocation from an empty lock (beside the
              rules), the network-wide facts the model is built from
  lock        recording the new allocations in the lock file, and caching the allocation the
              next run derives from it (`netgen build` does this after rendering), so that
              validate + resolve + lock + cold build is the cold `netgen build`
  cold build  each device's model built, its config rendered and written (this process and a
              worker per further core), the manifest
  floor       the same templates rendered from the same model, already built, in the same run,
              with the same processes, but nothing hashed, compared or written
  model       the whole model at once (what `resolve()` gives the API: show, deploy), for reference
and then the whole `netgen build` command, each in a new process (what a person waits for):
  warm edit   after editing one county: its PE's uplink bandwidth, 1G → 500M (the county PE and
              the city PE it connects to change; the ports stay)
  warm add    after adding a township with a CE to that county (new allocations, the lock
              file, the county PE's new port, the province reflectors' new client)
  no change   nothing edited
Reported: seconds per stage, devices per second (the cold command: validate + resolve + lock +
build), files rewritten, peak RSS (the largest process: the main one or a worker), and the
floor ratios — cold build ÷ floor, and the cold command ÷ floor. With --repeat R every figure
is the best of R runs. Growth between sizes is shown as k in t ∝ n^k (k ≈ 1: linear;
n log n shows as ≈ 1.05–1.1 over these sizes).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
GEN = HERE / "gen_intent.py"
STAGES = ("validate", "resolve", "lock", "cold build", "floor", "model", "warm edit", "warm add", "no change")


def intent_dir(size: int) -> Path:
    """The generated intent of `size` sites, made again only when the generator changed."""
    path = OUT / f"intent-{size}"
    digest = hashlib.sha256(GEN.read_bytes()).hexdigest()[:16]
    try:
        stamp = json.loads((path / ".generated.json").read_text())
        if (stamp["sites"], stamp["seed"], stamp["generator"]) == (size, 1, digest):
            return path
    except (OSError, ValueError, KeyError):
        pass
    shutil.rmtree(path, ignore_errors=True)  # our own scratch space
    print(f"generating {size:,} sites into {path.relative_to(ROOT)} ...", file=sys.stderr)
    subprocess.run([sys.executable, str(GEN), str(path), "--sites", str(size)], check=True, stdout=subprocess.DEVNULL)
    return path


# ---------------------------------------------------------------------- edits of one county


def county_file(src: Path) -> Path:
    """The first city file (a city, its counties and townships) of the first province."""
    return sorted(p for p in (src / "sites").glob("*/*.yaml") if p.name != "province.yaml")[0]


def edit_uplink(text: str) -> str:
    """The first county PE's uplink: 1G → 500M (the same gigabit ports: a new port speed would
    be a new port, an allocation)."""
    m = re.search(r"(- name: [a-z0-9-]+-k\d\d-pe1\n(?:        .*\n)*?          - \{peer: [a-z0-9-]+, bandwidth: )1G",
                  text)
    assert m, "no county PE with a 1G uplink in the file"
    return text[:m.end() - 2] + "500M" + text[m.end():]


def add_township(text: str) -> str:
    """A new township (code …199) with one CE below the first county of the file."""
    m = re.search(r"  - id: ([a-z0-9-]+-k\d\d)\n(?:    .*\n)*?    code: (\d+)\n", text)
    assert m, "no county in the file"
    county, code = m.group(1), int(m.group(2))
    return text + (f"\n  - id: {county}-t199\n    name: 新增乡\n    level: township\n    code: {code * 1000 + 199}\n"
                   f"    parent: {county}\n    devices:\n      - name: {county}-t199-ce1\n        role: ce\n"
                   f"        platform: huawei_vrp\n        vendor: huawei\n        model: AR651\n"
                   f"        uplinks:\n          - {{peer: {county}-pe1, bandwidth: 100M, carrier: china-telecom}}\n")


# ---------------------------------------------------------------------- one measurement


def child(src: Path, work: Path) -> dict:
    """The cold stages, in this process, the way `netgen build` runs them (`bench.py --child SRC WORK`)."""
    import gc

    from netgen.intent.cache import Cache
    from netgen.intent.gcpause import paused_gc
    from netgen.model import resolve
    from netgen.model.resolve import resolve_model
    from netgen.render import build as render

    t: dict[str, float] = {}
    cache = Cache(work / "cache")
    t0 = time.perf_counter()
    v = resolve(src, cache=cache, model=False)  # validation, then allocation (timed apart below)
    total = time.perf_counter() - t0
    assert v.ok, [str(d.location) + " " + d.message for d in v.errors[:3]]
    t0 = time.perf_counter()
    network = v.lazy_network()
    facts = time.perf_counter() - t0
    t["validate"] = validate_seconds(src, cache)
    t["resolve"] = total - t["validate"] + facts
    t0 = time.perf_counter()
    v.write_lock()
    t["lock"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = render.build(network, work / "build", cache=cache)
    t["cold build"] = time.perf_counter() - t0
    assert result.ok, result.diagnostics[:3]
    with paused_gc():  # as in resolve() and build()
        t0 = time.perf_counter()
        full = resolve_model(v.intent, v.allocation)
        t["model"] = time.perf_counter() - t0
        t["floor"] = floor(full, cache)
    gc.collect()
    return {"sites": len(full.sites), "devices": len(full.devices), "files": len(v.intent.files), "times": t,
            "rss": rss()}


def validate_seconds(src: Path, cache) -> float:
    """validate() alone, as cold as the run before it: the parse cache is set aside for it."""
    from netgen.intent.validate import validate

    moved = cache.dir.with_name(cache.dir.name + ".set-aside")
    cache.dir.rename(moved)
    try:
        t0 = time.perf_counter()
        assert validate(src, cache).ok
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(cache.dir, ignore_errors=True)
        moved.rename(cache.dir)


def floor(network, cache) -> float:
    """Seconds to render every config from the resolved model with build's own worker processes
    and templates (compiled already, by the build before), doing nothing else."""
    from netgen.render import build as render

    render._JOB = render._Job(network, None, Path(), -1, {}, {}, {}, None, None, render._compiled_templates(cache))
    try:
        t0 = time.perf_counter()
        render._render(list(network.devices), None, False, work=_render_only)
        return time.perf_counter() - t0
    finally:
        render._JOB = None


def _render_only(names: list[str]) -> list:  # in a worker process
    from netgen.render import build as render

    net, compiled = render._JOB.network, render._JOB.compiled
    for name in names:
        device = net.devices[name]
        render._template(device.platform, compiled).render(d=device, net=net)
    return []


def rss() -> int:
    """Peak RSS in bytes of this process or any of its (finished) children, whichever is larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) * 1024


def command(src: Path, work: Path) -> tuple[float, int, dict]:
    """`netgen build` in a new process: seconds, peak RSS, and its summary line's counts."""
    env = dict(os.environ, NETGEN_CACHE_DIR=str(work / "cache"))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "netgen", "build", str(src), "-o", str(work / "build")],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (written|unchanged|removed)", proc.stdout))
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, counts


def measure(size: int) -> dict:
    src = intent_dir(size)
    with tempfile.TemporaryDirectory(prefix="netgen-bench-") as tmp:
        work = Path(tmp)
        intent = work / "intent"
        shutil.copytree(src, intent, ignore=shutil.ignore_patterns("netgen.lock", ".generated.json"))
        proc = subprocess.run([sys.executable, __file__, "--child", str(intent), str(work)], capture_output=True,
                              text=True, cwd=ROOT)
        if proc.returncode:
            sys.exit(f"benchmark of {size} sites failed:\n{proc.stderr[-3000:]}")
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        city = county_file(intent)
        original = city.read_text(encoding="utf-8")
        row["rewritten"] = {}
        for stage, edit in (("warm edit", edit_uplink), ("warm add", add_township), ("no change", None)):
            if edit is not None:
                city.write_text(edit(original), encoding="utf-8")
            seconds, peak, counts = command(intent, work)
            row["times"][stage], row["rewritten"][stage] = seconds, counts.get("written", 0)
            row["rss"] = max(row["rss"], peak)
    return row


def best(rows: list[dict]) -> dict:
    out = dict(rows[0])
    out["times"] = {s: min(r["times"][s] for r in rows) for s in rows[0]["times"]}
    out["rss"] = max(r["rss"] for r in rows)
    return out


# ---------------------------------------------------------------------- report


def exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    return math.log(max(t2, 1e-3) / max(t1, 1e-3)) / math.log(n2 / n1)


def report(rows: dict[int, dict]) -> None:
    head = (f"{'sites':>7} {'devices':>8} " + " ".join(f"{s:>10}" for s in STAGES)
            + f" {'devices/s':>9} {'peak RSS':>9} {'build÷floor':>11} {'all÷floor':>9}")
    print(head)
    print("-" * len(head))
    for r in rows.values():
        t = r["times"]
        cold = t["validate"] + t["resolve"] + t["lock"] + t["cold build"]
        print(f"{r['sites']:>7,} {r['devices']:>8,} " + " ".join(f"{t[s]:>9.2f}s" for s in STAGES)
              + f" {r['devices'] / cold:>9,.0f} {r['rss'] / 2**20:>6,.0f} MB {t['cold build'] / t['floor']:>11.2f}"
              f" {cold / t['floor']:>9.2f}")
    last = list(rows.values())[-1]
    print("\nfiles rewritten at " + f"{last['sites']:,} sites: " +
          ", ".join(f"{s} {n}" for s, n in last["rewritten"].items()))
    sizes = list(rows.values())
    for a, b in zip(sizes, sizes[1:]):
        parts = [f"{s} k={exponent(a['times'][s], b['times'][s], a['sites'], b['sites']):.2f}"
                 for s in ("validate", "resolve", "cold build")]
        print(f"growth {a['sites']:,} → {b['sites']:,} sites (×{b['sites'] / a['sites']:.1f}): " + ", ".join(parts))


def profile(size: int, stage: str, top: int) -> None:
    """cProfile one cold stage of `size` sites (validate, resolve or build)."""
    import cProfile
    import pstats

    from netgen.intent.gcpause import paused_gc
    from netgen.intent.validate import validate
    from netgen.model.allocate import allocate
    from netgen.model.lock import Lock
    from netgen.model.resolve import resolve_model
    from netgen.render.build import build

    src = intent_dir(size)
    with tempfile.TemporaryDirectory(prefix="netgen-bench-") as tmp, paused_gc():
        intent = Path(tmp) / "intent"
        shutil.copytree(src, intent, ignore=shutil.ignore_patterns("netgen.lock"))
        prof = cProfile.Profile()
        prof.enable() if stage == "validate" else None
        v = validate(intent)
        prof.disable()
        prof.enable() if stage == "resolve" else None
        alloc = allocate(v.intent, Lock.read(intent))
        network = resolve_model(v.intent, alloc)
        prof.disable()
        if stage == "build":
            prof.enable()
            build(network, Path(tmp) / "build", jobs=1)
            prof.disable()
    for key in ("tottime", "cumulative"):
        print(f"--- {stage} of {size:,} sites: top {top} by {key} ---")
        pstats.Stats(prof).strip_dirs().sort_stats(key).print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,45000", help="comma-separated site counts")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest of each figure counts")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--profile", type=int, metavar="N", help="cProfile one stage of N sites instead")
    ap.add_argument("--stage", choices=("validate", "resolve", "build"), default="resolve")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--child", nargs=2, metavar=("SRC", "WORK"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return
    if args.profile:
        profile(args.profile, args.stage, args.top)
        return
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    rows = {n: best([measure(n) for _ in range(max(1, args.repeat))]) for n in sizes}
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        report(rows)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
