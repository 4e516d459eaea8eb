"""`netgen` command line: parse arguments, call one stage, print. One module per subcommand.

Exit codes: 0 success, 1 the intent is invalid (or the command found a problem), 2 the input
could not be used at all, or a usage error.
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from .. import __version__
from ._output import os_error_line
from . import apply, approve, audit_log, build, diff, lab, lock, plan, release, show, validate, verify

COMMANDS = {"validate": validate, "show": show, "build": build, "lock": lock, "release": release, "plan": plan,
            "approve": approve, "apply": apply, "diff": diff, "lab": lab,
            "verify": verify, "audit-log": audit_log}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a one-line reason, never a traceback
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def default_intent_dir() -> Path:
    """`./inventory` when it exists, else the example shipped beside the package."""
    here = Path("inventory")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "inventory"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="netgen", description="The national e-government extranet as code.")
    p.add_argument("--version", action="version", version=f"netgen {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, mod in COMMANDS.items():
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 is printed escaped, never a traceback
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):  # not a reconfigurable text stream (a test's capture)
            pass
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # the environment, not netgen: which path, and what to do
        if os.environ.get("NETGEN_DEBUG"):
            raise
        if exc.filename is None and getattr(args, "output", None) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            exc.filename = args.output  # a failed write() names no file: the command's output is the one
        print(f"error: netgen {args.command}: {os_error_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, the trace only on request
        from ..model.lock import LockError

        if isinstance(exc, LockError):  # a lock read lazily, first used by the command itself
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, UnicodeEncodeError) and "surrogate" in str(exc.reason) and \
                not os.environ.get("NETGEN_DEBUG"):  # a name with bytes that are not UTF-8, written out
            name = exc.object.encode("utf-8", "backslashreplace").decode() if isinstance(exc.object, str) else ""
            print(f"error: netgen {args.command}: a file or folder name is not UTF-8 (`{name[:200]}`); rename it",
                  file=sys.stderr)
            return 2
        if os.environ.get("NETGEN_DEBUG"):
            raise
        print(f"error: netgen {args.command}: {type(exc).__name__}: {exc}\n"
              "  set NETGEN_DEBUG=1 for the traceback, and report it if it is netgen's fault", file=sys.stderr)
        return 1
