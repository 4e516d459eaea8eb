"""`netgen diff --base REV [--head REV] [DIR]`: per-device config changes between two revisions."""
from __future__ import annotations

import sys

from ._deploy import console, print_diff
from ._output import intent_dir, nonempty


def add_parser(sub) -> None:
    p = sub.add_parser("diff", help="config changes between two git revisions of the intent (offline)",
                       description="Render the intent at two git revisions (and the repository's templates at "
                                   "each, if it has its own) and show which device configs change and how. "
                                   "Touches no device. Exit 0: no change, 2: changes, 1: an error.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("--base", required=True, metavar="REV", type=nonempty("revision", 256),
                   help="the revision to compare from (e.g. origin/main)")
    p.add_argument("--head", metavar="REV", type=nonempty("revision", 256),
                   help="the revision to compare to (default: the working tree)")
    p.add_argument("--platform", help="render every device for this platform (e.g. frr, frr_mpls)")
    p.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="markdown: for a pull-request comment")
    p.add_argument("--no-color", action="store_true")


def run(args) -> int:
    from ..deploy.revisions import diff_revisions, markdown
    from ..deploy.session import DeployError

    try:
        d = diff_revisions(intent_dir(args.directory), args.base, args.head, args.platform)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.format == "markdown":
        print(markdown(d), end="")
        return d.exit_code()
    con = console(no_color=args.no_color)
    for x in d.devices:
        con.print(f"[bold]{x.name}[/] ({x.status})")
        print_diff(con, x.diff)
        con.print()
    con.print(f"{d.base} → {d.head}: {len(d.devices)} device config(s) change"
              + (f" ({', '.join(x.name for x in d.devices[:10])}{' …' if len(d.devices) > 10 else ''})"
                 if d.devices else ""))
    return d.exit_code()
