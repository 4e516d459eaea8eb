"""`apply`: push a plan, safely.

1. Refuse a plan that is stale — the intent, the templates or any device's running config
   changed since it was made — or that lacks a required approval. Nothing is touched then.
2. Push in waves (waves.py). Per device: load the candidate, check the commands are still the
   planned ones, commit with commit-confirm where the driver has it, health-check (health.py),
   then confirm — or roll back. Every device ends either fully changed or rolled back, and the
   result says which.
3. Record one audit line per device (audit.py, hash-chained).

The plan is data: the target, the intent directory and the approvers' identities come from the
machine that applies (its --lab, its intent directory, its allowed_signers), never from the
plan. Each device to change is locked (locks.py) from the preflight to the end.

Progress and hooks go through nornir processors: each device's steps run as subtasks named
`load`, `commit`, `health-check`, `confirm` and `rollback`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from nornir.core.task import Result, Task

from .audit import AuditLog, default_path
from .drivers.base import PlanningDriver, RollbackIncomplete
from .health import check, snapshot
from .inventory import Target
from .locks import DeviceLocks, lock_dir
from .plan import CHANGE, UNCHANGED, Plan, running_config
from .secrets import Secrets
from .session import DeployError, Workspace, connection, describe, make_nornir, operator, sha256
from .waves import Wave, plan_waves

CHANGED, FAILED, ROLLED_BACK, ROLLBACK_FAILED, NOT_STARTED = (
    "changed", "failed", "rolled-back", "rollback-failed", "not-started")


@dataclass
class Outcome:
    device: str
    wave: str
    status: str  # changed | failed (untouched) | rolled-back | rollback-failed | not-started
    detail: str = ""
    seconds: float = 0.0


@dataclass
class ApplyResult:
    plan_sha256: str
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: str = ""  # why apply stopped before the last wave

    @property
    def ok(self) -> bool:
        return all(o.status == CHANGED for o in self.outcomes) and not self.stopped

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]


@dataclass
class Options:
    canary: int = 1
    order: str = "edge-first"
    wave_size: int | None = None
    max_failures: int = 1
    workers: int = 20
    commit_timeout: int = 300  # seconds a change stays unconfirmed before the device reverts it
    health_timeout: float = 60.0
    transform: object = None  # nornir inventory transform, see session.make_nornir
    host_key_policy: str | None = None  # None: strict; "accept-new": trust on first use (hostkeys.py)
    require_approval: bool = False      # this machine demands an approval whatever the plan says


# ------------------------------------------------------------------ refusing a plan


def check_approval(plan: Plan, target: Target, required: bool = False, signers: Path | None = None) -> list[str]:
    """The verified approvers (approval.py); DeployError if an approval does not verify, or if
    none does where the plan or this machine requires one."""
    from .approval import allowed_signers_path, required_locally, verified_approvers

    who = verified_approvers(plan, signers)
    if not who and (plan.require_approval or required_locally(target.label, required)):
        raise DeployError("this plan requires an approval before it may be applied: `netgen approve PLAN --key "
                          f"~/.ssh/id_ed25519` by a key in {signers or allowed_signers_path()} "
                          "(DOMAIN §1: access is approved before deployment)")
    return who


def check_target(plan: Plan, target: Target) -> None:
    """The plan names where it was made for; apply goes only where *this* machine's settings say."""
    if plan.target != target.label:
        hint = f"--lab {plan.target[4:]}" if plan.target.startswith("lab:") else "no --lab"
        raise DeployError(f"the plan is for `{plan.target[:80]}` but this apply targets `{target.label}`: nothing "
                          f"was changed (apply it with {hint} if that is meant, or make a new plan)")


def check_fresh(plan: Plan, intent_dir: str | Path, target: Target) -> tuple[Workspace, dict[str, str]]:
    """The workspace (this machine's intent directory, never a path from the plan) and the
    candidates of the devices to change — or DeployError saying why the plan is stale. Touches
    no device."""
    check_target(plan, target)
    try:
        ws = Workspace.load(intent_dir)
    except DeployError as exc:
        raise DeployError(f"stale plan: {exc}") from None
    if ws.intent_sha256 != plan.intent_sha256:
        raise DeployError(f"stale plan: the intent in {intent_dir} is not the one the plan was made from; "
                          "make a new plan (or pass the intent directory it was made from)")
    names = list(plan.devices)
    missing = [n for n in names if n not in ws.network.devices]
    if missing:
        raise DeployError(f"stale plan: device(s) {', '.join(missing[:10])} are no longer in the intent")
    if ws.templates_sha256(ws.platforms(target, names)) != plan.templates_sha256:
        raise DeployError("stale plan: the templates changed since the plan was made; make a new plan")
    candidates = {}
    for dp in plan.changes:
        text = ws.candidate(dp.name, target)
        if sha256(text) != dp.candidate_sha256:
            raise DeployError(f"stale plan: {dp.name}'s rendered config differs from the plan's; make a new plan")
        candidates[dp.name] = text
    return ws, candidates


def _fingerprint(task: Task) -> Result:
    return Result(task.host, result=sha256(running_config(connection(task))))


def check_running(plan: Plan, ws: Workspace, secrets: Secrets, target: Target, options: "Options") -> None:
    """Every planned device's running config must be the one the plan was computed from."""
    names = [n for n, d in plan.devices.items() if d.status in (CHANGE, UNCHANGED)]
    if not names:
        return
    nr = make_nornir(ws.network, target, secrets, names, options.workers, transform=options.transform,
                     host_key_policy=options.host_key_policy)
    with nr:
        results = nr.run(_fingerprint, name="preflight", on_failed=True)
    problems = []
    for name, multi in sorted(results.items()):
        r = multi[0]
        if r.failed:
            problems.append(f"{name}: unreachable ({describe(r.exception, secrets)})")
        elif r.result != plan.devices[name].running_sha256:
            problems.append(f"{name}: running config changed since the plan was made")
    if problems:
        raise DeployError("stale plan, nothing was changed:\n  " + "\n  ".join(problems) + "\nmake a new plan")


# ------------------------------------------------------------------ applying


def apply_plan(plan_path: str | Path, secrets: Secrets | None = None, options: Options = Options(),
               confirm=None, audit: AuditLog | None = None, processors: list | None = None,
               progress=None, *, intent_dir: str | Path | None = None, target: Target | None = None,
               lock_directory: str | Path | None = None) -> ApplyResult:
    """Apply the plan at `plan_path` to `target` (this machine's: production unless a lab is
    named), rendering from `intent_dir` (this machine's intent directory). Nothing in the plan
    chooses a path, a target or a program: the plan is checked against them. `confirm(plan,
    waves) -> bool` is asked before anything is pushed (None: go ahead — the CLI asks unless
    --yes). Raises DeployError when the plan is refused; per-device failures are outcomes,
    never exceptions."""
    say = progress or (lambda msg: None)
    if intent_dir is None:
        raise DeployError("apply needs this machine's intent directory (the plan's recorded path is not used)")
    target = target or Target()
    plan = Plan.read(plan_path)
    check_target(plan, target)
    approvers = check_approval(plan, target, options.require_approval)
    secrets = secrets if secrets is not None else Secrets.load(intent_dir=intent_dir)  # $NETGEN_SECRETS
    result = ApplyResult(plan.sha256)
    ws, candidates = check_fresh(plan, intent_dir, target)
    if lock_directory is None:
        lock_directory = lock_dir(audit.path if audit is not None else default_path(plan_path))
    with DeviceLocks(lock_directory, [d.name for d in plan.changes], plan.sha256):
        say(f"checking the running config of {len(plan.devices)} device(s)")
        check_running(plan, ws, secrets, target, options)
        return _push(plan, ws, target, candidates, secrets, options, confirm, audit, processors, say, result,
                     approvers)


def _push(plan: Plan, ws: Workspace, target: Target, candidates: dict[str, str], secrets: Secrets,
          options: Options, confirm, audit, processors, say, result: ApplyResult, approvers: list[str]) -> ApplyResult:
    if not plan.changes:
        return result
    try:
        waves = plan_waves({d.name: d.level for d in plan.changes}, options.canary, options.order, options.wave_size)
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    if confirm is not None and not confirm(plan, waves):
        raise DeployError("not applied: declined at the confirmation prompt")
    who = operator()
    failures = 0
    for i, wave in enumerate(waves):
        if failures >= options.max_failures:
            result.stopped = f"stopped after {failures} failure(s) (--max-failures {options.max_failures})"
            for w in waves[i:]:
                for name in w.devices:
                    result.outcomes.append(Outcome(name, w.name, NOT_STARTED, "not started: apply stopped"))
            break
        say(f"wave {i + 1}/{len(waves)} ({wave.name}): {len(wave.devices)} device(s)")
        outcomes = _run_wave(wave, plan, ws, target, candidates, secrets, options, processors)
        for o in outcomes:
            result.outcomes.append(o)
            failures += o.status != CHANGED
            if audit is not None:
                dp = plan.devices[o.device]
                audit.append(user=who, device=o.device, plan_sha256=plan.sha256, target=plan.target,
                             wave=o.wave, result=o.status, detail=secrets.mask(o.detail),
                             commands=len(dp.commands), approved_by=", ".join(approvers) or None)
    if failures and not result.stopped:
        result.stopped = f"{failures} device(s) failed"
    return result


def _run_wave(wave: Wave, plan: Plan, ws: Workspace, target: Target, candidates: dict[str, str],
              secrets: Secrets, options: Options, processors) -> list[Outcome]:
    nr = make_nornir(ws.network, target, secrets, list(wave.devices), options.workers, processors, options.transform,
                     host_key_policy=options.host_key_policy)
    with nr:
        results = nr.run(_apply_device, name="apply", plan=plan, ws=ws, candidates=candidates, secrets=secrets,
                         options=options, on_failed=True)
    out = []
    for name in wave.devices:
        r = results[name][0]
        if r.failed:  # an exception outside the guarded steps: the device was not changed
            out.append(Outcome(name, wave.name, FAILED, describe(r.exception, secrets)))
        else:
            status, detail, seconds = r.result
            out.append(Outcome(name, wave.name, status, secrets.mask(detail), seconds))
    return out


def _step(task: Task, fn) -> Result:
    """A named step, visible to nornir processors (progress, hooks in tests)."""
    return Result(task.host, result=fn())


def _apply_device(task: Task, plan: Plan, ws: Workspace, candidates: dict[str, str], secrets: Secrets,
                  options: Options) -> Result:
    t0 = time.monotonic()
    name = task.host.name
    dp = plan.devices[name]

    def done(status: str, detail: str = "") -> Result:
        return Result(task.host, result=(status, detail, round(time.monotonic() - t0, 1)))

    drv = connection(task)
    if sha256(running_config(drv)) != dp.running_sha256:
        return done(FAILED, "not changed: its running config changed since the plan was made")
    before = snapshot(drv)
    drv.load_replace_candidate(config=secrets.fill(candidates[name]))
    if isinstance(drv, PlanningDriver):
        commands = [secrets.mask(c) for c in drv.candidate_commands()]
        if commands != dp.commands:
            drv.discard_config()
            return done(FAILED, "not changed: the commands it needs now differ from the plan's; make a new plan")
    confirming = getattr(drv, "native_commit_confirm", None) is not None
    try:
        task.run(_step, name="commit", fn=lambda: drv.commit_config(
            revert_in=options.commit_timeout) if confirming else drv.commit_config())
    except Exception as exc:
        return _roll_back(task, drv, done, f"commit failed: {describe(_cause(exc), secrets)}")
    keep = {s.peer_address for s in ws.network.devices[name].bgp}
    health = task.run(_step, name="health-check",
                      fn=lambda: check(task.host, drv, before, keep, options.health_timeout))[0].result
    if not health.ok:
        return _roll_back(task, drv, done, f"health check failed: {health.reason}")
    if confirming:
        try:
            task.run(_step, name="confirm", fn=drv.confirm_commit)
        except Exception as exc:
            return _roll_back(task, drv, done, f"confirm failed: {describe(_cause(exc), secrets)}")
    return done(CHANGED, f"{len(dp.commands)} command(s)")


def _roll_back(task: Task, drv, done, why: str) -> Result:
    try:
        task.run(_step, name="rollback", fn=drv.rollback)
    except Exception as exc:
        if isinstance(_cause(exc), RollbackIncomplete):
            return done(ROLLED_BACK, f"{why}; rolled back ({_cause(exc)})")
        return done(ROLLBACK_FAILED, f"{why}; ROLLBACK FAILED: {describe(_cause(exc))} — check the device by hand")
    return done(ROLLED_BACK, f"{why}; rolled back to the config it had before")


def _cause(exc: BaseException) -> BaseException:
    """The device's own exception inside nornir's subtask wrapper."""
    from nornir.core.exceptions import NornirSubTaskError

    if isinstance(exc, NornirSubTaskError):
        inner = exc.result[0].exception if len(exc.result) else None
        return inner or exc
    return exc
