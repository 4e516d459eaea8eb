"""Deploy trusts nothing it has not checked (issue 17): SSH host keys on every driver, a plan
file as data only, SSH-signed approvals, a hash-chained audit log, and per-device apply locks.
Real ssh-keygen, real SSH (the CLI simulator), napalm's mock driver for the devices in apply."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import paramiko
import pytest
from napalm.base.exceptions import ConnectionException

from netgen.cli import main
from netgen.deploy.apply import Options, apply_plan
from netgen.deploy.approval import sign
from netgen.deploy.audit import AuditLog, verify_chain
from netgen.deploy.drivers.frr_ssh import SshTransport, resolve as frr_resolve
from netgen.deploy.drivers.hostkeys import fingerprint
from netgen.deploy.inventory import Target
from netgen.deploy.plan import Plan, PlanFileError, make_plan
from netgen.deploy.session import DeployError, sha256

from ..deploy.cli_sim import server as sim_server
from ..deploy.cli_sim.lab import SimLab
from ..deploy.test_plan_apply_logic import DEVICES, SCOPE, MockNet

CONFIG = {"huawei_vrp": "sysname sim\n", "h3c_comware": "sysname sim\n"}


# ------------------------------------------------------------------ host keys


@pytest.fixture
def lab(tmp_path):
    lab = SimLab(known_hosts=tmp_path / "known_hosts")
    yield lab
    lab.close()


@pytest.fixture
def logins(monkeypatch):
    """Every authentication attempt the simulator sees (a password offered is one)."""
    seen: list[str] = []
    for method in ("check_auth_password", "check_auth_publickey", "check_auth_none"):
        orig = getattr(sim_server._Auth, method, None)

        def spy(self, username, *rest, _orig=orig, _m=method):
            seen.append(_m)
            return _orig(self, username, *rest) if _orig else paramiko.AUTH_FAILED
        monkeypatch.setattr(sim_server._Auth, method, spy)
    return seen


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_cli_driver_refuses_a_changed_host_key_before_logging_in(lab, logins, platform):
    _, server = lab.device(platform, CONFIG[platform])
    lab.driver(platform, server).close()                  # the recorded key: accepted
    assert logins
    logins.clear()
    old, server.host_key = server.host_key, paramiko.ECDSAKey.generate()   # "the device was replaced"
    for policy in ("strict", "accept-new"):               # accept-new never overrides a contradiction
        with pytest.raises(ConnectionException) as caught:
            lab.driver(platform, server, host_key_policy=policy)
        msg = str(caught.value)
        assert "127.0.0.1" in msg and "HOST KEY MISMATCH" in msg
        assert fingerprint(server.host_key) in msg and fingerprint(old) in msg
        assert server.password not in msg
    assert logins == []                                   # no password ever reached it
    assert Path(lab.known_hosts).read_text().count("\n") == 1   # nothing recorded


def test_frr_transport_refuses_a_changed_host_key_too(lab, logins):
    _, server = lab.device("huawei_vrp", CONFIG["huawei_vrp"])
    server.host_key = paramiko.ECDSAKey.generate()
    params = frr_resolve("127.0.0.1", "root", "pw", 5, {"port": server.port, "known_hosts_file": lab.known_hosts,
                                                        "allow_agent": False, "use_keys": False})
    with pytest.raises(ConnectionException, match="HOST KEY MISMATCH"):
        SshTransport(params).open()
    assert logins == []


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_unknown_host_key_refused_unless_accept_new_which_records_it(lab, logins, platform, tmp_path):
    _, server = lab.device(platform, CONFIG[platform])
    Path(lab.known_hosts).write_text("")                  # never seen this device
    with pytest.raises(ConnectionException, match="not in any known_hosts.*--accept-new-host-keys"):
        lab.driver(platform, server)
    assert logins == []
    lab.driver(platform, server, host_key_policy="accept-new").close()
    recorded = Path(lab.known_hosts).read_text()
    assert recorded == f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
    lab.driver(platform, server).close()                  # strict again: now known


# ------------------------------------------------------------------ plans and approvals


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("aaa-shared-key: key-aaa-1\nsnmp-auth: key-auth-2\nsnmp-priv: key-priv-3\n")
    secrets.chmod(0o600)
    monkeypatch.setenv("NETGEN_SECRETS", str(secrets))
    monkeypatch.setenv("NETGEN_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("NETGEN_REQUIRE_APPROVAL", raising=False)


@pytest.fixture
def mocknet(intent_dir, tmp_path):
    from netgen.model import resolve

    m = MockNet(tmp_path / "mock", resolve(intent_dir.root).network)
    for name in DEVICES:
        m.device(name)
    m.device("jx-nc-pe1", diff="+ x")
    return m


def keypair(tmp_path: Path, name: str) -> Path:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


@pytest.fixture
def approver(tmp_path, monkeypatch) -> Path:
    key = keypair(tmp_path, "approver")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f'wang.wu@jx-xxzx namespaces="netgen-plan" {key.with_suffix(".pub").read_text()}')
    monkeypatch.setenv("NETGEN_ALLOWED_SIGNERS", str(signers))
    return key


def make(intent_dir, mocknet, tmp_path, **kw) -> Path:
    path = tmp_path / "plan.json"
    make_plan(intent_dir.root, limit=SCOPE, transform=mocknet.transform, **kw).write(path)
    return path


def run_apply(path, intent_dir, mocknet, **kw):
    return apply_plan(path, options=Options(transform=mocknet.transform, health_timeout=0.5),
                      audit=AuditLog(os.environ["NETGEN_AUDIT_LOG"]), intent_dir=intent_dir.root, **kw)


def rewrite(path: Path, edit) -> None:
    """What an editor can do: change the body and recompute the plain sha256."""
    data = json.loads(path.read_text())
    edit(data)
    body = {k: v for k, v in data.items() if k not in ("plan_sha256", "approvals")}
    for d in body["devices"].values():
        if not d.get("commit_mode"):
            d.pop("commit_mode", None)
    data["plan_sha256"] = sha256(json.dumps(body, sort_keys=True, ensure_ascii=False))
    path.write_text(json.dumps(data))


def test_a_signed_plan_verifies_and_the_audit_names_the_verified_principal(intent_dir, mocknet, tmp_path, approver):
    path = make(intent_dir, mocknet, tmp_path, require_approval=True)
    with pytest.raises(DeployError, match="requires an approval"):
        run_apply(path, intent_dir, mocknet)
    assert sign(path, approver, "ticket 7\nby: 李四")[1] == "wang.wu@jx-xxzx"   # a newline forges nothing
    result = run_apply(path, intent_dir, mocknet)
    assert result.ok and [o.device for o in result.outcomes] == ["jx-nc-pe1"]
    (rec,) = AuditLog(os.environ["NETGEN_AUDIT_LOG"]).records()
    assert rec["approved_by"] == "wang.wu@jx-xxzx"


def test_removing_the_approval_requirement_and_rehashing_is_refused(intent_dir, mocknet, tmp_path, approver,
                                                                     monkeypatch):
    path = make(intent_dir, mocknet, tmp_path, require_approval=True)
    sign(path, approver)
    rewrite(path, lambda d: d["devices"]["jx-nc-pe1"].update(commands=["+ y"]))   # the signature is now stale
    with pytest.raises(DeployError, match="approval 1 .* does not verify"):
        run_apply(path, intent_dir, mocknet)
    rewrite(path, lambda d: (d.update(require_approval=False), d.update(approvals=[])))
    monkeypatch.setenv("NETGEN_REQUIRE_APPROVAL", "production")   # this machine's rule, not the plan's
    with pytest.raises(DeployError, match="requires an approval"):
        run_apply(path, intent_dir, mocknet)
    assert AuditLog(os.environ["NETGEN_AUDIT_LOG"]).records() == []


def test_a_signature_by_a_key_not_in_allowed_signers_is_refused(intent_dir, mocknet, tmp_path, approver):
    path = make(intent_dir, mocknet, tmp_path, require_approval=True)
    outsider = keypair(tmp_path, "outsider")
    assert sign(path, outsider)[1] == ""
    with pytest.raises(DeployError, match="does not verify against .*allowed_signers"):
        run_apply(path, intent_dir, mocknet)
    data = json.loads(path.read_text())                    # a hand-written approval is no better
    data["approvals"] = [{"by": "张三", "at": "x", "comment": "", "plan_sha256": data["plan_sha256"]}]
    path.write_text(json.dumps(data))
    with pytest.raises(DeployError, match="does not verify"):
        run_apply(path, intent_dir, mocknet)


def test_a_plan_cannot_choose_its_target_or_intent(intent_dir, mocknet, tmp_path, monkeypatch):
    trap = tmp_path / "ran"
    evil = tmp_path / "evil"
    (evil / "ssh").mkdir(parents=True)
    (evil / "ssh" / "ssh_config").write_text(f"Host *\n  ProxyCommand touch {trap}\n")
    (evil / "state.json").write_text("{}")
    monkeypatch.setenv("NETGEN_LAB_ROOT", str(tmp_path))
    path = make(intent_dir, mocknet, tmp_path)
    rewrite(path, lambda d: d.update(target="lab:evil"))
    with pytest.raises(DeployError, match="plan is for `lab:evil` but this apply targets `production`"):
        run_apply(path, intent_dir, mocknet)
    with pytest.raises(DeployError, match="for `lab:evil` but this apply targets `lab:lab`"):
        run_apply(path, intent_dir, mocknet, target=Target("lab"))
    assert not trap.exists()
    rewrite(path, lambda d: d.update(target="production", intent=str(tmp_path / "elsewhere")))
    assert run_apply(path, intent_dir, mocknet).ok          # the plan's intent path is not used


@pytest.mark.parametrize("content", [
    "[" * 100_000 + "]" * 100_000,
    '{"format": "netgen-plan/1", "devices": [], "plan_sha256": "x"}',
    '{"format": "netgen-plan/1", "devices": {"a": {"name": 1}}}',
    b"\xff\xfe".decode("latin-1"),
])
def test_a_malformed_plan_is_one_line_and_exit_2(intent_dir, tmp_path, capsys, content):
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="latin-1")
    with pytest.raises(PlanFileError):
        Plan.read(path)
    assert main(["apply", str(path), str(intent_dir.root), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err


def test_a_huge_plan_is_refused_without_reading_it(tmp_path, monkeypatch):
    import netgen.deploy.plan as plan_mod

    monkeypatch.setattr(plan_mod, "MAX_BYTES", 1000)
    path = tmp_path / "plan.json"
    path.write_text('{"format": "netgen-plan/1", "x": "' + "a" * 2000 + '"}')
    with pytest.raises(PlanFileError, match="larger than"):
        Plan.read(path)


# ------------------------------------------------------------------ audit log and locks


def test_an_audit_log_edited_in_the_middle_is_named(tmp_path, capsys):
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        log.append(device=f"d{i}", result="changed")
    assert main(["audit-log", "verify", str(log.path)]) == 0
    assert "5 record(s), chain intact" in capsys.readouterr().out
    lines = log.path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"changed"', '"rolled-back"')
    log.path.write_text("".join(lines))
    report = verify_chain(log.path)
    assert report.bad_line == 4 and "line 3 or 4 was edited" in report.reason
    assert main(["audit-log", "verify", str(log.path)]) == 1
    assert "line 4" in capsys.readouterr().err
    del lines[2]                                             # a removed line is caught too
    log.path.write_text("".join(lines))
    assert verify_chain(log.path).bad_line == 3
    assert main(["audit-log", "verify", str(tmp_path / "missing")]) == 2


def test_two_applies_on_overlapping_devices_the_second_is_refused_naming_the_first(intent_dir, mocknet, tmp_path):
    path = make(intent_dir, mocknet, tmp_path)
    second: list = []

    def during_first(plan, waves):               # the first apply holds its devices here
        try:
            run_apply(path, intent_dir, mocknet)
        except DeployError as exc:
            second.append(str(exc))
        return True

    assert run_apply(path, intent_dir, mocknet, confirm=during_first).ok
    (msg,) = second
    assert "jx-nc-pe1 is being changed by another apply" in msg and f"pid {os.getpid()}" in msg
    assert Plan.read(path).sha256[:12] in msg
    assert run_apply(path, intent_dir, mocknet).ok    # released when the first finished
    assert verify_chain(os.environ["NETGEN_AUDIT_LOG"]).bad_line == 0
