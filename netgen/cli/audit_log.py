"""`netgen audit-log verify [FILE]`: check the audit log's hash chain (netgen/deploy/audit.py)."""
from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("audit-log", help="check the apply audit log",
                       description="Every audit record carries the sha256 of the one before it; `verify` checks "
                                   "the chain and names the first line where it breaks (a line edited, removed or "
                                   "inserted). It prints the head hash: keep it elsewhere to detect lines cut off "
                                   "the end.")
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = asub.add_parser("verify", help="check the hash chain")
    v.add_argument("file", nargs="?", help="the log (default: $NETGEN_AUDIT_LOG, else ./netgen-audit.jsonl)")


def run(args) -> int:
    from ..deploy.audit import verify_chain

    path = args.file or os.environ.get("NETGEN_AUDIT_LOG") or "netgen-audit.jsonl"
    try:
        report = verify_chain(path)
    except OSError as exc:
        print(f"error: {path}: cannot read the audit log ({exc.strerror or type(exc).__name__})", file=sys.stderr)
        return 2
    if report.bad_line:
        print(f"error: {path}: line {report.bad_line}: {report.reason}; the records from there on cannot be trusted",
              file=sys.stderr)
        return 1
    print(f"{path}: {report.lines} record(s), chain intact; head {report.head}")
    return 0
