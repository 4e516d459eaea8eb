"""Per-device locks for the duration of an apply: two applies on overlapping devices must not
interleave their changes (nor one's rollback undo the other's commit).

One file per device in a lock directory beside the audit log (or $NETGEN_LOCK_DIR), held with an
exclusive `fcntl.flock` — released by the kernel when the holder exits, however it dies, so a
stale file never blocks. The file holds the holder's pid, user, host, plan hash and start time,
which the refusal names. All of an apply's devices are taken before anything is touched, or
none is.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import time
from pathlib import Path

from .session import DeployError, operator

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")


def lock_dir(audit_path: str | Path) -> Path:
    env = os.environ.get("NETGEN_LOCK_DIR")
    return Path(env).expanduser() if env else Path(audit_path).resolve().parent / "netgen-locks"


def _file_name(device: str) -> str:
    if _SAFE.fullmatch(device):
        return f"{device}.lock"
    return f"device-{hashlib.sha256(device.encode()).hexdigest()[:24]}.lock"


class DeviceLocks:
    """`with DeviceLocks(dir, devices, plan_sha256):` — DeployError naming the holder if any
    device is held by another apply."""

    def __init__(self, directory: str | Path, devices: list[str], plan_sha256: str):
        self.dir, self.devices, self.plan_sha256 = Path(directory), sorted(set(devices)), plan_sha256
        self.fds: list[int] = []

    def __enter__(self) -> "DeviceLocks":
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        except OSError as exc:
            raise DeployError(f"{self.dir}: cannot create the device lock directory ({exc.strerror}); "
                              "set NETGEN_LOCK_DIR or --audit-log to a writable place") from None
        holder = {"pid": os.getpid(), "user": operator(), "plan_sha256": self.plan_sha256,
                  "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        try:
            for device in self.devices:
                path = self.dir / _file_name(device)
                try:
                    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
                except OSError as exc:
                    raise DeployError(f"{path}: cannot open the device lock ({exc.strerror})") from None
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    raise DeployError(f"{device} is being changed by another apply ({_holder(path)}); nothing "
                                      "was changed — wait for it to finish") from None
                self.fds.append(fd)
                os.ftruncate(fd, 0)
                os.pwrite(fd, (json.dumps({**holder, "device": device}) + "\n").encode(), 0)
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        for fd in self.fds:
            try:
                os.ftruncate(fd, 0)   # the file stays; its content names no one once free
            finally:
                os.close(fd)          # closing drops the flock
        self.fds = []


def _holder(path: Path) -> str:
    """Who holds `path`, from what it wrote (it writes just after taking the lock: retry briefly)."""
    for _ in range(20):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            return f"pid {info['pid']} of {info['user']}, plan {str(info['plan_sha256'])[:12]}, since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            time.sleep(0.05)
    return f"holder unknown: see {path}"
