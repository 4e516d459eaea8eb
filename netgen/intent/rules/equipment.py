"""Devices: domestic equipment where the funding requires it, platforms that match vendors,
models netgen has a hardware profile of and ports they have, transport over the Internet only
where allowed and only inside IPsec, baseline references."""
from __future__ import annotations

import difflib

from ...diagnostics import Severity
from ...hardware import mbps, models_of, profile, speed_text
from ...text import ascii_text
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


@rule("equipment.model", "every device model has a hardware profile of its platform (ports, software, commit)")
def model_known(intent: Intent):
    for _, d in intent.devices:
        prof = profile(d["model"])
        known = models_of(d["platform"])
        if prof is None:
            close = difflib.get_close_matches(d["model"], known, n=1)
            hint = (f"did you mean `{close[0]}`? " if close else "") + \
                (f"models of {d['platform']}: {', '.join(known)}" if known else f"netgen has no {d['platform']} model")
            yield Finding(d.where("model"), f"`{d['name']}`: no hardware profile for model `{d['model']}`",
                          hint + " — or add the model's profile to netgen/hardware/")
        elif prof.hardware.platform != d["platform"]:
            yield Finding(d.where("model"), f"`{d['name']}`: model `{d['model']}` runs {prof.hardware.platform}, "
                          f"not {d['platform']}", f"set `platform: {prof.hardware.platform}` or choose a "
                          f"{d['platform']} model ({', '.join(known) or 'none known'})")


@rule("equipment.port", "a pinned port exists on the device's model and is fast enough for its link")
def pinned_ports(intent: Intent):
    for _, d in intent.devices:
        for up in d["uplinks"]:
            peer = intent.device.get(up["peer"])
            for key, dev in (("port", d), ("peer_port", peer[1] if peer else None)):
                name = up.get(key)
                prof = profile(dev["model"]) if name and dev is not None else None
                if prof is None:
                    continue  # no pin, or equipment.model / hierarchy.uplink-peer report it
                port = prof.by_name.get(name)
                if port is None:
                    close = difflib.get_close_matches(name, list(prof.by_name), n=3)
                    yield Finding(up.where(key), f"`{dev['name']}` ({dev['model']}) has no port `{name}`",
                                  f"did you mean {', '.join(close)}?" if close else
                                  f"its ports: {prof.ports[0].name} … {prof.ports[-1].name}")
                elif port.speed < mbps(up["bandwidth"]):
                    yield Finding(up.where(key), f"port `{name}` of `{dev['name']}` runs at {speed_text(port.speed)}, "
                                  f"less than the link's {up['bandwidth']}", "pin a faster port, or lower the bandwidth")


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


@rule("security.banner-ascii", "the login banner is ASCII where devices print only ASCII", Severity.WARNING)
def banner_ascii(intent: Intent):
    banner = intent.network["security"]["banner"]
    if not banner or banner.isascii() or not any(d["platform"] == "huawei_vrp" for _, d in intent.devices):
        return
    kept = ascii_text(banner, '"')  # what templates/huawei_vrp/security.j2 prints of it
    yield Finding(intent.network["security"].where("banner"), "the banner has non-ASCII text, which VRP's "
                  f"`header login` does not take: VRP devices show only `{kept}`",
                  "write the banner in ASCII (pinyin or English) to show the same text on every device")
