"""`netgen plan [DIR] [-o plan.json]`: what would change where, against the running configs."""
from __future__ import annotations

import sys

from ._deploy import Progress, add_target_options, console, load_secrets, print_diff
from ._output import intent_dir, nonempty


def add_parser(sub) -> None:
    p = sub.add_parser("plan", help="compare the intent with the running configs; change nothing",
                       description="Connect to every device in scope (in parallel), fetch its running config and "
                                   "record the diff and the exact commands that `netgen apply` would send, with a "
                                   "fingerprint of the running config. Nothing is changed on any device.")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("-o", "--output", metavar="PLAN", type=nonempty("plan file path"),
                   help="write the plan to this file (for `netgen apply`)")
    p.add_argument("--limit", nargs="+", metavar="TERM", type=nonempty("--limit term", 256),
                   help="only these: device names, site ids (with everything below), level:L, province:P, "
                        "role:R, platform:P, site:S")
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 0 when nothing would change, 2 when something would, 1 on errors (drift detection)")
    p.add_argument("--require-approval", action="store_true",
                   help="the plan may be applied only after `netgen approve PLAN --key KEY` by an allowed signer")
    p.add_argument("--accept-new-host-keys", action="store_true",
                   help="trust a device's SSH host key never seen before, and record it in known_hosts "
                        "(a key that contradicts known_hosts is always refused)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--no-color", action="store_true")
    add_target_options(p)


def run(args) -> int:
    from ..deploy.drivers.dialogs import LABELS
    from ..deploy.inventory import Target
    from ..deploy.plan import CHANGE, make_plan
    from ..deploy.secrets import SecretError
    from ..deploy.session import DeployError

    src = intent_dir(args.directory)
    try:
        secrets = load_secrets(args, src)
        plan = make_plan(src, Target(args.lab), args.limit, secrets, args.workers,
                         [Progress("planned")], args.require_approval,
                         host_key_policy="accept-new" if args.accept_new_host_keys else None)
    except (DeployError, SecretError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.output:
        try:
            plan.write(args.output)
        except OSError as exc:  # e.g. a full disk: errno alone does not say which file
            from ._output import os_error_line

            if exc.filename is None:
                exc.filename = args.output
            print(f"error: netgen plan: the plan was not written: {os_error_line(exc)}", file=sys.stderr)
            return 2
    if args.format == "json":
        print(plan.dumps(), end="")
    else:
        con = console(no_color=args.no_color)
        for dp in sorted(plan.devices.values(), key=lambda d: d.name):
            if dp.status == CHANGE:
                safety = f", {LABELS[dp.commit_mode]}" if dp.commit_mode in LABELS else ""
                con.print(f"[bold]{dp.name}[/] ({dp.platform}, {dp.level}{safety}): {len(dp.commands)} command(s)")
                print_diff(con, dp.diff)
                con.print()
        for dp in plan.failed:
            con.print(f"[red]{dp.name}: {dp.status}: {dp.error}[/]")
        n_unch = len(plan.by_status("unchanged"))
        con.print(f"plan ({plan.target}): {len(plan.changes)} to change, {n_unch} unchanged, "
                  f"{len(plan.by_status('unreachable'))} unreachable, {len(plan.by_status('error'))} error(s)"
                  + (f"; written to {args.output}" if args.output else ""))
    if args.detailed_exitcode:
        return plan.exit_code()
    return 1 if plan.failed else 0
