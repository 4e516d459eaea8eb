"""The audit trail: one JSON line per device per apply — who, when, which plan, what happened.

Appended, flushed and fsync'd record by record, so a crash loses at most the line being
written; never rewritten. Secrets are masked before anything reaches it.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

_LOCK = threading.Lock()


def default_path(plan_path: str | Path) -> Path:
    env = os.environ.get("NETGEN_AUDIT_LOG")
    return Path(env) if env else Path(plan_path).resolve().parent / "netgen-audit.jsonl"


class AuditLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, **record) -> None:
        record = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **record}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with _LOCK:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def records(self) -> list[dict]:
        try:
            return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return []
