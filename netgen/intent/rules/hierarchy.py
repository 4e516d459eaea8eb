"""The site tree: one centre, each site's parent one level up, uplinks that follow the tree."""
from __future__ import annotations

from ..intent import LEVEL_RANK, Intent
from . import Finding, rule
from ...diagnostics import Severity


@rule("hierarchy.central", "exactly one central site, and it has no parent")
def central(intent: Intent):
    centrals = [s for s in intent.sites if s["level"] == "central"]
    if not centrals and intent.sites:
        s = intent.sites[0]
        yield Finding(s.where(), "the intent has no central site (level: central)",
                      "add the national center's site; every province hangs below it")
    for s in centrals[1:]:
        yield Finding(s.where("level"), f"second central site `{s['id']}`",
                      "there is one national center: make this site a province or below",
                      (centrals[0].where("level"),))
    for s in centrals:
        if s.get("parent"):
            yield Finding(s.where("parent"), f"central site `{s['id']}` has a parent", "remove `parent:`")


@rule("hierarchy.parent", "every non-central site names an existing parent")
def parent_exists(intent: Intent):
    for s in intent.sites:
        if s["level"] == "central":
            continue
        if not s.get("parent"):
            yield Finding(s.where(), f"site `{s['id']}` ({s['level']}) has no parent",
                          "add `parent:` with the id of the site one level up")
        elif s["parent"] not in intent.site:
            yield Finding(s.where("parent"), f"parent `{s['parent']}` of site `{s['id']}` does not exist",
                          "name an existing site id (check the spelling, or add that site)")


@rule("hierarchy.parent-level", "a site's parent is one level up, unless the site says skip_level")
def parent_level(intent: Intent):
    for s in intent.sites:
        p = intent.parent(s)
        if p is None or s["level"] == "central":
            continue
        gap = LEVEL_RANK[s["level"]] - LEVEL_RANK[p["level"]]
        if gap <= 0:
            yield Finding(s.where("parent"), f"{s['level']} `{s['id']}` has parent `{p['id']}` at the same or a "
                          f"lower level ({p['level']})", "a site's parent must be a higher level",
                          (p.where("level"),))
        elif gap > 1 and not s["skip_level"]:
            yield Finding(s.where("parent"), f"{s['level']} `{s['id']}` hangs directly below {p['level']} "
                          f"`{p['id']}`, skipping a level", "set `skip_level: true` if it is administered directly "
                          "(e.g. 省直管县), or give it a parent one level up", (p.where("level"),))


@rule("hierarchy.cycle", "the parent chain never loops")
def cycle(intent: Intent):
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in intent.sites:
        path, cur = [], start
        while cur is not None and state.get(cur["id"]) is None:
            state[cur["id"]] = 1
            path.append(cur)
            cur = intent.parent(cur)
        if cur is not None and state.get(cur["id"]) == 1:
            loop = path[path.index(cur):] if cur in path else [cur]
            names = " → ".join(x["id"] for x in loop + [cur])
            yield Finding(cur.where("parent"), f"parent chain loops: {names}",
                          "break the loop: each site's parent must be one level up")
        for x in path:
            state[x["id"]] = 2


@rule("hierarchy.uplink-peer", "an uplink names an existing device in the same or the parent site")
def uplink_peer(intent: Intent):
    for site, dev in intent.devices:
        for i, up in enumerate(dev["uplinks"]):
            target = intent.device.get(up["peer"])
            if target is None:
                yield Finding(up.where("peer"), f"uplink of `{dev['name']}` goes to unknown device `{up['peer']}`",
                              "name an existing device (check the spelling)")
                continue
            tsite = target[0]
            if up["peer"] == dev["name"]:
                yield Finding(up.where("peer"), f"`{dev['name']}` has an uplink to itself", "remove it")
            elif tsite["id"] not in (site["id"], site.get("parent")):
                yield Finding(up.where("peer"), f"uplink of `{dev['name']}` ({site['id']}) goes to `{up['peer']}` in "
                              f"`{tsite['id']}`, which is neither this site nor its parent",
                              "uplinks follow the hierarchy: connect to a device of the parent site")


@rule("hierarchy.no-uplink", "every non-central site has an uplink to its parent site")
def no_uplink(intent: Intent):
    for s in intent.sites:
        p = intent.parent(s)
        if p is None:
            continue
        if not any(intent.device.get(u["peer"], (None,))[0] is p for d in s["devices"] for u in d["uplinks"]):
            yield Finding(s.where("devices") if s["devices"] else s.where(),
                          f"site `{s['id']}` has no uplink to its parent `{p['id']}`",
                          "add `uplinks:` to one of its devices, with `peer:` a device of the parent site")


@rule("hierarchy.code-prefix", "a site's administrative code lies under its parent's", Severity.WARNING)
def code_prefix(intent: Intent):
    # GB/T 2260: 2 digits province, 2 city, 2 county; townships add 3, villages 3 more.
    keep = {"province": 2, "city": 4, "county": 6, "township": 9}
    for s in intent.sites:
        p = intent.parent(s)
        if p is None or p["level"] not in keep:
            continue
        n = keep[p["level"]]
        if str(s["code"])[:n] != str(p["code"])[:n]:
            yield Finding(s.where("code"), f"code {s['code']} of `{s['id']}` is not under {p['code']} of its parent "
                          f"`{p['id']}`", "check the administrative division code (GB/T 2260) or the parent")
