"""Devices: domestic equipment where the funding requires it, platforms that match vendors,
transport over the Internet only where allowed and only inside IPsec, baseline references."""
from __future__ import annotations

from ...diagnostics import Severity
from ..intent import LEVEL_RANK, Intent
from . import Finding, rule

PLATFORM_VENDOR = {"huawei_vrp": "huawei", "h3c_comware": "h3c", "zte_zxros": "zte", "ruijie_rgos": "ruijie"}


@rule("equipment.domestic", "equipment bought with funds that require it is domestic (自主可控)")
def domestic(intent: Intent):
    rules = intent.network["domestic"]
    for _, d in intent.devices:
        if d["funding"] in rules["required_for"] and d["vendor"] not in rules["vendors"]:
            yield Finding(d.where("vendor"), f"`{d['name']}` is funded by {d['funding']} but vendor {d['vendor']} "
                          "is not on the domestic list", f"choose a domestic vendor ({', '.join(rules['vendors'])}) "
                          "or change the funding source")


@rule("equipment.platform-vendor", "a device's platform matches its vendor", Severity.WARNING)
def platform_vendor(intent: Intent):
    for _, d in intent.devices:
        want = PLATFORM_VENDOR.get(d["platform"])
        if want and d["vendor"] != want:
            yield Finding(d.where("platform"), f"`{d['name']}`: platform {d['platform']} runs on {want} devices, "
                          f"not {d['vendor']}", "check the platform and vendor")


@rule("transport.internet", "Internet transport only at city level and below, and always inside IPsec")
def internet_transport(intent: Intent):
    for site, d in intent.devices:
        for up in d["uplinks"]:
            if up["transport"] != "internet":
                continue
            if LEVEL_RANK[site["level"]] < LEVEL_RANK["city"]:
                yield Finding(up.where("transport"), f"{site['level']} `{site['id']}` uplink rides the Internet",
                              "the backbone above city level uses leased lines")
            if not up["ipsec"]:
                yield Finding(up.where("transport"), f"uplink `{d['name']}`–`{up['peer']}` rides the Internet "
                              "without IPsec", "set `ipsec: true`: the extranet is logically isolated from the Internet")


@rule("security.server-ref", "the security baseline names declared servers that offer the service")
def server_ref(intent: Intent):
    servers = {s["id"]: s for s in intent.network["servers"]}
    sec = intent.network["security"]
    needs = [("ntp", sec["ntp"], "ntp"), ("syslog", sec["syslog"], "syslog")]
    if sec.get("aaa"):
        needs.append(("aaa", sec["aaa"]["servers"], "radius" if sec["aaa"]["protocol"] == "radius" else "tacacs"))
    if sec.get("snmp"):
        needs.append(("snmp", sec["snmp"]["managers"], "snmp"))
    for what, refs, service in needs:
        for i, ref in enumerate(refs):
            srv = servers.get(ref)
            if srv is None:
                yield Finding(refs.where(i), f"{what} names unknown server `{ref}`",
                              f"declare it under network.servers (known: {', '.join(sorted(servers)) or 'none'})")
            elif service not in srv["services"]:
                yield Finding(refs.where(i), f"{what} names `{ref}`, which does not offer {service}",
                              f"add {service} to its services, or name another server")
