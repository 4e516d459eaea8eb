"""`netgen approve PLAN --key KEY`: sign a plan with an SSH key (see netgen/deploy/approval.py)."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser("approve", help="approve a plan by signing it with your SSH key",
                       description="Approve a plan (DOMAIN §1: access is approved before deployment) with an SSH "
                                   "signature (`ssh-keygen -Y sign -n netgen-plan`) over the plan's content. Apply "
                                   "verifies it against the allowed_signers file of the machine that applies "
                                   "($NETGEN_ALLOWED_SIGNERS, else ~/.config/netgen/allowed_signers); the approver "
                                   "is the principal that file names for the key. An edited plan is not approved.")
    p.add_argument("plan", help="the plan file")
    p.add_argument("--key", required=True, metavar="KEY",
                   help="your SSH private key (or its .pub, with the key in ssh-agent), e.g. ~/.ssh/id_ed25519")
    p.add_argument("--comment", default="", help="e.g. the change ticket (signed with the plan)")


def run(args) -> int:
    from ..deploy.approval import allowed_signers_path, sign
    from ..deploy.plan import PlanFileError
    from ..deploy.session import DeployError

    if "\n" in args.comment or "\r" in args.comment or len(args.comment) > 500:
        print("error: --comment must be one line of at most 500 characters", file=sys.stderr)
        return 2
    try:
        plan, who = sign(args.plan, args.key, args.comment)
    except PlanFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    as_whom = f" as {who}" if who else f" (the key is not in {allowed_signers_path()} here: apply verifies it " \
                                       "against the applying machine's allowed_signers)"
    print(f"{args.plan}: signed{as_whom} (plan {plan.sha256[:12]}, {len(plan.changes)} device(s) to change)")
    return 0
