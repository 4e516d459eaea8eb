"""Printing shared by the subcommands."""
from __future__ import annotations

import io
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
