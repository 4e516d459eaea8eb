"""`netgen validate [DIR]`: check intent files; report every problem with file:line:col."""
from __future__ import annotations

import sys

from ..diagnostics import FORMATS, render


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check the intent and report problems",
                       description="Check intent files: YAML, structure (cerberus) and semantic rules.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--no-color", action="store_true", help="plain text even at a terminal")
    p.add_argument("--list-rules", action="store_true", help="list the semantic rules and exit")


def run(args) -> int:
    from .. import validate
    from ..intent.rules import RULES
    from . import default_intent_dir

    if args.list_rules:
        for r in RULES.values():
            print(f"{r.id:28} {r.severity.value:8} {r.summary}")
        return 0
    result = validate(args.directory or default_intent_dir())
    color = args.format == "text" and not args.no_color and sys.stdout.isatty()
    docs = {r.id: r.summary for r in RULES.values()}
    text = render(result.diagnostics, args.format, color=color, rule_docs=docs)
    if color:
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(text)
    else:
        print(text)
    if args.format == "text" and result.ok:
        intent = result.intent
        print(f"valid: {len(intent.sites)} sites, {len(intent.devices)} devices, {len(intent.zones)} zones, "
              f"{len(intent.departments)} departments in {len(intent.files)} files", file=sys.stderr)
    return result.exit_code()
