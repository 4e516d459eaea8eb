"""`netgen build [DIR] [-o build/]`: render every device's config, atomically."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ._output import add_cache_option, cache_of, intent_dir, print_diagnostics


def add_parser(sub) -> None:
    p = sub.add_parser("build", help="render device configs into a build directory",
                       description="Validate, resolve (recording new allocations in netgen.lock) and render one "
                                   "config per device plus manifest.json. The previous build is replaced only "
                                   "when everything rendered; unchanged files are left untouched.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("-o", "--output", default="build", help="build directory (default: ./build)")
    p.add_argument("--platform", help="render every device for this platform (e.g. frr for the lab)")
    p.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    p.add_argument("--locked", action="store_true",
                   help="fail instead of allocating anything new (CI: netgen.lock must be committed)")
    add_cache_option(p)


def run(args) -> int:
    from ..model import resolve
    from ..render.build import build, fingerprint

    t0 = time.perf_counter()
    src = Path(intent_dir(args.directory))
    cache = cache_of(args)
    res = resolve(src, locked=args.locked, cache=cache, jobs=args.jobs, model=False)  # workers build devices
    if not res.ok:
        print_diagnostics(res.diagnostics)
        return res.exit_code()
    files = [*res.intent.files, str(res.lock.path)] if res.lock.path.exists() else list(res.intent.files)
    out = build(res.lazy_network(), Path(args.output), platform=args.platform, jobs=args.jobs,
                intent_fingerprint=fingerprint([Path(f) for f in files], src), progress=True, cache=cache)
    if not out.ok:
        print_diagnostics(out.diagnostics)
        print(f"build failed; {args.output} is unchanged", file=sys.stderr)
        return 1
    if res.write_lock():
        print(f"{res.lock.path}: recorded {len(res.allocation.new)} new allocation(s)", file=sys.stderr)
    warnings = [d for d in res.diagnostics if d.severity.value != "error"]
    if warnings:
        print_diagnostics(warnings, file=sys.stderr)
    n = len(out.written) + len(out.unchanged)
    print(f"built {n} devices into {args.output}/: {len(out.written)} written, {len(out.unchanged)} unchanged, "
          f"{len(out.removed)} removed ({time.perf_counter() - t0:.2f} s)")
    return 0
