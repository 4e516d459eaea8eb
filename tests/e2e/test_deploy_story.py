"""The whole story on real FRR routers, through the same CLI an engineer uses.

lab up → plan (every device changes) → apply → verify → empty re-plan → a new county with a
department: only the affected devices change → apply → verify → a stale plan is refused → a
router whose bgpd dies during apply is rolled back while the others complete → lab down leaves
nothing. A second lab proves verify catches a leak between two dedicated zones and an exit
that lost its firewall.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path


from netgen.cli import main
from netgen.deploy.apply import Options, apply_plan
from netgen.deploy.inventory import Target
from netgen.deploy.plan import Plan
from netgen.lab.state import lab_dir, prefix_for
from netgen.model import resolve
from netgen.render.build import render_device

from ..labkit import leftovers, needs_root, ssh

pytestmark = needs_root
CONVERGE = 120  # seconds for BGP/OSPF/IS-IS to settle after a change (LAB-NOTES: 20-35 s measured)


def cli(*args: str) -> int:
    return main(list(args))


def rendered(intent: Path) -> dict[str, str]:
    net = resolve(intent).network
    return {n: render_device(d, net, "frr") for n, d in net.devices.items()}


def verify_until_clean(intent: Path, lab: str, capsys, timeout: float = CONVERGE) -> str:
    """Verify right after apply: it waits for the network to settle, and only what is still wrong
    after `timeout` seconds fails."""
    code = cli("verify", str(intent), "--lab", lab, "--format", "json", "--settle", str(timeout))
    out = capsys.readouterr().out
    report = json.loads(out)
    bad = [f"{f['check']} {f['subject']} [{f['zones']}]: {f['detail']}" for f in report["findings"] if not f["ok"]]
    assert code == 0 and report["settled"], "verify failed:\n" + "\n".join(bad[:30])
    return out


def test_plan_apply_verify_change_stale_and_rollback(lab, intent_dir, tmp_path, capsys):
    name = lab("e")
    inv = str(intent_dir.root)
    plan = str(tmp_path / "plan.json")
    assert cli("lab", "up", inv, "--design", "lite", "--name", name) == 0
    capsys.readouterr()

    # 1. Every router starts minimal: the plan changes all of them.
    assert cli("plan", inv, "--lab", name, "-o", plan, "--detailed-exitcode") == 2
    p = Plan.read(plan)
    assert len(p.changes) == 18 and not p.failed
    assert all(d.commands and d.running_sha256 for d in p.changes)
    assert cli("apply", plan, inv, "--lab", name, "--yes") == 0
    out = capsys.readouterr().out
    assert "18 changed" in out
    audit = [json.loads(line) for line in Path(os.environ["NETGEN_AUDIT_LOG"]).read_text().splitlines()]
    assert len(audit) == 18 and {r["result"] for r in audit} == {"changed"}
    verify_until_clean(intent_dir.root, name, capsys)
    assert cli("plan", inv, "--lab", name, "--detailed-exitcode") == 0  # nothing left to do
    capsys.readouterr()

    # 2. The everyday change: a county with a department. Only the devices whose config the
    #    change touches are in the plan.
    before = rendered(intent_dir.root)
    new = intent_dir.add_county()
    assert cli("lock", inv) == 0
    after = rendered(intent_dir.root)
    affected = {n for n in after if after[n] != before.get(n)}
    assert new in affected and len(affected) < len(after) / 2
    assert cli("lab", "up", inv, "--design", "lite", "--name", name) == 0
    assert cli("plan", inv, "--lab", name, "-o", plan, "--detailed-exitcode") == 2
    assert {d.name for d in Plan.read(plan).changes} == affected
    assert cli("apply", plan, inv, "--lab", name, "--yes") == 0
    capsys.readouterr()
    verify_until_clean(intent_dir.root, name, capsys)

    # 3. A plan made before an out-of-band change is refused as stale, and nothing is pushed.
    intent_dir.replace("departments.yaml", "      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}\n",  # stats joins
                       "      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}\n      - {site: jx}\n      - {site: jx-nc}\n"
                       "      - {site: gx-nn}\n")
    assert cli("lock", inv) == 0 and cli("lab", "up", inv, "--design", "lite", "--name", name) == 0
    assert cli("plan", inv, "--lab", name, "-o", plan, "--detailed-exitcode") == 2
    changed = sorted(d.name for d in Plan.read(plan).changes)
    victim = changed[0]
    assert ssh(name, victim, "vtysh -c 'conf t' -c 'interface lo' -c 'description changed by hand'").returncode == 0
    capsys.readouterr()
    assert cli("apply", plan, inv, "--lab", name, "--yes") == 1
    err = capsys.readouterr().err
    assert "stale plan" in err and f"{victim}: running config changed" in err
    assert "changed by hand" in ssh(name, victim, "vtysh -c 'show running-config'").stdout  # untouched

    # 4. bgpd dies on one router during apply: it is reported failed and rolled back, the
    #    others complete. (A new plan: the hand edit above is part of the running config now.)
    assert cli("plan", inv, "--lab", name, "-o", plan) == 0
    p = Plan.read(plan)
    targets = sorted(d.name for d in p.changes)
    doomed = next(n for n in targets if n.startswith("jx-nc-pe"))
    assert len(targets) >= 3
    pre = ssh(name, doomed, "vtysh -c 'show running-config'").stdout
    killer = KillBgpd(name, doomed)
    result = apply_plan(plan, options=Options(max_failures=100, health_timeout=20), processors=[killer],
                        intent_dir=intent_dir.root, target=Target(name))
    outcome = {o.device: o for o in result.outcomes}
    assert killer.killed
    assert outcome[doomed].status == "rolled-back", outcome[doomed]
    assert "bgpd" in outcome[doomed].detail and "health check failed" in outcome[doomed].detail
    assert all(outcome[n].status == "changed" for n in targets if n != doomed)
    # Rolled back: the running daemons have their pre-change config now, and bgpd gets its own
    # from the saved config when it restarts — the router is exactly as before.
    assert cli("lab", "up", inv, "--design", "lite", "--name", name) == 0  # restarts the dead daemons
    assert ssh(name, doomed, "vtysh -c 'show running-config'").stdout == pre
    assert cli("plan", inv, "--lab", name, "-o", plan, "--detailed-exitcode") == 2
    assert [d.name for d in Plan.read(plan).changes] == [doomed]  # exactly what was rolled back
    capsys.readouterr()

    # 5. Down leaves nothing.
    assert cli("lab", "down", "--name", name) == 0
    assert leftovers(name) == []


class KillBgpd:
    """A nornir processor: kills one router's bgpd (by its PID file) right after its commit."""

    def __init__(self, lab: str, router: str):
        self.lab, self.router, self.killed = lab, router, False

    def subtask_instance_completed(self, task, host, result) -> None:
        if host.name == self.router and task.name == "commit" and not self.killed:
            pid = int((lab_dir(self.lab) / "routers" / self.router / "run" / "bgpd.pid").read_text())
            os.kill(pid, 9)
            self.killed = True

    def task_started(self, task): pass
    def task_completed(self, task, result): pass
    def task_instance_started(self, task, host): pass
    def task_instance_completed(self, task, host, result): pass
    def subtask_instance_started(self, task, host): pass


def test_verify_names_both_zones_of_a_leak(lab, intent_dir, tmp_path, capsys):
    """Two dedicated zones joined on one router, out of band (the intent cannot say it: netgen
    validate rejects two zones in one VRF): verify names both zones. Then an exit's firewall."""
    name = lab("l")
    inv, plan = str(intent_dir.root), str(tmp_path / "plan.json")
    assert cli("lab", "up", inv, "--design", "lite", "--name", name, "--scope", "gx") == 0
    assert cli("plan", inv, "--lab", name, "-o", plan) == 0
    assert cli("apply", plan, inv, "--lab", name, "--yes") == 0
    capsys.readouterr()
    verify_until_clean(intent_dir.root, name, capsys)
    # On the router where treasury and audit both attach, audit's access port is put into
    # treasury's VRF (each VRF is a namespace in the lab): a hand-made mistake on one device,
    # which treasury's OSPF then carries to every treasury router.
    dev = next(d for d in resolve(intent_dir.root).network.devices.values()
               if {"treasury", "audit"} <= {a.zone for a in d.attachments} and d.site.startswith("gx"))
    port = next(a for a in dev.attachments if a.zone == "audit")
    vrf = {v.zone: f"{prefix_for(name)}-{dev.name}.{v.name}" for v in dev.vrfs}  # their namespaces
    ifname = f"e{port.port}v{port.vlan}"
    subprocess.run(["ip", "netns", "exec", vrf["audit"], "ip", "link", "set", ifname, "netns", vrf["treasury"]],
                   check=True)
    for cmd in (["ip", "addr", "add", str(port.ipv4), "dev", ifname], ["ip", "link", "set", ifname, "up"]):
        subprocess.run(["ip", "netns", "exec", vrf["treasury"], *cmd], check=True)
    deadline = time.monotonic() + CONVERGE
    while True:
        code = cli("verify", inv, "--lab", name, "--format", "json", "--settle", "0")
        report = json.loads(capsys.readouterr().out)
        leaks = [f for f in report["findings"] if not f["ok"] and f["check"] == "isolation"]
        if leaks or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert code == 1 and leaks, [f for f in report["findings"] if not f["ok"]]
    assert any(set(f["zones"].split(" → ")) == {"treasury", "audit"} for f in leaks), leaks
    assert all("LEAK" in f["detail"] for f in leaks)
    internet = [f for f in report["findings"] if f["check"] == "internet" or "Internet" in f["subject"]]
    assert internet and all(f["ok"] for f in internet)  # the exit's NAT firewall holds

    # Out of band, the exit loses its NAT firewall: the Internet gets in, and (without NAT) the
    # Internet zone no longer gets out — verify names both.
    fw = f"{prefix_for(name)}-gx-nn-samr-fw1.ZW-INTERNET"
    subprocess.run(["ip", "netns", "exec", fw, "nft", "delete", "table", "inet", "netgen-exit"], check=True)
    assert cli("verify", inv, "--lab", name, "--format", "json", "--settle", "0") == 1
    bad = [f for f in json.loads(capsys.readouterr().out)["findings"] if not f["ok"]]
    assert any(f["subject"].startswith("the Internet (") and "server" not in f["subject"] and "LEAK" in f["detail"] and
               "firewall" in f["detail"] for f in bad), bad
    assert any("→ the Internet" in f["subject"] and "UNREACHABLE" in f["detail"] for f in bad), bad
