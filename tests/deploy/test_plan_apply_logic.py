"""Plan and apply logic — staleness, approvals, waves, failures, rollback, audit, secrets — with
napalm's mock driver standing in for the devices. This proves our own bookkeeping only; that
deploy works on real routers is proven against the FRR lab (tests/e2e)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from netgen.deploy.apply import Options, apply_plan
from netgen.deploy.approval import sign
from netgen.deploy.audit import AuditLog
from netgen.deploy.plan import Plan, make_plan
from netgen.deploy.secrets import SecretError, Secrets
from netgen.deploy.session import DeployError, sha256
from netgen.deploy.waves import plan_waves
from netgen.model import resolve

SCOPE = ["jx-nc"]  # jx-nc-pe1, jx-nc-pe2 (city), jx-nc-ncx-pe1 (county), jx-nc-ncx-lt-ce1 (township)
DEVICES = ["jx-nc-ncx-lt-ce1", "jx-nc-ncx-pe1", "jx-nc-pe1", "jx-nc-pe2"]


class MockNet:
    """One directory of napalm mock-driver files per device."""

    def __init__(self, root: Path, network):
        self.root, self.network = root, network

    def dev(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def put(self, name: str, method: str, data, n: int = 1) -> None:
        (self.dev(name) / f"{method}.{n}").write_text(json.dumps(data), encoding="utf-8")

    def device(self, name: str, running: str = "", diff: str = "", bgp_before=True, bgp_after=True,
               commit_error: str | None = None) -> None:
        self.put(name, "get_config", {"running": running or f"hostname {name}\n", "startup": "", "candidate": ""})
        for m in ("load_replace_candidate", "discard_config", "confirm_commit"):
            self.put(name, m, {})
        self.put(name, "commit_config", {"exception": commit_error} if commit_error else {})
        self.put(name, "compare_config", {"diff": diff})
        self.put(name, "get_facts", {"hostname": name, "fqdn": name, "vendor": "mock", "model": "mock",
                                     "os_version": "1", "serial_number": "1", "uptime": 1.0, "interface_list": []})
        peers = [s.peer_address for s in self.network.devices[name].bgp]
        for n, up in ((1, bgp_before), *((k, bgp_after) for k in range(2, 40))):
            self.put(name, "get_bgp_neighbors", {"global": {"router_id": "10.0.0.1", "peers": {
                p: {"is_up": up, "is_enabled": True, "local_as": 1, "remote_as": 1, "remote_id": p,
                    "description": "", "uptime": 1.0, "address_family": {}} for p in peers}}}, n)

    def transform(self, inventory) -> None:
        for name, host in inventory.hosts.items():
            host.platform = "mock"
            opts = host.connection_options["napalm"]
            opts.extras = {"optional_args": {"path": str(self.dev(name)),
                                             "fail_on_open": (self.dev(name) / "UNREACHABLE").exists()}}


@pytest.fixture(autouse=True)
def secrets(tmp_path, monkeypatch):
    f = tmp_path / "secrets.yaml"
    f.write_text("aaa-shared-key: key-aaa-1\nsnmp-auth: key-auth-2\nsnmp-priv: key-priv-3\n")
    f.chmod(0o600)
    monkeypatch.setenv("NETGEN_SECRETS", str(f))
    return f


@pytest.fixture
def mocknet(intent_dir, tmp_path):
    net = resolve(intent_dir.root).network
    m = MockNet(tmp_path / "mock", net)
    for name in DEVICES:
        m.device(name)
    return m


def _plan(intent_dir, mocknet, tmp_path, **kw) -> Path:
    plan = make_plan(intent_dir.root, limit=SCOPE, transform=mocknet.transform, **kw)
    path = tmp_path / "plan.json"
    plan.write(path)
    return path


def _apply(path, mocknet, audit=None, **opts):
    return apply_plan(path, options=Options(transform=mocknet.transform, health_timeout=0.5, **opts),
                      audit=audit, intent_dir=Plan.read(path).intent)


# ------------------------------------------------------------------ plan


def test_plan_records_diff_commands_and_running_fingerprint(intent_dir, mocknet, tmp_path):
    mocknet.device("jx-nc-pe1", running="hostname jx-nc-pe1\nold line\n", diff="- old line\n+ new line")
    (mocknet.dev("jx-nc-pe2") / "UNREACHABLE").touch()
    plan = Plan.read(_plan(intent_dir, mocknet, tmp_path))
    assert sorted(plan.devices) == DEVICES
    pe1 = plan.devices["jx-nc-pe1"]
    assert pe1.status == "change" and pe1.commands == ["- old line", "+ new line"]
    assert pe1.running_sha256 == sha256("hostname jx-nc-pe1\nold line\n")
    assert plan.devices["jx-nc-ncx-pe1"].status == "unchanged"
    assert plan.devices["jx-nc-pe2"].status == "unreachable"
    assert "ConnectionException" in plan.devices["jx-nc-pe2"].error
    assert plan.exit_code() == 1  # errors win over changes
    (mocknet.dev("jx-nc-pe2") / "UNREACHABLE").unlink()
    assert Plan.read(_plan(intent_dir, mocknet, tmp_path)).exit_code() == 2
    mocknet.device("jx-nc-pe1")
    assert Plan.read(_plan(intent_dir, mocknet, tmp_path)).exit_code() == 0


def test_limit_by_group_and_unknown_term(intent_dir, mocknet):
    plan = make_plan(intent_dir.root, limit=["level:county"], transform=mocknet.transform)
    assert sorted(plan.devices) == ["gx-nn-la-pe1", "jx-gqc-pe1", "jx-nc-ncx-pe1"]
    with pytest.raises(DeployError, match="matches no device"):
        make_plan(intent_dir.root, limit=["jx-nowhere"], transform=mocknet.transform)


def test_secrets_are_filled_for_the_device_and_masked_in_the_plan(intent_dir, mocknet, tmp_path, monkeypatch):
    secret_file = tmp_path / "secrets.yaml"
    secret_file.write_text("aaa-shared-key: Zw-S3cret-9f\nsnmp-auth: auth-K3y-77\nsnmp-priv: priv-K3y-88\n")
    secret_file.chmod(0o600)
    mocknet.device("jx-nc-pe1", diff="+ hwtacacs-server shared-key cipher Zw-S3cret-9f")
    plan = make_plan(intent_dir.root, limit=SCOPE, transform=mocknet.transform, secrets=Secrets.load(secret_file))
    text = plan.dumps()
    assert "Zw-S3cret-9f" not in text and "<<secret:aaa-shared-key>>" in text


def test_a_missing_secret_or_a_secrets_file_in_the_intent_is_refused(intent_dir, mocknet, tmp_path, monkeypatch):
    monkeypatch.delenv("NETGEN_SECRETS")
    plan = make_plan(intent_dir.root, limit=SCOPE, transform=mocknet.transform, secrets=Secrets.load())
    assert all(d.status == "error" and "no `aaa-shared-key`" in d.error for d in plan.devices.values())
    inside = intent_dir.root / "secrets.yaml"
    inside.write_text("x: y\n")
    with pytest.raises(SecretError, match="inside the intent directory"):
        Secrets.load(inside, intent_dir.root)
    loose = tmp_path / "loose.yaml"
    loose.write_text("x: y\n")
    loose.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        Secrets.load(loose)


def test_an_edited_plan_is_refused(intent_dir, mocknet, tmp_path):
    path = _plan(intent_dir, mocknet, tmp_path)
    data = json.loads(path.read_text())
    data["devices"]["jx-nc-pe1"]["commands"] = ["+ something else"]
    path.write_text(json.dumps(data))
    with pytest.raises(DeployError, match="edited after it was made"):
        Plan.read(path)


# ------------------------------------------------------------------ apply: refusals


def test_apply_refuses_a_plan_whose_intent_changed(intent_dir, mocknet, tmp_path):
    mocknet.device("jx-nc-pe1", diff="+ x")
    path = _plan(intent_dir, mocknet, tmp_path)
    intent_dir.replace("sites/jiangxi/nanchang.yaml", "name: 南昌县", "name: 南昌县 ")
    with pytest.raises(DeployError, match="intent .* not the one the plan was made from"):
        _apply(path, mocknet)


def test_apply_refuses_a_plan_when_a_running_config_changed_and_touches_nothing(intent_dir, mocknet, tmp_path,
                                                                              secrets):
    mocknet.device("jx-nc-pe1", diff="+ x")
    path = _plan(intent_dir, mocknet, tmp_path)
    mocknet.device("jx-nc-ncx-pe1", running="hostname jx-nc-ncx-pe1\nchanged by hand\n")
    audit = AuditLog(tmp_path / "audit.jsonl")
    with pytest.raises(DeployError, match="jx-nc-ncx-pe1: running config changed"):
        _apply(path, mocknet, audit)
    assert audit.records() == []


def test_apply_requires_a_signed_approval_bound_to_the_plan(intent_dir, mocknet, tmp_path, monkeypatch):
    import subprocess

    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"张三@jx namespaces=\"netgen-plan\" {key.with_suffix('.pub').read_text()}")
    monkeypatch.setenv("NETGEN_ALLOWED_SIGNERS", str(signers))
    mocknet.device("jx-nc-pe1", diff="+ x")
    plan = make_plan(intent_dir.root, limit=SCOPE, transform=mocknet.transform, require_approval=True)
    path = tmp_path / "plan.json"
    plan.write(path)
    with pytest.raises(DeployError, match="requires an approval"):
        _apply(path, mocknet)
    with pytest.raises(DeployError, match="no such key file"):
        sign(path, tmp_path / "missing")
    assert sign(path, key, "ticket 42")[1] == "张三@jx"
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = _apply(path, mocknet, audit)
    assert result.ok and [o.device for o in result.outcomes] == ["jx-nc-pe1"]
    (rec,) = audit.records()
    assert rec["approved_by"] == "张三@jx" and rec["plan_sha256"] == Plan.read(path).sha256
    assert rec["device"] == "jx-nc-pe1" and rec["result"] == "changed" and rec["user"]


# ------------------------------------------------------------------ apply: waves, failures, rollback


def test_waves_canary_then_edge_first():
    levels = {"c1": "city", "c2": "city", "k1": "county", "t1": "township", "t2": "township", "p1": "province"}
    waves = plan_waves(levels)
    assert [(w.name, w.devices) for w in waves] == [
        ("canary", ("t1",)), ("township", ("t2",)), ("county", ("k1",)), ("city", ("c1", "c2")),
        ("province", ("p1",))]
    assert [w.devices for w in plan_waves(levels, canary=0, order="core-first", wave_size=1)][:3] == [
        ("p1",), ("c1",), ("c2",)]
    flat = [d for w in plan_waves(levels, canary=2, wave_size=1) for d in w.devices]
    assert sorted(flat) == sorted(levels) and len(flat) == len(levels)
    with pytest.raises(ValueError):
        plan_waves(levels, order="random")


def test_a_failed_commit_is_rolled_back_and_stops_later_waves(intent_dir, mocknet, tmp_path):
    for name in DEVICES:
        mocknet.device(name, diff=f"+ description {name}")
    mocknet.device("jx-nc-ncx-pe1", diff="+ x", commit_error="napalm.base.exceptions.CommitError")
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = _apply(_plan(intent_dir, mocknet, tmp_path), mocknet, audit)
    status = {o.device: (o.wave, o.status) for o in result.outcomes}
    assert status["jx-nc-ncx-lt-ce1"] == ("canary", "changed")
    assert status["jx-nc-ncx-pe1"][1] == "rolled-back"
    assert status["jx-nc-pe1"] == ("city", "not-started") and status["jx-nc-pe2"] == ("city", "not-started")
    assert "max-failures 1" in result.stopped and not result.ok
    assert {r["device"]: r["result"] for r in audit.records()} == {"jx-nc-ncx-lt-ce1": "changed",
                                                                    "jx-nc-ncx-pe1": "rolled-back"}
    detail = next(o.detail for o in result.outcomes if o.device == "jx-nc-ncx-pe1")
    assert "commit failed: CommitError" in detail and "rolled back" in detail


def test_bgp_sessions_not_back_fail_the_health_check_and_roll_back(intent_dir, mocknet, tmp_path):
    for name in DEVICES:
        mocknet.device(name, diff="+ x")
    mocknet.device("jx-nc-pe2", diff="+ x", bgp_before=True, bgp_after=False)
    result = _apply(_plan(intent_dir, mocknet, tmp_path), mocknet, max_failures=5)
    out = {o.device: o for o in result.outcomes}
    assert out["jx-nc-pe2"].status == "rolled-back"
    assert "BGP session(s) not back" in out["jx-nc-pe2"].detail and "10.255.0.16" in out["jx-nc-pe2"].detail
    assert all(out[d].status == "changed" for d in DEVICES if d != "jx-nc-pe2")


def test_sessions_down_before_the_change_are_not_required(intent_dir, mocknet, tmp_path):
    """A first deploy: nothing was established, nothing has to come back (verify checks the rest)."""
    for name in DEVICES:
        mocknet.device(name, diff="+ x", bgp_before=False, bgp_after=False)
    assert _apply(_plan(intent_dir, mocknet, tmp_path), mocknet).ok


def test_apply_refuses_a_plan_whose_templates_changed(intent_dir, mocknet, tmp_path, monkeypatch):
    import shutil

    from netgen.render import build as render_build
    from netgen.render.platform import load_platform

    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).resolve().parents[2] / "templates", templates)
    monkeypatch.setenv("NETGEN_TEMPLATES", str(templates))
    for cache in (load_platform, render_build._template):
        cache.cache_clear()
    try:
        mocknet.device("jx-nc-pe1", diff="+ x")
        path = _plan(intent_dir, mocknet, tmp_path)
        system = templates / "h3c_comware" / "system.j2"
        system.write_text(system.read_text(encoding="utf-8") + "{# reviewed #}\n", encoding="utf-8")
        with pytest.raises(DeployError, match="templates changed"):
            _apply(path, mocknet)
    finally:
        monkeypatch.delenv("NETGEN_TEMPLATES")
        for cache in (load_platform, render_build._template):
            cache.cache_clear()
