"""`netgen` command line: parse arguments, call one stage, print. One module per subcommand.

Exit codes: 0 success, 1 the intent is invalid (or the command found a problem), 2 the input
could not be used at all, or a usage error.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import __version__
from . import apply, approve, build, diff, lab, lock, plan, release, show, validate, verify

COMMANDS = {"validate": validate, "show": show, "build": build, "lock": lock, "release": release, "plan": plan,
            "approve": approve, "apply": apply, "diff": diff, "lab": lab,
            "verify": verify}


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
    except Exception as exc:  # a bug or an environment problem: one line, the trace only on request
        if os.environ.get("NETGEN_DEBUG"):
            raise
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        print(f"error: netgen {args.command}: {type(exc).__name__}: {exc}{where}\n"
              "  set NETGEN_DEBUG=1 for the traceback, and report it if it is netgen's fault", file=sys.stderr)
        return 1
