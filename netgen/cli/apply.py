"""`netgen apply PLAN`: push a plan in waves, with commit-confirm, health checks and rollback."""
from __future__ import annotations

import sys

from ._deploy import Progress, console, load_secrets
from ._output import MAX_JOBS, bounded_int, bounded_seconds, nonempty


def add_parser(sub) -> None:
    p = sub.add_parser("apply", help="apply a plan made by `netgen plan -o`",
                       description="Refuse a stale plan (intent, templates or any running config changed since it "
                                   "was made) or an unapproved one; then push in waves — a canary first, then the "
                                   "hierarchy level by level — with commit-confirm where the driver has it, a "
                                   "health check (management reachable, BGP sessions back) and rollback of a device "
                                   "that fails it. One audit line per device.")
    p.add_argument("plan", type=nonempty("plan file path"), help="the plan file")
    p.add_argument("directory", nargs="?",
                   help="the intent directory the plan was made from (default: ./inventory); the plan's own "
                        "record of it is not used")
    p.add_argument("--lab", metavar="NAME", nargs="?", const="lab",
                   help="apply to the routers of this lab (must be the plan's target); default: production")
    p.add_argument("--require-approval", action="store_true",
                   help="refuse the plan unless a signature by an allowed signer approves it, whatever the plan "
                        "says (also $NETGEN_REQUIRE_APPROVAL=production|all)")
    p.add_argument("--accept-new-host-keys", action="store_true",
                   help="trust a device's SSH host key never seen before, and record it in known_hosts "
                        "(a key that contradicts known_hosts is always refused)")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--canary", type=bounded_int(0, 1000),
                   default=1, help="devices in the first wave (default 1; 0: none)")
    p.add_argument("--order", choices=("edge-first", "core-first"), default="edge-first",
                   help="level order of the waves after the canary (default edge-first: township → centre)")
    p.add_argument("--wave-size", type=bounded_int(1, 100_000),
                   help="at most N devices per wave (default: a whole level)")
    p.add_argument("--max-failures", type=bounded_int(1, 100_000), default=1,
                   help="start no further wave once this many devices failed (default 1)")
    p.add_argument("--commit-timeout", type=bounded_int(30, 3600), default=300,
                   help="seconds before an unconfirmed change reverts by itself (default 300)")
    p.add_argument("--health-timeout", type=bounded_seconds(1, 3600), default=60.0,
                   help="seconds for BGP sessions to come back after a change (default 60)")
    p.add_argument("--audit-log", metavar="FILE", type=nonempty("audit log path"),
                   help="JSON-lines audit log (default: $NETGEN_AUDIT_LOG, else netgen-audit.jsonl beside the plan)")
    p.add_argument("--secrets", metavar="FILE", type=nonempty("secrets file path"),
                   help="secrets file outside the repository (default: $NETGEN_SECRETS)")
    p.add_argument("--workers", type=bounded_int(1, MAX_JOBS), default=20,
                   help="devices changed in parallel within a wave (default 20)")
    p.add_argument("--no-color", action="store_true")


def run(args) -> int:
    from ..deploy.apply import Options, apply_plan
    from ..deploy.inventory import Target
    from ..deploy.plan import PlanFileError
    from ._output import intent_dir
    from ..deploy.audit import AuditLog, default_path
    from ..deploy.secrets import SecretError
    from ..deploy.session import DeployError

    if args.health_timeout >= args.commit_timeout:  # the device would revert while still being checked
        print(f"error: --health-timeout ({args.health_timeout:g} s) must be shorter than --commit-timeout "
              f"({args.commit_timeout} s)", file=sys.stderr)
        return 2
    con = console(no_color=args.no_color)
    intent = intent_dir(args.directory)
    try:
        secrets = load_secrets(args, intent)
        opts = Options(args.canary, args.order, args.wave_size, args.max_failures, args.workers,
                       args.commit_timeout, args.health_timeout,
                       host_key_policy="accept-new" if args.accept_new_host_keys else None,
                       require_approval=args.require_approval)
        audit = AuditLog(args.audit_log or default_path(args.plan))
        say = (lambda msg: print(f"  {msg}", file=sys.stderr)) if sys.stderr.isatty() else None
        result = apply_plan(args.plan, secrets, opts, confirm=None if args.yes else _ask, audit=audit,
                            processors=[Progress("applied")], progress=say, intent_dir=intent,
                            target=Target(args.lab))
    except PlanFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (DeployError, SecretError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not result.outcomes:
        con.print("nothing to apply: the plan changes no device")
        return 0
    _table(con, result)
    con.print(f"audit log: {audit.path}")
    return 0 if result.ok else 1


def _ask(plan, waves) -> bool:
    print(f"plan {plan.sha256[:12]} ({plan.target}, made {plan.created} by {plan.created_by}): "
          f"{len(plan.changes)} device(s) to change in {len(waves)} wave(s):")
    for w in waves:
        print(f"  {w.name}: {', '.join(w.devices[:8])}{' …' if len(w.devices) > 8 else ''}")
    if not sys.stdin.isatty():
        print("not applied: no terminal to confirm at; pass --yes to apply without asking", file=sys.stderr)
        return False
    return input("apply? [y/N] ").strip().lower() in ("y", "yes")


def _table(con, result) -> None:
    from rich.table import Table

    colour = {"changed": "green", "rolled-back": "yellow", "failed": "red", "rollback-failed": "bold red",
              "not-started": "dim"}
    t = Table(title=f"apply {result.plan_sha256[:12]}")
    for col in ("device", "wave", "result", "detail", "s"):
        t.add_column(col)
    for o in result.outcomes:
        t.add_row(o.device, o.wave, f"[{colour.get(o.status, '')}]{o.status}[/]", o.detail, f"{o.seconds:.1f}")
    con.print(t)
    counts = {s: len(result.by_status(s)) for s in colour}
    con.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) + (f" — {result.stopped}" if result.stopped else ""))
