"""Verify: does the running network do what the intent says?

Through napalm getters (so it works on production too): BGP sessions, IGP adjacencies (where
the driver can read them), on the MPLS design LDP sessions and labelled VPN paths between the
PEs of each zone, and routes that must not exist (management block, default routes outside the
Internet zone). In a lab, also probes from the department hosts: reachability within zones,
isolation across them, Internet only through an exit's NAT firewall. See expect.py for the
rules. With `settle`, what fails is re-run until it passes or the time is up (settle.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..deploy.inventory import Target, select
from ..deploy.secrets import Secrets
from ..deploy.session import DeployError, Workspace, make_nornir
from ..lab.system import LabError
from . import expect
from ..lab.ipsec import IpsecLink
from .checks import DeviceRead, Finding, GetterChecks, getter_findings, ipsec_findings, probe_findings
from .expect import Probe
from .settle import settle as settle_findings


@dataclass
class Report:
    target: str
    findings: list[Finding] = field(default_factory=list)
    not_probed: list[str] = field(default_factory=list)
    waited_seconds: float = 0.0  # re-running what failed, after the first pass
    settled: bool = True  # everything passed (at once, or within the settle time)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    @property
    def ok(self) -> bool:
        return not self.violations


def verify(intent_dir: str | Path, target: Target = Target(), limit: list[str] | None = None,
           secrets: Secrets | None = None, workers: int = 20, probes: bool = True, settle: float = 0,
           progress: Callable[[str], None] | None = None) -> Report:
    ws = Workspace.load(intent_dir)
    secrets = secrets if secrets is not None else Secrets.load(intent_dir=intent_dir)
    try:
        devices = select(ws.network, limit)
    except ValueError as exc:
        raise DeployError(str(exc)) from None
    topo = runner = None
    tunnels: list = []
    if target.lab:
        from ..lab.handle import open_lab

        try:
            lab = open_lab(target.lab)
            devices = [d for d in devices if d in lab.state.routers]
            topo, runner = lab.topology(ws.network), lab.runner
            tunnels = lab.ipsec_links(ws.network, topo)
        except LabError as exc:
            raise DeployError(str(exc)) from None
        if limit:
            topo.hosts = [h for h in topo.hosts if h.router in devices]
    scope = set(devices)
    report = Report(target.label)
    from ..render.platform import load_platform

    platform_of = lambda d: load_platform(target.platform or ws.network.devices[d].platform)  # noqa: E731
    checks = GetterChecks(expect.sessions(ws.network, scope),
                          expect.routes(ws.network, scope, expect.management_blocks(ws.intent), platform_of),
                          expect.igp(ws.network, scope, platform_of), expect.ldp(ws.network, scope, platform_of),
                          expect.vpn_paths(ws.network, scope, platform_of))
    plist: list[Probe] = []
    if topo is not None and probes:
        plist, report.not_probed = expect.probes(topo, ws.intent)
    nr = make_nornir(ws.network, target, secrets, sorted(scope), workers)

    def run(getters: GetterChecks, pings: list[Probe], links: list) -> list[Finding]:
        out = getter_findings(nr, getters, secrets) if getters.all() else []
        out += ipsec_findings(runner, links) if links else []
        return out + (probe_findings(pings, topo.internet_netns, runner) if pings else [])

    def rerun(failed: list[Finding]) -> list[Finding]:
        getters: list = []
        for f in failed:
            if not isinstance(f.source, (Probe, IpsecLink)):
                getters += checks.involving(f.source.device) if isinstance(f.source, DeviceRead) else [f.source]
        return run(checks.only(getters), [f.source for f in failed if isinstance(f.source, Probe)],
                   [f.source for f in failed if isinstance(f.source, IpsecLink)])

    with nr:
        try:
            first = run(checks, plist, tunnels if probes else [])
            report.findings, report.waited_seconds, report.settled = settle_findings(first, rerun, settle,
                                                                                     progress=progress)
        except LabError as exc:  # the probe script could not run in the lab
            raise DeployError(f"lab `{target.lab}`: {exc}") from None
    return report
