"""What netgen's deploy needs from a napalm driver, beyond napalm's own lifecycle.

Plan and apply use napalm's contract (`open`, `get_config`, `load_replace_candidate`,
`compare_config`, `commit_config(revert_in=…)`, `has_pending_commit`, `confirm_commit`,
`rollback`, `discard_config`, `get_bgp_neighbors`) plus the few extensions below. netgen's own
drivers (frr, huawei_vrp, h3c_comware) implement all of them; a third-party driver without them
still works — deploy falls back to `compare_config()` lines as the commands and to a plain
commit with a post-change health check instead of commit-confirm.

Contract details every netgen driver keeps:
- `get_config(retrieve="running")["running"]` is the running config *normalised*: volatile
  lines (timestamps, "last changed" banners, build headers) removed, so that two reads of an
  unchanged device are byte-identical. Plan fingerprints exactly this text (stale-plan check).
- `load_replace_candidate(config=TEXT)` takes the full intended config (secrets already filled
  in by deploy); it must not touch the device's running config.
- `compare_config()` is a human-readable diff of running → candidate (`+`/`-` lines, with their
  parent lines for context); empty string when nothing would change.
- `commit_config(revert_in=N)`: change the device; if it is not confirmed within N seconds it
  reverts to the pre-change config. Native where the platform has it, emulated otherwise.
- `rollback()`: back to the config before the last commit (also after a confirmed one).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class PlanningDriver(Protocol):
    def candidate_commands(self) -> list[str]:
        """What `commit_config` will send for the loaded candidate, in order (hier_config
        remediation with its `undo` lines and view `quit`s on VRP/Comware; frr-reload.py's
        delete/add lines on FRR), secret values masked. Empty when the candidate equals the
        running config."""
        ...


@runtime_checkable
class IgpReadingDriver(Protocol):
    def get_igp_neighbors(self, protocols: tuple[str, ...] = ("isis", "ospf")) -> list[dict]:
        """IGP adjacencies for verify: dicts with `protocol` (isis | ospf), `vrf` ("default" for
        the global table), `interface`, `neighbor` (IS-IS host name / OSPF router id), `up` — of
        `protocols` only (verify asks for what the design runs: a router without ospfd is no error)."""
        ...


@runtime_checkable
class MplsReadingDriver(Protocol):
    """What verify reads to prove an MPLS L3VPN design (LDP sessions, labelled VPN routes)."""

    def get_ldp_neighbors(self) -> list[dict]:
        """LDP sessions: dicts with `neighbor` (the peer's LSR id), `state`, `up` (operational),
        `address_family`, `transport_address`, `uptime`."""
        ...

    def get_vrf_routes(self, vrf: str = "") -> dict:
        """{vrf: {prefix: route}} of one VRF ("" = every VRF); a route is `protocol`, `selected`,
        `installed`, `next_hop` (a VPN route's BGP next hop), `interface` (outgoing) and `labels`
        (the pushed label stack, outermost first; [] when unlabelled)."""
        ...

    def get_vpn_route(self, prefix: str) -> list[dict]:
        """The VPNv4 paths BGP holds for `prefix` (every RD): dicts with `rd`, `prefix`, `valid`,
        `best`, `next_hop`, `accessible` (the next hop resolves), `remote_label` (None: none),
        `route_targets` (["ASN:NN", …]), `originator`."""
        ...

    def get_vrf_bgp_paths(self, vrf: str, prefix: str) -> list[dict]:
        """The paths BGP holds for `prefix` in `vrf` (imported VPN routes among them): dicts with
        `valid`, `best`, `next_hop`, `accessible`."""
        ...


@runtime_checkable
class ConfirmingDriver(Protocol):
    # True when commit_config(revert_in=N) is enforced by the device itself (survives netgen
    # dying); False when netgen emulates it in-process (kept config + health check + rollback).
    native_commit_confirm: bool


class RollbackIncomplete(Exception):
    """Raised by `rollback()` when the pre-change config is restored on everything that runs,
    but part of the device is down (e.g. an FRR daemon that died) and gets that config only when
    it restarts — the config saved on the device is the pre-change one. Apply reports the
    device as rolled back, with this message."""
