"""The lab: the intent's network on real FRR routers, in Linux network namespaces.

Two designs: `mpls` (default) runs the production design — IS-IS + LDP, MP-BGP VPNv4, kernel VRFs,
802.1q LANs, rendered by `frr_mpls` — on this host if its kernel can, else inside a QEMU guest
with Debian's kernel (mpls.py, guest.py); `lite` is the quick VRF-lite stand-in on any kernel
(lite.py). `up` builds or updates a lab, `down` removes everything it made, `status` reports
routers, daemons and BGP sessions; handle.py gives deploy and verify a running lab.
"""
from __future__ import annotations

from . import lite, mpls
from .handle import Lab, open_lab
from .lite import UpResult
from .state import LabState
from .system import LabError
from .topology import Topology, build_topology

DESIGNS = ("mpls", "lite")


def up(network, name: str = "lab", scope: list[str] | None = None, intent: str = "", progress=None,
       wait: float = 60.0, design: str = "mpls", where: str = "auto") -> UpResult:
    if design not in DESIGNS:
        raise LabError(f"unknown lab design `{design}`: {' or '.join(DESIGNS)}")
    state = LabState.load(name) if lite.NAME.fullmatch(name) else None
    if state is not None and state.design != design:
        raise LabError(f"lab `{name}` runs the {state.design} design: `netgen lab down --name {name}` first")
    if design == "mpls":
        return mpls.up(network, name, scope, intent, progress, wait, where)
    if where == "guest":
        raise LabError("the lite design runs on this host only (`--where host`)")
    return lite.up(network, name, scope, intent, progress, wait)


def down(name: str = "lab") -> list[str]:
    lite.check_name(name)
    try:
        state = LabState.load(name)
    except ValueError:
        state = None  # unreadable: both ways below work from what exists
    if state is not None and state.design == "lite":
        return lite.down(name)
    return mpls.down(name)


def status(name: str = "lab") -> tuple[LabState | None, list[lite.RouterStatus]]:
    lite.check_name(name)
    state = LabState.load(name)
    if state is None or state.design == "lite":
        return lite.status(name)
    return state, [lite.RouterStatus(r, daemons, bgp) for r, daemons, bgp in mpls.router_status(name)]


__all__ = ["up", "down", "status", "UpResult", "LabError", "Lab", "open_lab", "Topology", "build_topology"]
