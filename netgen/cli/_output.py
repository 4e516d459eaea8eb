"""Printing shared by the subcommands."""
from __future__ import annotations

import io
import os
import sys

from ..diagnostics import Diagnostic, render


def _never_fail_to_encode(stream, fmt: str) -> None:
    """A character the output cannot encode (a file name that is not UTF-8, Chinese under an
    ASCII locale) is escaped, never a traceback. JSON, SARIF and GitHub workflow commands are
    UTF-8 by definition; text keeps the terminal's encoding."""
    try:
        if fmt != "text":
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        else:
            stream.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a reconfigurable text stream
        pass


def print_diagnostics(diags: list[Diagnostic], fmt: str = "text", no_color: bool = False, file=None) -> None:
    """Diagnostics in the chosen format; text is coloured only at a terminal."""
    from ..intent.rules import RULES

    file = file or sys.stdout
    _never_fail_to_encode(file, fmt)
    color = fmt == "text" and not no_color and file.isatty()
    text = render(diags, fmt, color=color, rule_docs={r.id: r.summary for r in RULES.values()})
    if color:
        from rich.console import Console

        Console(file=file, highlight=False, soft_wrap=True).print(text)
    else:
        print(text, file=file)


def intent_dir(arg: str | None):
    from . import default_intent_dir

    return arg or default_intent_dir()


def add_cache_option(p) -> None:
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the cache of parsed files and rendered configs "
                        "($NETGEN_CACHE_DIR, default ~/.cache/netgen); results are the same, only slower")


def cache_of(args):
    from ..intent.cache import Cache

    return Cache.default(enabled=not getattr(args, "no_cache", False))


MAX_JOBS = 256  # processes or connections; more only exhausts the machine or the devices' AAA


def _bounded(convert, low, high, unit: str, what: str):
    """An argparse type: a value `convert` makes of the text, in [low, high] (NaN never is), else
    a one-line usage error (exit 2)."""
    def parse(text: str):
        import argparse

        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}` is not {what}") from None
        if not low <= value <= high:  # also false for NaN
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {low:g} to {high:g}{unit}")
        return value
    parse.__name__ = "seconds" if unit else "number"  # what argparse names in its own messages
    return parse


def bounded_int(low: int, high: int):
    """An argparse type: an integer in [low, high]."""
    return _bounded(int, low, high, "", "a whole number")


def bounded_seconds(low: float, high: float):
    """An argparse type: seconds in [low, high] (not NaN, not infinite)."""
    return _bounded(float, low, high, " seconds", "a number of seconds")


def nonempty(what: str, longest: int = 4096):
    """An argparse type: a non-empty string of at most `longest` characters (a path, a name)."""
    def parse(text: str) -> str:
        import argparse

        if not text.strip():
            raise argparse.ArgumentTypeError(f"an empty {what} is not allowed")
        if len(text) > longest or "\0" in text:
            raise argparse.ArgumentTypeError(f"not a usable {what} (longer than {longest} characters or a NUL byte)")
        return text
    parse.__name__ = what
    return parse


# What to do about an operating-system error, by errno name (os_error_line).
_OS_HINTS = {
    "EACCES": "check the permissions of the path and its folders for the user running netgen",
    "EPERM": "check the permissions of the path and its folders for the user running netgen",
    "EROFS": "the file system is read-only: use a directory on a writable one",
    "ENOSPC": "free space on that file system (or write elsewhere) and run again",
    "EDQUOT": "the disk quota is used up: free space (or write elsewhere) and run again",
    "ENAMETOOLONG": "use a shorter path (each name at most 255 bytes)",
    "EXDEV": "keep the directory and its temporary files on one file system (a rename cannot cross devices)",
    "ENOTDIR": "a part of the path is a file, not a folder: fix the path",
    "EISDIR": "the path is a folder: name a file",
    "ENOENT": "check that the path exists",
    "EEXIST": "remove it or choose another path",
    "ENOTEMPTY": "remove it or choose another path",
    "ELOOP": "a symlink in the path points back to itself: fix the link",
    "EMFILE": "too many open files: raise the limit (`ulimit -n`) or use fewer --jobs/--workers",
    "ENFILE": "too many open files on this machine: close some, or use fewer --jobs/--workers",
    "EIO": "the disk reported an I/O error: check it (dmesg) before trusting anything on it",
    "EBUSY": "the path is in use (a mount point?): choose another path",
}


def os_error_line(exc: OSError) -> str:
    """An operating-system error as one line: the path(s), the system's reason, what to do."""
    import errno as errno_

    def show(p) -> str:  # a name that is not UTF-8 is escaped, never a traceback
        text = os.fsdecode(p) if isinstance(p, (bytes, os.PathLike)) else str(p)
        return os.fsencode(text).decode("utf-8", "backslashreplace")

    paths = " → ".join(f"`{show(p)}`" for p in (exc.filename, exc.filename2) if p not in (None, ""))
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _OS_HINTS.get(errno_.errorcode.get(exc.errno or 0, ""), "")
    return f"{paths + ': ' if paths else ''}{reason}{'; ' + hint if hint else ''}"

def holding_intent_lock(lock_file, command: str, wait: bool, run, again: str, hold_it: bool = True) -> int:
    """`run()` while holding the intent's lock (netgen/locking.py: a build, lock or release in
    between would undo what this one reads and writes). A lock another run holds with --no-wait,
    or an OS error, is one line and exit 1; the lock file is then as it was."""
    from contextlib import nullcontext

    from ..locking import Busy, hold

    try:
        with hold(lock_file, command, wait=wait) if hold_it else nullcontext():
            return run()
    except Busy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or lock_file}: {exc.strerror or exc}; the lock file is as it was — free space "
              f"or fix permissions there, then {again}", file=sys.stderr)
        return 1
