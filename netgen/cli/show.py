"""`netgen show SITE|DEVICE [DIR]`: the resolved values for one site or device, with origins."""
from __future__ import annotations

import dataclasses
import json

from ._output import add_cache_option, cache_of, intent_dir, nonempty, print_diagnostics


def add_parser(sub) -> None:
    p = sub.add_parser("show", help="show the resolved values of a site or device and where each came from",
                       description="Resolve the intent (without writing the lock file) and show one site or "
                                   "device: every value with its origin — the intent file and line, a schema "
                                   "default, the lock file, a new allocation, or a derivation.")
    p.add_argument("name", type=nonempty("site or device name", 256), help="a site id or device name")
    p.add_argument("directory", nargs="?", help="intent directory (default: ./inventory)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_cache_option(p)


def _plain(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def run(args) -> int:
    from ..model import resolve

    res = resolve(intent_dir(args.directory), cache=cache_of(args))
    if not res.ok:
        print_diagnostics(res.diagnostics)
        return res.exit_code()
    net = res.network
    kind = "device" if args.name in net.devices else "site" if args.name in net.sites else None
    if kind is None:
        import difflib

        close = difflib.get_close_matches(args.name, [*net.sites, *net.devices], n=3)
        print(f"error: no site or device `{args.name}`" + (f"; did you mean {', '.join(close)}?" if close else ""))
        return 1
    obj = net.devices[args.name] if kind == "device" else net.sites[args.name]
    origins = {f: str(o) for (k, n, f), o in net.origins.items() if k == kind and n == args.name}
    if kind == "device":  # a device's links carry their own origins
        for (k, n, f), o in net.origins.items():
            if k == "link" and n.split("#")[0].split("~").count(args.name):
                origins[f"link {n} {f}"] = str(o)
        for key, o in res.allocation.origins.items():
            if key.startswith(f"port/{args.name}/"):
                origins[key] = str(o)
    if args.format == "json":
        print(json.dumps({"kind": kind, "name": args.name, "values": _plain(obj), "origins": origins},
                         ensure_ascii=False, indent=2))
        return 0
    print(_text(kind, obj, origins))
    return 0


def _text(kind: str, obj, origins: dict[str, str]) -> str:
    lines = [f"{kind} {obj.name if kind == 'device' else obj.id}"]

    def row(label: str, value, origin_key: str | None = None) -> None:
        origin = origins.get(origin_key or label)
        lines.append(f"  {label:<14} {value}" + (f"    ({origin})" if origin else ""))

    if kind == "site":
        for label in ("name", "level", "code", "parent", "mlps", "asn"):
            row(label, getattr(obj, label))
        row("pool ipv4", obj.pool4, "pool.ipv4")
        row("pool ipv6", obj.pool6, "pool.ipv6")
        row("devices", ", ".join(obj.devices))
        return "\n".join(lines)
    for label in ("site", "level", "role", "platform", "vendor", "model", "asn", "router_id", "isis_net"):
        row(label, getattr(obj, label))
    hw = obj.hardware
    row("software", f"{hw.software} {hw.release} ({hw.kind}; commit: {hw.commit})", "hardware")
    row("loopback ipv4", obj.loopback4, "loopback.ipv4")
    row("loopback ipv6", obj.loopback6, "loopback.ipv6")
    lines.append("  interfaces")
    for i in obj.interfaces:
        addr = " ".join(str(a) for a in (i.ipv4, i.ipv6) if a)
        where = f" vrf {i.vrf}" if i.vrf else ""
        name = (i.port_name or "loopback") + (f".{i.vlan}" if i.vlan else "")
        cost = f" cost {i.cost}" if i.cost is not None else ""
        lines.append(f"    {name:<28} {i.kind:<9} {addr:<44}{where}{cost}  {i.description}")
    lines.append("  vrfs")
    for v in obj.vrfs:
        lines.append(f"    {v.name:<14} zone {v.zone:<10} rd {v.rd:<20} rt {v.rt}")
    lines.append("  bgp")
    for b in obj.bgp:
        lines.append(f"    {b.kind:<13} {b.peer:<20} {b.peer_address:<16} AS {b.remote_as} {','.join(b.families)}")
    if obj.internet:
        x = obj.internet
        lines.append(f"  internet       {x.isp} {x.address} gw {x.gateway} nat {x.nat_pool} from {','.join(x.nat_from)}")
    m = obj.management
    lines.append(f"  management     MLPS {m.mlps}; ntp {', '.join(m.ntp)}; syslog {', '.join(m.syslog)}; "
                 f"aaa {', '.join(m.aaa_servers)}; snmp {', '.join(m.snmp_managers)}")
    lines.append("  origins")
    for key in sorted(origins):
        lines.append(f"    {key:<40} {origins[key]}")
    return "\n".join(lines)
