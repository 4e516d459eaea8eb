"""Advisory locks that keep two netgen runs off the same files.

`build`, `lock` and `release` read netgen.lock, allocate and write it back; `build` also
replaces its build directory. Two of them at once would lose an allocation or undo a release,
so each holds an flock(2) on a lock file beside what it changes: `.netgen.lock.lck` beside
netgen.lock, `.NAME.lck` beside a build directory (outside it: the directory holds only the
build). The file names its holder, for the message of a run that has to wait.

A lock file is removed when its holder is done (no litter in the intent or beside the build).
That is safe because a waiter, once it holds the lock, checks that the path still names the
file it locked, and starts again if not.
"""
from __future__ import annotations

import errno
import fcntl
import os
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator


class Busy(Exception):
    """Another run holds the lock and the caller chose not to wait (--no-wait)."""


def add_wait_option(p) -> None:
    """--no-wait, for the commands that take these locks."""
    p.add_argument("--no-wait", action="store_true",
                   help="fail (exit 1) instead of waiting when another netgen run uses the same lock file "
                        "or build directory")


def lock_file_of(path: Path) -> Path:
    """The lock file guarding `path` (a file or a directory): a hidden name beside it."""
    path = Path(os.path.abspath(path))
    return path.parent / f".{path.name}.lck"


@contextmanager
def hold(path: Path, doing: str, wait: bool = True) -> Iterator[None]:
    """Hold the exclusive lock on `path` (netgen.lock, a build directory) while the block runs.

    `doing` says what this run does ("build into build/"), shown to a run that waits. Without
    `wait`, raise Busy naming the holder instead of waiting."""
    lck = lock_file_of(path)
    while True:
        try:
            fd = os.open(lck, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT):  # nothing can be written there (or it is
                yield  # not there: the command says so): no run can race this one on it
                return
            raise
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                holder = _holder(fd)
                if not wait:
                    raise Busy(f"{path} is in use by {holder}; try again when it finishes, "
                               "or run without --no-wait to wait for it") from None
                print(f"netgen: waiting for {holder} with {path} …", file=sys.stderr, flush=True)
                fcntl.flock(fd, fcntl.LOCK_EX)
            if not _same_file(fd, lck):  # its holder removed it as it finished: lock the new one
                os.close(fd)
                continue
        except BaseException:
            os.close(fd)
            raise
        break
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} netgen {doing}\n".encode("utf-8", "backslashreplace"))
        yield
    finally:
        try:
            os.unlink(lck)  # while still holding it: a waiter sees the name gone and starts again
        except OSError:
            pass
        os.close(fd)


@contextmanager
def hold_all(paths: list[tuple[Path, str]], wait: bool = True) -> Iterator[None]:
    """Hold several locks, taken in the order given (callers keep one order: the intent's
    lock file first, then the build directory), released in reverse."""
    with ExitStack() as stack:
        for path, doing in paths:
            stack.enter_context(hold(path, doing, wait))
        yield


def _holder(fd: int) -> str:
    """Who holds the lock, as its file says ("pid 123 (netgen build into build/)")."""
    try:
        text = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    pid, _, doing = text.partition(" ")
    return f"pid {pid} ({doing})" if pid.isdigit() and doing else "another netgen run"


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True
