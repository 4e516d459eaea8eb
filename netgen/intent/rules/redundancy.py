"""Redundancy by MLPS level (GB/T 22239-2019): level 3 and up needs redundant lines and
key devices — two uplinks to two parent devices, and a route-reflector pair."""
from __future__ import annotations

from ...diagnostics import Severity
from ..intent import Intent
from . import Finding, rule


def _reflectors(site) -> list:
    return [d for d in site["devices"] if d["role"] == "rr" or d["reflector"]]


@rule("redundancy.uplinks", "a site at MLPS level 3 or higher has two uplinks to two different parent devices")
def uplinks(intent: Intent):
    for s in intent.sites:
        p = intent.parent(s)
        level = intent.site_mlps[s["id"]]
        if p is None or level < 3:
            continue
        ups = [(d, u) for d in s["devices"] for u in d["uplinks"]
               if intent.device.get(u["peer"], (None,))[0] is p]
        peers = {u["peer"] for _, u in ups}
        if len(peers) < 2:
            yield Finding(s.where("devices") if s["devices"] else s.where(),
                          f"site `{s['id']}` is at MLPS level {level} but has {len(ups)} uplink(s) to "
                          f"{len(peers)} device(s) of `{p['id']}`",
                          "add a second uplink to a different device of the parent site (two devices, two lines, "
                          "ideally two carriers)")


@rule("redundancy.rr-pair", "the centre and each province have a pair of route reflectors")
def rr_pair(intent: Intent):
    for s in intent.sites:
        if s["level"] in ("central", "province"):
            n = len(_reflectors(s))
            if n < 2:
                yield Finding(s.where("devices") if s["devices"] else s.where(),
                              f"{s['level']} site `{s['id']}` has {n} route reflector(s)",
                              "mark two devices `reflector: true` (or role: rr): BGP must survive one failing")


@rule("redundancy.carriers", "a site's redundant uplinks use different carriers", Severity.WARNING)
def carriers(intent: Intent):
    for s in intent.sites:
        if intent.site_mlps[s["id"]] < 3 or intent.parent(s) is None:
            continue
        p = intent.parent(s)
        ups = [u for d in s["devices"] for u in d["uplinks"] if intent.device.get(u["peer"], (None,))[0] is p]
        named = [u["carrier"] for u in ups if u.get("carrier")]
        if len(ups) >= 2 and len(named) == len(ups) and len(set(named)) == 1:
            yield Finding(ups[1].where("carrier"), f"both uplinks of `{s['id']}` use {named[0]}",
                          "use two carriers so that one outage cannot cut the site off")
