"""`netgen release PATTERN…`: free lock entries (e.g. a removed site's space) for reuse."""
from __future__ import annotations

import sys
from pathlib import Path

from ..locking import add_wait_option
from ._output import holding_intent_lock, intent_dir


def add_parser(sub) -> None:
    p = sub.add_parser("release", help="free lock entries so their space can be reused",
                       description="Remove entries from netgen.lock. A pattern matches a key "
                                   "(ipv4/pool/jx-nc) or its owner (jx-nc, jx-nc-*); shell wildcards work.")
    p.add_argument("patterns", nargs="+", metavar="PATTERN")
    p.add_argument("-C", "--directory", help="intent directory (default: ./inventory)")
    add_wait_option(p)


def run(args) -> int:
    from ..model.lock import LOCK_NAME

    src = Path(intent_dir(args.directory))
    if not src.is_dir():
        print(f"error: -C {src}: no such intent directory; name the directory that holds netgen.lock",
              file=sys.stderr)
        return 2
    # held from reading the lock file to writing it: a build in between would undo the release
    return holding_intent_lock(src / LOCK_NAME, "release", not args.no_wait, lambda: _run(args, src),
                               "release again")


def _run(args, src: Path) -> int:
    from ..model.lock import Lock, LockError

    try:
        lock = Lock.read(src)
    except LockError as exc:
        print(f"error: {exc}")
        return 2
    gone = lock.release(args.patterns)
    if not gone:
        print("nothing matched; the lock file is unchanged")
        return 1
    lock.write()
    for key in gone:
        print(f"  - {key}")
    print(f"released {len(gone)} entr{'y' if len(gone) == 1 else 'ies'} from {lock.path}")
    return 0
