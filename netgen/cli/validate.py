"""`netgen validate [DIR]`: check intent files; report every problem with file:line:col."""
from __future__ import annotations

import sys

from ..diagnostics import FORMATS
from ._output import add_cache_option, cache_of, intent_dir, print_diagnostics


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check the intent and report problems",
                       description="Check intent files: YAML, structure (cerberus) and semantic rules.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--no-color", action="store_true", help="plain text even at a terminal")
    p.add_argument("--list-rules", action="store_true", help="list the semantic rules and exit")
    add_cache_option(p)


def run(args) -> int:
    from .. import validate
    from ..intent.rules import RULES

    if args.list_rules:
        for r in RULES.values():
            print(f"{r.id:28} {r.severity.value:8} {r.summary}")
        return 0
    result = validate(intent_dir(args.directory), cache=cache_of(args))
    print_diagnostics(result.diagnostics, args.format, args.no_color)
    if args.format == "text" and result.ok:
        intent = result.intent
        print(f"valid: {len(intent.sites)} sites, {len(intent.devices)} devices, {len(intent.zones)} zones, "
              f"{len(intent.departments)} departments in {len(intent.files)} files", file=sys.stderr)
    return result.exit_code()
