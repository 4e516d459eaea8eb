"""The audit trail: one JSON line per device per apply — who, when, which plan, what happened.

Appended, flushed and fsync'd record by record, so a crash loses at most the line being
written; never rewritten. Secrets are masked before anything reaches it.

Tamper-evident: every line carries `prev`, the sha256 of the line before it (its bytes without
the newline; the first line chains to sha256 of SEED). Editing, removing or inserting a line
breaks the chain at that point, which `netgen audit-log verify` names. Appends from several
processes are serialised by an exclusive lock on the file. The chain cannot show that lines were
cut off the end: keep the head hash `verify` prints somewhere else (a ticket, a second host).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

_LOCK = threading.Lock()
SEED = b"netgen-audit/1"
GENESIS = hashlib.sha256(SEED).hexdigest()
_TAIL = 1 << 16


def default_path(plan_path: str | Path) -> Path:
    env = os.environ.get("NETGEN_AUDIT_LOG")
    return Path(env) if env else Path(plan_path).resolve().parent / "netgen-audit.jsonl"


def _last_line(fd: int) -> bytes | None:
    """The file's last line (without its newline); None for an empty file."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    chunk = _TAIL
    while True:
        start = max(0, size - chunk)
        data = os.pread(fd, size - start, start)
        body = data[:-1] if data.endswith(b"\n") else data
        cut = body.rfind(b"\n")
        if cut >= 0 or start == 0:
            return body[cut + 1:]
        chunk *= 4


class AuditLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, **record) -> None:
        record = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **record}
        with _LOCK:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)   # another apply appending: wait for its line
                last = _last_line(fd)
                size = os.lseek(fd, 0, os.SEEK_END)
                torn = size and os.pread(fd, 1, size - 1) != b"\n"   # a crash mid-line: keep it visible
                record["prev"] = GENESIS if last is None else hashlib.sha256(last).hexdigest()
                line = json.dumps(record, ensure_ascii=False, sort_keys=True)
                os.write(fd, (b"\n" if torn else b"") + line.encode("utf-8") + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)

    def records(self) -> list[dict]:
        try:
            return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return []


@dataclass
class ChainReport:
    lines: int
    head: str          # sha256 of the last line: note it elsewhere to detect truncation
    bad_line: int = 0  # first line where the chain breaks (1-based); 0: intact
    reason: str = ""


def verify_chain(path: str | Path) -> ChainReport:
    """Check every line's `prev` against the line before; raises OSError if unreadable."""
    expected, n = GENESIS, 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw[:-1] if raw.endswith(b"\n") else raw
            try:
                record = json.loads(line.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError):
                return ChainReport(n, expected, n, "not a JSON record (edited, or torn by a crash)")
            if not isinstance(record, dict) or record.get("prev") != expected:
                why = ("the first line does not start the chain (lines were removed before it)" if n == 1 else
                       f"does not chain to line {n - 1}: line {n - 1} or {n} was edited, or lines were removed "
                       "or inserted between them")
                return ChainReport(n, expected, n, why)
            expected = hashlib.sha256(line).hexdigest()
    return ChainReport(n, expected)
