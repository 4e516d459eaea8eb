"""Approvals are SSH signatures (`ssh-keygen -Y sign -n netgen-plan`) over the plan's canonical
body and the approval's own time and comment.

Trust model: whoever can edit a plan file can recompute its plain sha256, so the plan alone
proves nothing. An approval is valid only if `ssh-keygen -Y verify` accepts its signature
against the allowed_signers file *of the machine that applies* ($NETGEN_ALLOWED_SIGNERS, else
~/.config/netgen/allowed_signers); the approver's name recorded in the audit log is the
principal that file gives the key — never text from the plan. Whether a plan needs an approval
is decided by the plan (`plan --require-approval`) or by the applying machine
($NETGEN_REQUIRE_APPROVAL=production|all, or `apply --require-approval`), so deleting the flag
from the plan does not remove the requirement where the machine demands it. An approval that
does not verify is always refused, required or not.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from .plan import Plan
from .session import DeployError

NAMESPACE = "netgen-plan"
SIG_HEADER = "-----BEGIN SSH SIGNATURE-----"


def allowed_signers_path() -> Path:
    env = os.environ.get("NETGEN_ALLOWED_SIGNERS")
    return Path(env).expanduser() if env else Path("~/.config/netgen/allowed_signers").expanduser()


def required_locally(target_label: str, flag: bool = False) -> bool:
    """The applying machine's own rule: `--require-approval`, or $NETGEN_REQUIRE_APPROVAL."""
    policy = os.environ.get("NETGEN_REQUIRE_APPROVAL", "").strip().lower()
    return flag or policy in ("all", "1", "yes") or (policy == "production" and target_label == "production")


def message(plan: Plan, at: str, comment: str) -> bytes:
    """What an approval signs: the plan's canonical body, its time and its comment."""
    return json.dumps({"approval": {"at": at, "comment": comment}, "plan": plan.body()},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _ssh_keygen(args: list[str], stdin: bytes | None = None, prompt: bool = False) -> subprocess.CompletedProcess:
    """ssh-keygen with `stdin` as input; `prompt`: the terminal stays attached (a key's passphrase)."""
    exe = shutil.which("ssh-keygen")
    if not exe:
        raise DeployError("ssh-keygen not found: install openssh-client (approvals are SSH signatures)")
    feed = {} if prompt else {"input": stdin or b""}
    try:
        return subprocess.run([exe, *args], capture_output=True, timeout=120, **feed)
    except subprocess.TimeoutExpired:
        raise DeployError("ssh-keygen did not answer in 120 s (a passphrase prompt without a terminal?)") from None


def _signers_file(path: Path) -> Path:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DeployError(f"{path}: no allowed_signers file: list the approvers' public keys there (`PRINCIPAL "
                          "namespaces=\"netgen-plan\" KEYTYPE KEY`), or set NETGEN_ALLOWED_SIGNERS") from None
    except OSError as exc:
        raise DeployError(f"{path}: cannot read the allowed_signers file ({exc.strerror})") from None
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise DeployError(f"{path}: the allowed_signers file is writable by others; `chmod go-w {path}`")
    return path


def sign(plan_path: str | Path, key: str | Path, comment: str = "") -> tuple[Plan, str]:
    """Sign the plan with the SSH key `key` (a private key, or a public key held by ssh-agent)
    and record the approval in the plan file. Returns the plan and who the local
    allowed_signers says signed ("" if it does not list the key)."""
    plan = Plan.read(plan_path)
    key = Path(key).expanduser()
    if not key.is_file():
        raise DeployError(f"{key}: no such key file (pass your SSH key, e.g. --key ~/.ssh/id_ed25519)")
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="netgen-approve-") as tmp:
        msg = Path(tmp) / "plan"
        msg.write_bytes(message(plan, at, comment))
        r = _ssh_keygen(["-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(msg)], prompt=True)
        sig = Path(tmp) / "plan.sig"
        if r.returncode != 0 or not sig.exists():
            raise DeployError(f"{key}: ssh-keygen could not sign ({_first(r.stderr)})")
        signature = sig.read_text(encoding="ascii")
    approval = {"at": at, "comment": comment, "plan_sha256": plan.sha256, "signature": signature}
    plan.approvals.append(approval)
    who = ""
    if allowed_signers_path().exists():
        who = ", ".join(verify_one(plan, approval, allowed_signers_path()))
    plan.write(plan_path)
    return plan, who


def verify_one(plan: Plan, approval: dict, signers: Path) -> list[str]:
    """The principals of `signers` for which the approval's signature verifies ([] if none)."""
    at, comment, signature = (approval.get(k) for k in ("at", "comment", "signature"))
    if not (isinstance(at, str) and isinstance(comment, str) and isinstance(signature, str)
            and signature.startswith(SIG_HEADER) and len(signature) < 16384):
        return []
    with tempfile.TemporaryDirectory(prefix="netgen-verify-") as tmp:
        sig = Path(tmp) / "plan.sig"
        sig.write_text(signature, encoding="ascii", errors="replace")
        found = _ssh_keygen(["-Y", "find-principals", "-s", str(sig), "-f", str(signers), "-n", NAMESPACE])
        if found.returncode != 0:
            return []
        body = message(plan, at, comment)
        out = []
        for principal in found.stdout.decode("utf-8", "replace").splitlines():
            principal = principal.strip()
            if principal and _ssh_keygen(["-Y", "verify", "-f", str(signers), "-I", principal, "-n", NAMESPACE,
                                          "-s", str(sig)], stdin=body).returncode == 0:
                out.append(principal)
        return out


def verified_approvers(plan: Plan, signers: Path | None = None) -> list[str]:
    """Every principal whose approval of this plan verifies; DeployError if any approval in the
    plan does not verify (a forged or stale approval is never silently skipped)."""
    if not plan.approvals:
        return []
    signers = _signers_file(signers or allowed_signers_path())
    who: list[str] = []
    for i, approval in enumerate(plan.approvals, 1):
        principals = verify_one(plan, approval, signers)
        if not principals:
            raise DeployError(f"approval {i} of this plan does not verify against {signers}: not signed by an "
                              "allowed signer, or the plan was changed after it was approved; refused")
        who += [p for p in principals if p not in who]
    return who


def _first(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "no message"
