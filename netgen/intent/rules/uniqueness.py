"""Identifiers and pinned values that must be unique network-wide. One pass each, O(n)."""
from __future__ import annotations

import ipaddress
from typing import Iterable, Iterator

from ...diagnostics import Location
from ..intent import Intent
from . import Finding, rule


def _duplicates(items: Iterable[tuple[object, Location]], what: str, hint: str) -> Iterator[Finding]:
    first: dict[object, Location] = {}
    for value, loc in items:
        if value in first:
            yield Finding(loc, f"duplicate {what} `{value}`", hint, (first[value],))
        else:
            first[value] = loc


@rule("unique.site-id", "site ids are unique")
def site_id(intent: Intent):
    yield from _duplicates(((s["id"], s.where("id")) for s in intent.sites), "site id", "give each site its own id")


@rule("unique.site-code", "administrative codes are unique")
def site_code(intent: Intent):
    yield from _duplicates(((s["code"], s.where("code")) for s in intent.sites), "administrative code",
                           "each site has its own GB/T 2260 code")


@rule("unique.device-name", "device names are unique network-wide")
def device_name(intent: Intent):
    yield from _duplicates(((d["name"], d.where("name")) for _, d in intent.devices), "device name",
                           "device names are host names: make each one unique")


@rule("unique.zone", "zone ids and VPN ids are unique")
def zone(intent: Intent):
    yield from _duplicates(((z["id"], z.where("id")) for z in intent.zones), "zone id", "rename one of the zones")
    yield from _duplicates(((z["vpn_id"], z.where("vpn_id")) for z in intent.zones), "vpn_id",
                           "each zone is its own VPN: give it its own vpn_id")


@rule("unique.department-id", "department ids are unique")
def department_id(intent: Intent):
    yield from _duplicates(((d["id"], d.where("id")) for d in intent.departments), "department id",
                           "merge the two entries, or rename one")


@rule("unique.server-id", "server ids are unique")
def server_id(intent: Intent):
    yield from _duplicates(((s["id"], s.where("id")) for s in intent.network["servers"]), "server id",
                           "rename one of the servers")


@rule("unique.asn", "pinned AS numbers are unique")
def asn(intent: Intent):
    yield from _duplicates(((s["asn"], s.where("asn")) for s in intent.sites if s.get("asn")), "AS number",
                           "two provinces cannot share an AS: remove one pin")


def _pinned_addresses(intent: Intent) -> Iterator[tuple[str, Location]]:
    for site, dev in intent.devices:
        for fam in ("ipv4", "ipv6"):
            if dev.get("loopback", {}).get(fam):
                yield str(ipaddress.ip_address(dev["loopback"][fam])), dev["loopback"].where(fam)
        if dev.get("mgmt"):
            yield str(ipaddress.ip_address(dev["mgmt"])), dev.where("mgmt")
    for srv in intent.network["servers"]:
        yield str(ipaddress.ip_address(srv["address"])), srv.where("address")


@rule("unique.address", "pinned host addresses (loopbacks, management, servers) are unique")
def address(intent: Intent):
    yield from _duplicates(_pinned_addresses(intent), "address", "every host address is used once: change one")
