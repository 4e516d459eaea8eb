"""`netgen verify [DIR]`: check the running network against the intent."""
from __future__ import annotations

import json
import sys

from ._deploy import add_target_options, console, load_secrets
from ._output import bounded_seconds, intent_dir, nonempty

LAB_SETTLE = 180.0  # seconds: a lab right after `apply` (LAB-NOTES: 20-35 s to converge, more under TCG)


def add_parser(sub) -> None:
    p = sub.add_parser("verify", help="check the running network against the intent",
                       description="Through napalm getters: every BGP session the model expects is established; on "
                                   "the MPLS design every LDP session is up and each zone's PEs have labelled VPN "
                                   "routes to each other's LANs; no zone has a route into the management block, "
                                   "only the Internet zone has a default route. In a lab (--lab), also pings from "
                                   "the department hosts: within each zone everything reaches, across zones nothing "
                                   "leaks, the Internet only through an exit's NAT firewall. What fails is re-checked "
                                   "until it passes or --settle runs out. Exit 1 on any violation.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("--limit", nargs="+", metavar="TERM", type=nonempty("--limit term", 256),
                   help="only these devices / sites / groups (as in plan)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--all", action="store_true", help="list passed checks too, not only violations")
    p.add_argument("--no-probes", action="store_true", help="lab: skip the pings, check getters only")
    p.add_argument("--settle", metavar="SECONDS", type=bounded_seconds(0, 3600),
                   help=f"re-check what fails until it passes or this many seconds have passed (default: "
                        f"{LAB_SETTLE:.0f} with --lab, 0 otherwise: a production check never waits unasked)")
    p.add_argument("--no-color", action="store_true")
    add_target_options(p)


def run(args) -> int:
    from ..deploy.inventory import Target
    from ..deploy.secrets import SecretError
    from ..deploy.session import DeployError
    from ..verify import verify

    src = intent_dir(args.directory)
    settle = args.settle if args.settle is not None else LAB_SETTLE if args.lab else 0.0
    progress = (lambda msg: print(f"verify: {msg}", file=sys.stderr)) if sys.stderr.isatty() else None
    try:
        report = verify(src, Target(args.lab), args.limit, load_secrets(args, src), args.workers,
                        probes=not args.no_probes, settle=settle, progress=progress)
    except (DeployError, SecretError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({"target": report.target, "ok": report.ok, "waited_seconds": round(report.waited_seconds, 1),
                          "settled": report.settled, "findings": [f.as_dict() for f in report.findings],
                          "not_probed": report.not_probed}, ensure_ascii=False, indent=1))
        return 0 if report.ok else 1
    from rich.table import Table
    from rich.markup import escape

    con = console(no_color=args.no_color)
    shown = report.findings if args.all else report.violations
    if shown:
        t = Table(title=f"verify ({report.target})")
        for col in ("check", "subject", "zones", "result"):
            t.add_column(col)
        for f in shown:
            t.add_row(f.check, escape(f.subject), escape(f.zones), f"[{'green' if f.ok else 'red'}]{escape(f.detail)}[/]")
        con.print(t)
    for note in report.not_probed:
        con.print(f"[dim]not probed: {escape(note)}[/]")
    counts: dict[str, list[int]] = {}
    for f in report.findings:
        c = counts.setdefault(f.check, [0, 0])
        c[0 if f.ok else 1] += 1
    summary = ", ".join(f"{k} {v[0]}/{v[0] + v[1]}" for k, v in sorted(counts.items()))
    waited = round(report.waited_seconds)
    if report.ok and waited:
        con.print(f"settled after {waited} s")
    elif not report.ok and settle:
        con.print(f"still failing after {waited} s: {len(report.violations)} check(s) did not pass "
                  f"within --settle {settle:g}")
    con.print(f"{'OK' if report.ok else 'FAILED'}: {len(report.violations)} violation(s) — {summary}")
    return 0 if report.ok else 1
