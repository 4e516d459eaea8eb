"""`netgen lock [DIR]`: record every allocation in netgen.lock (commit it with the intent)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..locking import add_wait_option
from ._output import add_cache_option, cache_of, holding_intent_lock, intent_dir, print_diagnostics


def add_parser(sub) -> None:
    p = sub.add_parser("lock", help="allocate what is new and record it in netgen.lock",
                       description="Resolve the intent and write every allocation to netgen.lock beside it. "
                                   "Existing entries never move; entries whose owner left the intent stay "
                                   "reserved until `netgen release`.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if the lock file is out of date")
    add_cache_option(p)
    add_wait_option(p)


def run(args) -> int:
    from ..model.lock import LOCK_NAME

    src = Path(intent_dir(args.directory))
    path = (src if src.is_dir() else src.parent) / LOCK_NAME
    # held from reading the lock file to writing it: a build or release in between would be undone
    return holding_intent_lock(path, "lock", not args.no_wait, lambda: _run(args, src), "run `netgen lock` again",
                               hold_it=not args.check)


def _run(args, src: Path) -> int:
    from ..model import resolve

    res = resolve(src, locked=args.check, cache=cache_of(args), model=False)
    if not res.ok:
        print_diagnostics(res.diagnostics)
        return res.exit_code()
    alloc = res.allocation
    if args.check:
        print(f"lock file up to date ({len(res.lock.entries)} entries)")
        return 0
    changed = res.write_lock()
    print(f"{res.lock.path}: {'updated' if changed else 'unchanged'}; {len(alloc.new)} new allocation(s), "
          f"{len(alloc.orphans)} unreleased orphan(s)", file=sys.stderr)
    for key in alloc.new:
        print(f"  + {key} = {res.lock.entries[key]}")
    for key in alloc.orphans:
        print(f"  ! {key} = {res.lock.entries.get(key, '?')} (owner gone; `netgen release {key}` frees it)")
    return 0
