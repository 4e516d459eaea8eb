"""Verify: does the running network do what the intent says?

Through napalm getters (so it works on production too): BGP sessions, IGP adjacencies (where
the driver can read them), and routes that must not
exist (management block, default routes outside the Internet zone). In a lab, also probes
from the department hosts: reachability within zones, isolation across them, Internet only
through an exit's NAT firewall. See expect.py for the rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..deploy.inventory import Target, select
from ..deploy.secrets import Secrets
from ..deploy.session import DeployError, Workspace, make_nornir
from . import expect
from .checks import Finding, getter_findings, probe_findings


@dataclass
class Report:
    target: str
    findings: list[Finding] = field(default_factory=list)
    not_probed: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    @property
    def ok(self) -> bool:
        return not self.violations


def verify(intent_dir: str | Path, target: Target = Target(), limit: list[str] | None = None,
           secrets: Secrets | None = None, workers: int = 20, probes: bool = True) -> Report:
    ws = Workspace.load(intent_dir)
    secrets = secrets if secrets is not None else Secrets.load(intent_dir=intent_dir)
    try:
        devices = select(ws.network, limit)
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    topo = None
    if target.lab:
        from ..lab.state import LabState
        from ..lab.topology import build_topology

        state = LabState.load(target.lab)
        if state is None:
            raise DeployError(f"lab `{target.lab}` is not running: `netgen lab up --name {target.lab}` first")
        devices = [d for d in devices if d in state.routers]
        topo = build_topology(ws.network, state.prefix, state.scope or None)
        if limit:
            topo.hosts = [h for h in topo.hosts if h.router in devices]
    scope = set(devices)
    report = Report(target.label)
    nr = make_nornir(ws.network, target, secrets, sorted(scope), workers)
    from ..render.platform import load_platform

    igp = expect.igp(ws.network, scope, lambda d: load_platform(target.platform or ws.network.devices[d].platform))
    with nr:
        report.findings += getter_findings(nr, expect.sessions(ws.network, scope),
                                           expect.routes(ws.network, scope, expect.management_blocks(ws.intent)),
                                           igp, secrets)
    if topo is not None and probes:
        plist, report.not_probed = expect.probes(topo, ws.intent)
        report.findings += probe_findings(plist, topo.internet_netns)
    return report
