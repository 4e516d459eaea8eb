"""`netgen approve PLAN --by NAME`: record a named approval in a plan file."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser("approve", help="record a named approval in a plan",
                       description="Approve a plan (DOMAIN §1: access is approved before deployment). The "
                                   "approval binds to the plan's content hash: an edited plan is not approved.")
    p.add_argument("plan", help="the plan file")
    p.add_argument("--by", required=True, help="who approves (name, or office and name)")
    p.add_argument("--comment", default="", help="e.g. the change ticket")


def run(args) -> int:
    from ..deploy.apply import approve
    from ..deploy.session import DeployError

    try:
        plan = approve(args.plan, args.by, args.comment)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.plan}: approved by {args.by} (plan {plan.sha256[:12]}, {len(plan.changes)} device(s) to change)")
    return 0
