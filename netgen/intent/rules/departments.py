"""Departments: where they attach, which zones by which access class, their business systems."""
from __future__ import annotations

from ..intent import Intent
from . import Finding, rule


@rule("department.attach", "a department attaches to existing sites, once each, through a device of that site")
def attach(intent: Intent):
    for dept in intent.departments:
        seen: dict[str, object] = {}
        for a in dept["attach"]:
            sid = a["site"]
            if sid not in intent.site:
                yield Finding(a.where("site"), f"`{dept['id']}` attaches at unknown site `{sid}`",
                              "name an existing site id")
                continue
            if sid in seen:
                yield Finding(a.where("site"), f"`{dept['id']}` attaches at `{sid}` twice",
                              "merge the two attachments", (seen[sid].where("site"),))
            seen[sid] = a
            site = intent.site[sid]
            if a.get("device"):
                dev = intent.device.get(a["device"])
                if dev is None or dev[0] is not site:
                    yield Finding(a.where("device"), f"access device `{a['device']}` is not a device of `{sid}`",
                                  f"name one of: {', '.join(d['name'] for d in site['devices']) or '(none)'}")
            elif not any(d["role"] in ("ce", "pe") for d in site["devices"]):
                yield Finding(a.where("site"), f"site `{sid}` has no PE or CE for `{dept['id']}` to attach to",
                              "add an access device to the site, or name one with `device:`")


@rule("department.zones", "access class, dedicated zones and per-site zones agree")
def zones(intent: Intent):
    for dept in intent.departments:
        cls = dept.get("class")
        if cls is None and dept.get("zones") is None:
            yield Finding(dept.where(), f"department `{dept['id']}` has neither `class` nor `zones`",
                          "give its access class (A–F) or list its zones")
            continue
        wants_dedicated = cls is not None and "dedicated" in intent.network["access_classes"].get(cls, {}).get("zones", [])
        if wants_dedicated and not dept["dedicated"]:
            yield Finding(dept.where("class"), f"class {cls} joins a dedicated zone, but `{dept['id']}` names none",
                          "add `dedicated: [ZONE]`, or use a class without a dedicated zone")
        if cls is not None and dept["dedicated"] and not wants_dedicated:
            yield Finding(dept.where("dedicated"), f"class {cls} has no dedicated zone, yet `dedicated` is set",
                          "use class D or E, or remove `dedicated`")
        for i, zid in enumerate(dept["dedicated"]):
            z = intent.zone.get(zid)
            if z is not None and z["kind"] != "dedicated":
                yield Finding(dept["dedicated"].where(i), f"`{zid}` is a {z['kind']} zone, not a dedicated one",
                              "list only dedicated zones under `dedicated`")
        allowed = set(intent.department_zones(dept))
        for a in dept["attach"]:
            extra = [z for z in a.get("zones") or [] if z not in allowed and z in intent.zone]
            for z in extra:
                yield Finding(a.where("zones"), f"`{dept['id']}` joins `{z}` at `{a['site']}`, outside its own zones",
                              f"an attachment narrows the department's zones ({', '.join(sorted(allowed))})")
            for key in ("prefixes", "prefixes6"):
                joined = set(intent.attachment_zones(dept, a))
                for z in a.get(key) or {}:
                    if z in intent.zone and z not in joined:
                        yield Finding(a[key].where(z, of="key"), f"prefix for zone `{z}`, which `{dept['id']}` does "
                                      f"not join at `{a['site']}`", "remove it, or join that zone")


@rule("department.system", "business systems run in zones and at sites the department joins")
def systems(intent: Intent):
    for dept in intent.departments:
        joined = set(intent.department_zones(dept))
        sites = {a["site"] for a in dept["attach"]}
        for s in dept["systems"]:
            if s["zone"] in intent.zone and s["zone"] not in joined:
                yield Finding(s.where("zone"), f"system `{s['name']}` runs in `{s['zone']}`, which `{dept['id']}` "
                              "does not join", f"use one of: {', '.join(sorted(joined))}")
            for i, sid in enumerate(s.get("sites") or []):
                if sid not in sites:
                    yield Finding(s["sites"].where(i), f"system `{s['name']}` runs at `{sid}`, where `{dept['id']}` "
                                  "does not attach", "attach the department there first")
