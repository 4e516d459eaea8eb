"""`plan`: what would change on which device, computed against the running configs.

For every device in scope, in parallel: fetch the running config, load the rendered candidate
(secrets filled in), ask the driver for the diff and the exact commands, and record them with a
fingerprint of the running config they were computed from. Nothing is changed on any device.
The plan file records no secret and no config — apply re-renders the candidates from the same
intent (it refuses if the intent or templates changed) and checks their hashes.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nornir.core.task import Result, Task

from .drivers.base import PlanningDriver
from .inventory import Target, commit_mode, select
from .secrets import SecretError, Secrets
from .session import DeployError, Workspace, connection, describe, make_nornir, operator, sha256

FORMAT = "netgen-plan/1"
MAX_BYTES = 256 << 20   # a plan of every device of the network with full diffs stays far below
CHANGE, UNCHANGED, UNREACHABLE, ERROR = "change", "unchanged", "unreachable", "error"


class PlanFileError(DeployError):
    """The plan file itself cannot be used (missing, malformed, edited): exit 2."""


@dataclass
class DevicePlan:
    name: str
    site: str
    level: str
    role: str
    platform: str  # the platform the candidate is rendered for
    status: str = ERROR
    running_sha256: str | None = None
    candidate_sha256: str = ""
    diff: str = ""
    commands: list[str] = field(default_factory=list)
    error: str | None = None
    commit_mode: str = ""   # two-stage | commit-delay | netgen-held ("" : the driver's own, FRR)


@dataclass
class Plan:
    intent: str
    intent_sha256: str
    templates_sha256: str
    target: str
    created: str = ""
    created_by: str = ""
    limit: list[str] = field(default_factory=list)
    require_approval: bool = False
    devices: dict[str, DevicePlan] = field(default_factory=dict)
    approvals: list[dict] = field(default_factory=list)
    format: str = FORMAT

    # ------------------------------------------------------------------ reading and writing

    def body(self) -> dict:
        d = asdict(self)
        d.pop("approvals")
        for device in d["devices"].values():   # absent when unknown: plans made before keep their hash
            if not device["commit_mode"]:
                device.pop("commit_mode")
        return d

    @property
    def sha256(self) -> str:
        """Identifies the plan's content; approvals bind to it."""
        return sha256(json.dumps(self.body(), sort_keys=True, ensure_ascii=False))

    def dumps(self) -> str:
        d = self.body()
        d["plan_sha256"] = self.sha256
        d["approvals"] = self.approvals
        return json.dumps(d, indent=1, ensure_ascii=False) + "\n"

    def write(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.dumps(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def read(cls, path: str | Path) -> "Plan":
        """The plan at `path`, checked field by field: a plan file is data, never trusted for
        more than its declared types (PlanFileError, exit 2, otherwise)."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise PlanFileError(f"{path}: the plan file is larger than {MAX_BYTES >> 20} MiB; not a netgen plan")
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise PlanFileError(f"{path}: no such plan file (make one with `netgen plan -o {path}`)") from None
        except RecursionError:
            raise PlanFileError(f"{path}: malformed plan (nested too deeply)") from None
        except UnicodeDecodeError:
            raise PlanFileError(f"{path}: not a plan file (not UTF-8 text)") from None
        except ValueError as exc:
            raise PlanFileError(f"{path}: not a plan file (not JSON: {str(exc)[:80]})") from None
        except OSError as exc:
            raise PlanFileError(f"{path}: cannot read the plan ({exc.strerror or type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise PlanFileError(f"{path}: not a {FORMAT} plan file")
        problem = _shape_problem(data)
        if problem:
            raise PlanFileError(f"{path}: malformed plan: {problem}; make a new plan")
        devices = {k: DevicePlan(**v) for k, v in data.pop("devices").items()}
        recorded = data.pop("plan_sha256")
        plan = cls(devices=devices, **data)
        if plan.sha256 != recorded:
            raise PlanFileError(f"{path}: the plan was edited after it was made (its hash does not match); "
                                "make a new plan")
        return plan

    # ------------------------------------------------------------------ summary

    def by_status(self, status: str) -> list[DevicePlan]:
        return [d for d in self.devices.values() if d.status == status]

    @property
    def changes(self) -> list[DevicePlan]:
        return self.by_status(CHANGE)

    @property
    def failed(self) -> list[DevicePlan]:
        return self.by_status(UNREACHABLE) + self.by_status(ERROR)

    def exit_code(self) -> int:
        """--detailed-exitcode: 0 nothing to change, 2 changes, 1 errors."""
        return 1 if self.failed else 2 if self.changes else 0


# ------------------------------------------------------------------ the shape of a plan file

_S, _OS, _B = (str,), (str, type(None)), (bool,)
PLAN_FIELDS = {"intent": _S, "intent_sha256": _S, "templates_sha256": _S, "target": _S, "created": _S,
               "created_by": _S, "limit": (list,), "require_approval": _B, "devices": (dict,), "approvals": (list,),
               "format": _S, "plan_sha256": _S}
DEVICE_FIELDS = {"name": _S, "site": _S, "level": _S, "role": _S, "platform": _S, "status": _S,
                 "running_sha256": _OS, "candidate_sha256": _S, "diff": _S, "commands": (list,), "error": _OS,
                 "commit_mode": _S}
OPTIONAL = {"created", "created_by", "limit", "require_approval", "approvals", "status", "running_sha256",
            "candidate_sha256", "diff", "commands", "error", "commit_mode"}


def _fields_problem(obj: dict, spec: dict, where: str) -> str:
    unknown = sorted(set(obj) - set(spec))
    if unknown:
        return f"{where}: unknown field `{str(unknown[0])[:40]}`"
    for key, types in spec.items():
        if key not in obj:
            if key not in OPTIONAL:
                return f"{where}: missing `{key}`"
        elif not isinstance(obj[key], types) or (bool in types) != isinstance(obj[key], bool):
            return f"{where}: `{key}` has the wrong type ({type(obj[key]).__name__})"
    return ""


def _shape_problem(data: dict) -> str:
    """What is wrong with a plan file's structure ("" when nothing): exact fields and types."""
    problem = _fields_problem(data, PLAN_FIELDS, "plan")
    if problem:
        return problem
    if not all(isinstance(t, str) for t in data.get("limit", [])):
        return "plan: `limit` must be a list of strings"
    if not all(isinstance(a, dict) for a in data.get("approvals", [])):
        return "plan: `approvals` must be a list of objects"
    for name, dev in data["devices"].items():
        where = f"device `{name[:60]}`"
        if not isinstance(dev, dict):
            return f"{where}: not an object"
        problem = _fields_problem(dev, DEVICE_FIELDS, where)
        if problem:
            return problem
        if dev.get("name") != name:
            return f"{where}: its `name` differs from its key"
        if dev.get("status", ERROR) not in (CHANGE, UNCHANGED, UNREACHABLE, ERROR):
            return f"{where}: unknown status"
        if not all(isinstance(c, str) for c in dev.get("commands", [])):
            return f"{where}: `commands` must be a list of strings"
    return ""


def make_plan(intent_dir: str | Path, target: Target = Target(), limit: list[str] | None = None,
              secrets: Secrets | None = None, workers: int = 20, processors: list | None = None,
              require_approval: bool = False, transform=None, host_key_policy: str | None = None) -> Plan:
    ws = Workspace.load(intent_dir)
    secrets = secrets if secrets is not None else Secrets.load(intent_dir=intent_dir)  # $NETGEN_SECRETS
    try:
        devices = select(ws.network, limit)
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    if target.lab:
        from ..lab.state import LabState

        state = LabState.load(target.lab)
        if state is None:
            raise DeployError(f"lab `{target.lab}` is not running: `netgen lab up --name {target.lab}` first")
        if not limit and state.scope:  # a lab built with --scope: plan what that scope holds
            from ..lab.topology import in_scope

            wanted = in_scope(ws.network, [s for s in state.scope if s in ws.network.sites])
            devices = [d for d in devices if d in wanted]
        missing = [d for d in devices if d not in state.routers]
        if missing:
            raise DeployError(f"{len(missing)} device(s) are not in lab `{target.lab}` ({', '.join(missing[:5])}"
                              f"{' …' if len(missing) > 5 else ''}): run `netgen lab up` on this intent, or --limit")
        if not devices:
            raise DeployError(f"lab `{target.lab}` has none of this intent's devices: `netgen lab up` on it first")
    plan = Plan(str(ws.intent_dir.resolve()), ws.intent_sha256, ws.templates_sha256(ws.platforms(target, devices)),
                target.label, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), operator(),
                list(limit or []), require_approval)
    candidates = {}
    for name in devices:
        d = ws.network.devices[name]
        candidates[name] = ws.candidate(name, target)
        plan.devices[name] = DevicePlan(name, d.site, d.level, d.role, target.platform or d.platform,
                                        candidate_sha256=sha256(candidates[name]),
                                        commit_mode=commit_mode(d, target.platform or d.platform))
    nr = make_nornir(ws.network, target, secrets, devices, workers, processors, transform, host_key_policy)
    with nr:
        results = nr.run(_plan_device, name="plan", candidates=candidates, secrets=secrets, on_failed=True)
    for name, multi in results.items():
        r = multi[0]
        dp = plan.devices[name]
        if r.failed:
            dp.status, dp.error = _classify(r.exception, secrets)
        else:
            dp.status = CHANGE if r.result["commands"] else UNCHANGED
            dp.running_sha256, dp.diff, dp.commands = r.result["running_sha256"], r.result["diff"], r.result["commands"]
    return plan


def running_config(driver) -> str:
    return driver.get_config(retrieve="running")["running"]


def _plan_device(task: Task, candidates: dict[str, str], secrets: Secrets) -> Result:
    name = task.host.name
    try:
        text = secrets.fill(candidates[name])
    except SecretError as exc:
        raise DeployError(str(exc)) from None
    drv = connection(task)
    running = running_config(drv)
    drv.load_replace_candidate(config=text)
    try:
        diff = drv.compare_config() or ""
        if isinstance(drv, PlanningDriver):
            commands = list(drv.candidate_commands())
        else:  # a third-party driver: its diff is all we know
            commands = [line for line in diff.splitlines() if line.strip()]
    finally:
        drv.discard_config()
    return Result(task.host, result={"running_sha256": sha256(running), "diff": secrets.mask(diff),
                                     "commands": [secrets.mask(c) for c in commands]})


def _classify(exc: BaseException | None, secrets: Secrets) -> tuple[str, str]:
    from napalm.base.exceptions import ConnectionException

    if exc is None:
        return ERROR, "failed"
    if isinstance(exc, (ConnectionException, ConnectionError, TimeoutError, OSError)):
        return UNREACHABLE, describe(exc, secrets)
    return ERROR, describe(exc, secrets)
