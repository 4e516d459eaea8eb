"""`netgen lab up|status|down`: the intent's network on real FRR routers, in namespaces."""
from __future__ import annotations

import sys

from ._output import bounded_seconds, intent_dir, print_diagnostics


def add_parser(sub) -> None:
    p = sub.add_parser("lab", help="emulate the network on FRR routers in network namespaces",
                       description="Build, inspect or remove the lab: one FRR router per device (whatever its "
                                   "production platform), veth links per zone, a host per department LAN, "
                                   "sshd in every router. Routers start with a minimal config: deploy with "
                                   "`netgen plan --lab` / `netgen apply`.")
    lsub = p.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    up = lsub.add_parser("up", help="create or update the lab (idempotent)")
    up.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    up.add_argument("--scope", nargs="+", metavar="SITE", help="only these sites and everything below them")
    up.add_argument("--wait", type=bounded_seconds(1, 3600),
                    default=120.0, help="seconds to wait for every router's SSH (default 120)")
    up.add_argument("--design", choices=("mpls", "lite"), default="mpls",
                    help="mpls (default): the production design (IS-IS + LDP, MP-BGP VPNv4, kernel VRFs, "
                         "802.1q LANs; platform frr_mpls); lite: the quick VRF-lite stand-in (platform frr)")
    up.add_argument("--where", choices=("auto", "host", "guest"), default="auto",
                    help="mpls design: on this host if its kernel has MPLS and VRF devices (auto), else in a "
                         "QEMU guest booting Debian's kernel")
    for name, help_ in (("status", "routers, daemons and BGP sessions"), ("down", "remove everything the lab made")):
        lsub.add_parser(name, help=help_)
    for sp in lsub.choices.values():
        sp.add_argument("--name", default="lab", help="lab name (default: lab); several labs can coexist")


def run(args) -> int:
    from ..lab import LabError, down, status, up

    try:
        if args.lab_command == "up":
            return _up(args, up)
        if args.lab_command == "down":
            removed = down(args.name)
            print(f"lab {args.name}: removed {len(removed)} item(s)" if removed else f"lab {args.name}: nothing to remove")
            return 0
        return _status(args, status)
    except LabError as exc:
        print(f"error: lab {args.name}: {exc}", file=sys.stderr)
        return 1


def _up(args, up) -> int:
    from pathlib import Path

    from ..model import resolve

    src = Path(intent_dir(args.directory))
    res = resolve(src)
    if not res.ok:
        print_diagnostics(res.diagnostics)
        return res.exit_code()
    say = (lambda msg: print(f"  {msg}", file=sys.stderr)) if sys.stderr.isatty() else None
    r = up(res.network, args.name, args.scope, str(src.resolve()), progress=say, wait=args.wait,
           design=args.design, where=args.where)
    print(f"lab {args.name} ({args.design}): {len(r.added) + len(r.kept)} router(s) up — {len(r.added)} started, "
          f"{len(r.kept)} already running, {len(r.removed)} removed ({r.seconds:.1f} s)")
    return 0


def _status(args, status) -> int:
    state, routers = status(args.name)
    if state is None:
        print(f"lab {args.name}: not running")
        return 1
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"lab {args.name}: {state.design} design on the {state.where} ({state.intent or '?'})")
    for col in ("router", "daemons", "BGP sessions"):
        t.add_column(col)
    bad = 0
    for r in routers:
        down_ = [d for d, ok in r.daemons.items() if not ok]
        bad += bool(down_)
        est = sum(1 for s in r.bgp.values() if s == "Established")
        t.add_row(r.name, "all running" if not down_ else f"[red]down: {', '.join(down_)}[/]",
                  f"{est}/{len(r.bgp)} established")
    Console().print(t)
    return 1 if bad else 0
