"""Zones and their isolation (DOMAIN.md §2): references resolve, isolation policy holds,
Internet only through a firewalled exit, and never anything towards the intranet."""
from __future__ import annotations

from ..intent import Intent
from . import Finding, rule

SINGLETONS = ("public", "internet", "office", "management")


@rule("zone.intranet", "nothing connects the extranet to the government intranet (政务内网)")
def intranet(intent: Intent):
    hint = ("the extranet and the intranet are physically isolated (seeds 002, 004): remove this; "
            "it is an error, never a warning")
    for z in intent.zones:
        if z["kind"] == "intranet":
            yield Finding(z.where("kind"), f"zone `{z['id']}` is an intranet zone", hint)
    for _, d in intent.devices:
        for ext in d["external"]:
            if ext["network"] == "intranet":
                yield Finding(ext.where("network"), f"`{d['name']}` has a link to the intranet (`{ext['peer']}`)", hint)


@rule("zone.singleton", "there is exactly one public, internet, office and management zone")
def singleton(intent: Intent):
    for kind in SINGLETONS:
        found = intent.zones_of_kind(kind)
        for z in found[1:]:
            yield Finding(z.where("kind"), f"second {kind} zone `{z['id']}`",
                          f"there is one {kind} zone network-wide; use a dedicated zone for a separate VPN",
                          (found[0].where("kind"),))
    if intent.zones and not intent.zones_of_kind("public"):
        yield Finding(intent.zones[0].where(), "no public zone (kind: public)",
                      "add the public zone (公用网络区): every department joins it")


@rule("zone.ref", "every zone a policy, department or system names exists")
def refs(intent: Intent):
    def missing(zid, loc, what):
        if zid not in intent.zone:
            return Finding(loc, f"{what} names unknown zone `{zid}`",
                           f"known zones: {', '.join(sorted(intent.zone))}")
        return None

    for z in intent.zones:
        for p in z["allow"]:
            if f := missing(p["from"], p.where("from"), f"the policy of zone `{z['id']}`"):
                yield f
    for dept in intent.departments:
        for key in ("zones", "dedicated"):
            for i, zid in enumerate(dept.get(key) or []):
                if f := missing(zid, dept[key].where(i), f"department `{dept['id']}`"):
                    yield f
        for a in dept["attach"]:
            for i, zid in enumerate(a.get("zones") or []):
                if f := missing(zid, a["zones"].where(i), f"attachment of `{dept['id']}` at `{a['site']}`"):
                    yield f
            for key in ("prefixes", "prefixes6"):
                for zid in a.get(key) or {}:
                    if f := missing(zid, a[key].where(zid, of="key"), f"a prefix of `{dept['id']}` at `{a['site']}`"):
                        yield f
        for s in dept["systems"]:
            if f := missing(s["zone"], s.where("zone"), f"system `{s['name']}`"):
                yield f


@rule("zone.isolation", "zone policies keep the isolation the national plan requires")
def isolation(intent: Intent):
    for z in intent.zones:
        for p in z["allow"]:
            src = intent.zone.get(p["from"])
            if src is None:
                continue
            kinds = {z["kind"], src["kind"]}
            loc = p.where("from")
            if src is z:
                yield Finding(loc, f"zone `{z['id']}` allows traffic from itself", "remove the entry: it says nothing")
            elif z["kind"] == "management":
                yield Finding(loc, f"the management zone allows traffic from `{src['id']}`",
                              "nothing reaches the management zone except the NMS inside it")
            elif z["kind"] == "dedicated" and src["kind"] == "dedicated":
                yield Finding(loc, f"dedicated zones `{src['id']}` and `{z['id']}` are opened to each other",
                              "each dedicated VPN is isolated from every other")
            elif kinds == {"office", "internet"}:
                yield Finding(loc, f"zone `{z['id']}` allows traffic from `{src['id']}`: the office zone and the "
                              "Internet never meet", "remove the entry")
            elif "office" in kinds:
                yield Finding(loc, f"the office zone is opened to `{src['id'] if z['kind'] == 'office' else z['id']}`",
                              "the office zone is isolated from the other applications")


@rule("zone.dedicated-member", "a dedicated zone is used only by its member departments")
def dedicated_member(intent: Intent):
    for dept in intent.departments:
        for zid in set(intent.department_zones(dept)) | {z for a in dept["attach"] for z in a.get("zones") or []}:
            zone = intent.zone.get(zid)
            if zone is not None and zone["kind"] == "dedicated" and dept["id"] not in zone["members"]:
                yield Finding(dept.where("dedicated" if dept.written("dedicated") else "zones"),
                              f"department `{dept['id']}` joins dedicated zone `{zid}`, which is not its own",
                              f"add `{dept['id']}` to the members of `{zid}` if the zone's owner approves",
                              (zone.where("members"),))
    for z in intent.zones:
        for i, member in enumerate(z["members"]):
            if member not in intent.department:
                yield Finding(z["members"].where(i), f"zone `{z['id']}` lists unknown department `{member}`",
                              "name an existing department id")
        if z["members"] and z["kind"] != "dedicated":
            yield Finding(z.where("members"), f"{z['kind']} zone `{z['id']}` has members",
                          "only dedicated zones restrict membership: remove `members`")


def _has_firewall(intent: Intent, site, dev) -> bool:
    return dev["firewall"] or any(d["role"] == "firewall" for d in site["devices"])


@rule("zone.exit-firewall", "every Internet exit has a firewall")
def exit_firewall(intent: Intent):
    for site, dev in intent.devices:
        if dev.get("internet") and dev["role"] != "exit":
            yield Finding(dev.where("internet"), f"`{dev['name']}` has an Internet connection but role {dev['role']}",
                          "only a device with role: exit may connect to the Internet")
        if dev["role"] == "exit":
            if not _has_firewall(intent, site, dev):
                yield Finding(dev.where("role"), f"Internet exit `{dev['name']}` has no firewall",
                              "set `firewall: true` (integrated firewall) or add a device with role: firewall "
                              "at this site: the Internet zone is reached only through a firewall")
            if not dev.get("internet"):
                yield Finding(dev.where("role"), f"Internet exit `{dev['name']}` has no `internet:` connection",
                              "add its ISP, registered address, gateway and NAT pool")


@rule("zone.internet-exit", "whoever joins the Internet zone reaches it through a firewalled exit")
def internet_exit(intent: Intent):
    inet = {z["id"] for z in intent.zones_of_kind("internet")}
    exits_at: dict[str, list] = {}
    for site, dev in intent.devices:
        if dev["role"] == "exit" and not dev.get("department"):
            exits_at.setdefault(site["id"], []).append(dev)
    for dept in intent.departments:
        own = intent.exit_mode(dept) == "own"
        for a in dept["attach"]:
            if not inet & set(intent.attachment_zones(dept, a)):
                continue
            site = intent.site.get(a["site"])
            if site is None:
                continue
            if own:
                ex = intent.device.get(a.get("exit") or "")
                if not a.get("exit"):
                    yield Finding(a.where(), f"`{dept['id']}` (class {dept.get('class')}) brings its own exit, but its "
                                  f"attachment at `{site['id']}` names none", "add `exit:` naming its exit device")
                elif ex is None or ex[1]["role"] != "exit" or ex[0] is not site or ex[1].get("department") != dept["id"]:
                    yield Finding(a.where("exit"), f"`{a['exit']}` is not an exit of `{dept['id']}` at `{site['id']}`",
                                  "name a device of this site with role: exit and department: " + dept["id"])
            elif not any(exits_at.get(s["id"]) for s in [site, *intent.ancestors(site)]):
                yield Finding(a.where(), f"`{dept['id']}` at `{site['id']}` joins the Internet zone, but no unified "
                              "exit exists at this site or above", "add an exit device (role: exit, firewall: true) "
                              "at this level or a level above, or drop the Internet zone from this attachment")
