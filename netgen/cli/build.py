"""`netgen build [DIR] [-o build/]`: render every device's config, atomically.

The lock file is written before the build directory changes, so a build never uses
allocations netgen.lock does not record; if the directory then cannot be replaced, the lock
file is put back as it was. Both are held (locking.py) against other runs for the whole build.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..locking import Busy, add_wait_option, hold_all
from ._output import add_cache_option, cache_of, intent_dir, print_diagnostics

MAX_JOBS = 256


def jobs_arg(text: str) -> int:
    """--jobs: a whole number of processes from 1 to MAX_JOBS."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to {MAX_JOBS}")
    return n


def output_arg(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path is not a build directory; name one (default: build)")
    return text


def add_parser(sub) -> None:
    p = sub.add_parser("build", help="render device configs into a build directory",
                       description="Validate, resolve (recording new allocations in netgen.lock) and render one "
                                   "config per device plus manifest.json. The previous build is replaced only "
                                   "when everything rendered; unchanged files are left untouched, and files "
                                   "changed by hand are written again.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("-o", "--output", default="build", type=output_arg, help="build directory (default: ./build)")
    p.add_argument("--platform", help="render every device for this platform (frr: VRF-lite lab, frr_mpls: MPLS L3VPN)")
    p.add_argument("--jobs", type=jobs_arg, help=f"worker processes, 1 to {MAX_JOBS} (default: one per core)")
    p.add_argument("--locked", action="store_true",
                   help="fail instead of allocating anything new (CI: netgen.lock must be committed)")
    add_cache_option(p)
    add_wait_option(p)


def run(args) -> int:
    from ..model.lock import LOCK_NAME

    src = Path(intent_dir(args.directory))
    locks = [((src if src.is_dir() else src.parent) / LOCK_NAME, f"build into {args.output}"), (Path(args.output), f"build from {src}")]
    try:
        with hold_all(locks, wait=not args.no_wait):
            return _run(args, src)
    except Busy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = exc.filename or args.output
        print(f"error: {where}: {exc.strerror or exc}; {args.output} and netgen.lock are as they were — "
              "free space or fix permissions there, then build again", file=sys.stderr)
        return 1


def _run(args, src: Path) -> int:
    from ..model import resolve
    from ..model.lock import replace_file
    from ..render.build import build, fingerprint

    t0 = time.perf_counter()
    cache = cache_of(args)
    res = resolve(src, locked=args.locked, cache=cache, jobs=args.jobs, model=False)  # workers build devices
    if not res.ok:
        print_diagnostics(res.diagnostics)
        return res.exit_code()
    lock_path, old_lock = res.lock.path, (res.lock.path.read_bytes() if res.lock.path.exists() else None)
    wrote_lock = []

    def lock_first() -> None:  # everything rendered: record its allocations before the build directory changes
        wrote_lock.append(res.write_lock())

    try:
        out = build(res.lazy_network(), Path(args.output), platform=args.platform, jobs=args.jobs,
                    intent_fingerprint=lambda: fingerprint([Path(f) for f in _made_of(res)], src), progress=True,
                    cache=cache,
                    before_commit=lock_first)
    except OSError:
        if any(wrote_lock):  # the build directory could not be replaced: the lock goes back with it
            if old_lock is None:
                lock_path.unlink(missing_ok=True)
            else:
                replace_file(lock_path, old_lock)
        raise
    if not out.ok:
        print_diagnostics(out.diagnostics)
        print(f"build failed; {args.output} is unchanged", file=sys.stderr)
        return 1
    if any(wrote_lock):
        print(f"{res.lock.path}: recorded {len(res.allocation.new)} new allocation(s)", file=sys.stderr)
    warnings = [d for d in res.diagnostics if d.severity.value != "error"]
    if warnings:
        print_diagnostics(warnings, file=sys.stderr)
    if out.repaired:
        print(f"{args.output}: wrote again {len(out.repaired)} file(s) that differed from the manifest (edited, "
              f"deleted or chmod-ed by hand): {', '.join(out.repaired[:10])}{' …' if len(out.repaired) > 10 else ''}",
              file=sys.stderr)
    if out.dropped:
        print(f"{args.output}: removed {len(out.dropped)} file(s) netgen did not write: "
              f"{', '.join(out.dropped[:10])}{' …' if len(out.dropped) > 10 else ''}", file=sys.stderr)
    n = len(out.written) + len(out.unchanged)
    print(f"built {n} devices into {args.output}/: {len(out.written)} written, {len(out.unchanged)} unchanged, "
          f"{len(out.removed)} removed ({time.perf_counter() - t0:.2f} s)")
    return 0


def _made_of(res) -> list[str]:
    """The files a build is made of: the intent's, and the lock file as the build left it."""
    return [*res.intent.files, str(res.lock.path)] if res.lock.path.exists() else list(res.intent.files)
