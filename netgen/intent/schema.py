"""The intent format's structure, types and defaults — the only place defaults live.

Every file is validated against FILE_SCHEMA with cerberus: unknown keys are errors, and the
custom `check_with` checks below give messages a person can act on ("host bits set: did you
mean 10.36.0.0/16?") where a bare type name would not.
"""
from __future__ import annotations

import ipaddress
import re

import cerberus

from .tree import Map, Seq

LEVELS = ("central", "province", "city", "county", "township", "village")
ROLES = ("pe", "rr", "ce", "exit", "firewall")
PLATFORMS = ("huawei_vrp", "h3c_comware", "frr", "zte_zxros", "ruijie_rgos")
ZONE_KINDS = ("public", "dedicated", "internet", "office", "management", "intranet")
ACCESS_CLASSES = ("A", "B", "C", "D", "E", "F")
VIA = ("firewall", "nat-firewall", "secure-access", "front-end")
SERVICES = ("ntp", "syslog", "tacacs", "radius", "snmp", "nms")

NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")
BANDWIDTH_RE = re.compile(r"[1-9][0-9]*(\.[0-9]+)?[KMGT]\Z")
SECRET_REF_RE = re.compile(r"(secret|env):[A-Za-z0-9_.\-/]+\Z")

# What each access class (Anhui DB34/T 3607-2020) joins; `exit` says whose Internet exit.
DEFAULT_ACCESS_CLASSES = {
    "A": {"zones": ["public"]},
    "B": {"zones": ["public", "internet"], "exit": "unified"},
    "C": {"zones": ["public", "internet"], "exit": "own"},
    "D": {"zones": ["public", "dedicated", "internet"], "exit": "unified"},
    "E": {"zones": ["public", "dedicated", "internet"], "exit": "own"},
    "F": {"zones": ["public", "office"]},
}


def _per_level(default: dict[str, int], lo: int, hi: int) -> dict:
    return {
        "type": "dict",
        "default": dict(default),
        "schema": {lvl: {"type": "integer", "min": lo, "max": hi, "default": default[lvl]} for lvl in LEVELS},
    }


def _s(**kw) -> dict:
    return {"type": "string", **kw}


NAME = {"type": "string", "check_with": "name"}
NAME_LIST = {"type": "list", "schema": NAME}
V4NET = {"type": "string", "check_with": "ipv4_network"}
V6NET = {"type": "string", "check_with": "ipv6_network"}
V4ADDR = {"type": "string", "check_with": "ipv4_address"}
V6ADDR = {"type": "string", "check_with": "ipv6_address"}
V4IFACE = {"type": "string", "check_with": "ipv4_interface"}
SECRET = {"type": "string"}  # must be a secret:/env: reference; checked by the secrets rule
PREFIX_PAIR = {"type": "dict", "schema": {"ipv4": V4NET, "ipv6": V6NET}}
ADDR_PAIR = {"type": "dict", "schema": {"ipv4": V4ADDR, "ipv6": V6ADDR}}

_POOLS = {
    "ipv4": {"type": "dict", "required": True, "schema": {
        "national": dict(V4NET, required=True), "loopbacks": dict(V4NET, required=True),
        "links": dict(V4NET, required=True), "management": dict(V4NET, required=True)}},
    "ipv6": {"type": "dict", "schema": {
        "national": dict(V6NET, required=True), "loopbacks": dict(V6NET, required=True),
        "links": dict(V6NET, required=True), "management": dict(V6NET, required=True)}},
}

NETWORK = {
    "type": "dict",
    "schema": {
        "id": dict(NAME, required=True),
        "name": _s(required=True, empty=False),
        "asn": {"type": "dict", "required": True, "schema": {
            "scheme": _s(allowed=["per-province", "single"], default="per-province"),
            "base": {"type": "integer", "check_with": "asn", "default": 4200000000},
            "backbone": {"type": "integer", "check_with": "asn"},  # the one AS when scheme is single
        }},
        "addressing": {"type": "dict", "required": True, "schema": {
            **_POOLS,
            "pool_length": {"type": "dict", "default": {}, "schema": {
                "ipv4": _per_level({"central": 16, "province": 16, "city": 21, "county": 24,
                                    "township": 27, "village": 29}, 8, 30),
                "ipv6": _per_level({"central": 40, "province": 40, "city": 44, "county": 48,
                                    "township": 52, "village": 56}, 16, 64),
            }},
            "lan_length": {"type": "dict", "default": {}, "schema": {
                "ipv4": _per_level({"central": 24, "province": 24, "city": 25, "county": 26,
                                    "township": 28, "village": 29}, 16, 30),
                "ipv6": _per_level({lvl: 64 for lvl in LEVELS}, 48, 64),
            }},
            "link_length": {"type": "dict", "default": {}, "schema": {
                "ipv4": {"type": "integer", "allowed": [30, 31], "default": 31},
                "ipv6": {"type": "integer", "allowed": [64, 126, 127], "default": 127},
            }},
        }},
        "routing": {"type": "dict", "default": {}, "schema": {
            "igp": _s(allowed=["isis", "ospf"], default="isis"),
            # IS-IS area; by default 49.00PP from the province code (Jiangxi 36 → 49.0036)
            "isis_area": {"type": "string", "regex": r"[0-9a-fA-F]{2}(\.[0-9a-fA-F]{4}){1,6}"},
            "ospf_area": {"type": "integer", "min": 0, "default": 0},
            "ldp": {"type": "boolean", "default": True},
            # IGP cost of a link = reference / link bandwidth (100G: a 10G link costs 10, 100M 1,000)
            "reference_bandwidth": {"type": "string", "default": "100G", "check_with": "bandwidth"},
        }},
        "vpn": {"type": "dict", "default": {}, "schema": {
            # RD <loopback>:<vpn-id> and RT <asn>:<vpn-id> (DOMAIN.md §3); the RT's AS is the
            # central AS so that one zone's routes meet across provinces.
            "rd": _s(allowed=["loopback"], default="loopback"),
            "rt": _s(allowed=["central-asn"], default="central-asn"),
        }},
        "mlps": _per_level({"central": 3, "province": 3, "city": 3, "county": 2, "township": 2, "village": 2}, 1, 4),
        "access_classes": {
            "type": "dict", "default": DEFAULT_ACCESS_CLASSES,
            "keysrules": {"type": "string", "allowed": list(ACCESS_CLASSES)},
            "valuesrules": {"type": "dict", "schema": {
                "zones": {"type": "list", "required": True,
                          "schema": _s(allowed=["public", "dedicated", "internet", "office"])},
                "exit": _s(allowed=["unified", "own"]),
            }},
        },
        "domestic": {"type": "dict", "default": {}, "schema": {
            "required_for": {"type": "list", "schema": NAME, "default": ["central-subsidy"]},
            "vendors": {"type": "list", "schema": NAME, "default": [
                "huawei", "h3c", "zte", "ruijie", "maipu", "fiberhome", "hillstone", "sangfor",
                "topsec", "venustech", "qianxin"]},
        }},
        "servers": {"type": "list", "default": [], "schema": {"type": "dict", "schema": {
            "id": dict(NAME, required=True),
            "address": dict(V4ADDR, required=True),
            "ipv6": V6ADDR,
            "services": {"type": "list", "required": True, "empty": False, "schema": _s(allowed=list(SERVICES))},
        }}},
        "security": {"type": "dict", "default": {}, "schema": {
            "ntp": dict(NAME_LIST, default=[]),
            "syslog": dict(NAME_LIST, default=[]),
            "aaa": {"type": "dict", "schema": {
                "servers": dict(NAME_LIST, required=True, empty=False),
                "protocol": _s(allowed=["hwtacacs", "radius"], default="hwtacacs"),
                "key": dict(SECRET, required=True),
            }},
            "snmp": {"type": "dict", "schema": {
                "managers": dict(NAME_LIST, required=True, empty=False),
                "user": dict(NAME, required=True),
                "auth": _s(allowed=["sha", "sha256", "sha512"], default="sha256"),
                "auth_key": dict(SECRET, required=True),
                "priv": _s(allowed=["aes128", "aes256"], default="aes128"),
                "priv_key": dict(SECRET, required=True),
            }},
            "login": {"type": "dict", "default": {}, "schema": {
                "ssh_only": {"type": "boolean", "default": True},
                "max_failures": {"type": "integer", "min": 1, "max": 20, "default": 5},
                "lockout_minutes": {"type": "integer", "min": 1, "max": 1440, "default": 30},
                "idle_timeout_minutes": {"type": "integer", "min": 1, "max": 60, "default": 10},
                "password_min_length": {"type": "integer", "min": 8, "max": 32, "default": 12},
            }},
            "management_acl": {"type": "list", "default": [], "schema": V4NET},
            "banner": _s(default=""),
        }},
    },
}

ZONE = {
    "type": "dict",
    "schema": {
        "id": dict(NAME, required=True),
        "name": _s(required=True, empty=False),
        "kind": _s(required=True, allowed=list(ZONE_KINDS)),
        "vpn_id": {"type": "integer", "required": True, "min": 1, "max": 65535},
        "members": dict(NAME_LIST, default=[]),  # dedicated zones: the departments that may join
        "ipv4": V4NET,  # a dedicated zone's own (department-planned) space
        "ipv6": V6NET,
        "vrf": {"type": "string", "regex": r"[A-Za-z][A-Za-z0-9_-]{0,30}"},  # VRF name; ZW-<ID> by default
        "rt": {"type": "string", "regex": r"[0-9]+(\.[0-9]+)?:[0-9]+"},  # pinned route target
        "allow": {"type": "list", "default": [], "schema": {"type": "dict", "schema": {
            "from": dict(NAME, required=True),
            "via": _s(required=True, allowed=list(VIA)),
        }}},
    },
}

PORT_NAME = r"[0-9]*[A-Za-z][A-Za-z0-9/.:-]{0,63}"  # as a device names a port: 10GE1/0/3, Ten-GigabitEthernet1/0/3

UPLINK = {
    "type": "dict",
    "schema": {
        "peer": dict(NAME, required=True),
        "bandwidth": {"type": "string", "required": True, "check_with": "bandwidth"},
        "carrier": NAME,
        "transport": _s(allowed=["leased", "internet"], default="leased"),
        "ipsec": {"type": "boolean", "default": False},
        "ipv4": V4NET,  # pinned link subnet
        "ipv6": V6NET,
        # pinned physical ports (the cabling), as the model names them: `10GE1/0/3`
        "port": {"type": "string", "regex": PORT_NAME},
        "peer_port": {"type": "string", "regex": PORT_NAME},
    },
}

DEVICE = {
    "type": "dict",
    "schema": {
        "name": dict(NAME, required=True),
        "role": _s(required=True, allowed=list(ROLES)),
        "reflector": {"type": "boolean", "default": False},
        "firewall": {"type": "boolean", "default": False},
        "department": NAME,  # a department's own device (its own Internet exit, class C/E)
        "platform": _s(required=True, allowed=list(PLATFORMS)),
        "vendor": dict(NAME, required=True),
        "model": _s(required=True, empty=False),
        "funding": dict(NAME, default="local"),
        "mgmt": V4ADDR,
        "loopback": ADDR_PAIR,
        "uplinks": {"type": "list", "default": [], "schema": UPLINK},
        "internet": {"type": "dict", "schema": {
            "isp": dict(NAME, required=True),
            "address": dict(V4IFACE, required=True),
            "gateway": dict(V4ADDR, required=True),
            "nat_pool": dict(V4NET, required=True),
        }},
        "external": {"type": "list", "default": [], "schema": {"type": "dict", "schema": {
            "peer": _s(required=True, empty=False),
            "network": _s(required=True, allowed=["department-lan", "carrier", "partner", "intranet"]),
            "description": _s(),
        }}},
    },
}

SITE = {
    "type": "dict",
    "schema": {
        "id": dict(NAME, required=True),
        "name": _s(required=True, empty=False),
        "level": _s(required=True, allowed=list(LEVELS)),
        "code": {"type": "integer", "required": True, "check_with": "admin_code"},
        "parent": NAME,
        "skip_level": {"type": "boolean", "default": False},
        "region": NAME,
        "mlps": {"type": "integer", "min": 1, "max": 4},
        "asn": {"type": "integer", "check_with": "asn"},  # pinned
        "prefix": PREFIX_PAIR,  # pinned pool
        "pool_length": {"type": "dict", "schema": {
            "ipv4": {"type": "integer", "min": 8, "max": 30}, "ipv6": {"type": "integer", "min": 16, "max": 64}}},
        "devices": {"type": "list", "default": [], "schema": DEVICE},
    },
}

DEPARTMENT = {
    "type": "dict",
    "schema": {
        "id": dict(NAME, required=True),
        "name": _s(required=True, empty=False),
        "class": _s(allowed=list(ACCESS_CLASSES), excludes="zones"),
        "zones": dict(NAME_LIST, excludes="class"),
        "dedicated": dict(NAME_LIST, default=[]),
        "attach": {"type": "list", "required": True, "empty": False, "schema": {"type": "dict", "schema": {
            "site": dict(NAME, required=True),
            "device": NAME,  # the access device; by default the site's first CE, else PE
            "exit": NAME,  # the department's own exit (class C/E)
            "zones": NAME_LIST,  # narrows the department's zones at this site
            "prefixes": {"type": "dict", "keysrules": NAME, "valuesrules": V4NET},
            "prefixes6": {"type": "dict", "keysrules": NAME, "valuesrules": V6NET},
        }}},
        "systems": {"type": "list", "default": [], "schema": {"type": "dict", "schema": {
            "name": _s(required=True, empty=False),
            "zone": dict(NAME, required=True),
            "mlps": {"type": "integer", "required": True, "min": 1, "max": 4},
            "sites": NAME_LIST,  # where it runs; all the department's sites by default
        }}},
    },
}

FILE_SCHEMA = {
    "network": NETWORK,
    "zones": {"type": "list", "schema": ZONE},
    "departments": {"type": "list", "schema": DEPARTMENT},
    "sites": {"type": "list", "schema": SITE},
}
SECTIONS = tuple(FILE_SCHEMA)


# ------------------------------------------------------------------ value checks
# Each returns what is wrong with a value, in words a person can act on, or None. cerberus runs
# them through `check_with` (IntentValidator below); the compiled fast path (precheck.py) too.


def check_name(value) -> str | None:
    if isinstance(value, str) and not NAME_RE.match(value):
        return (f"`{value}` is not a valid name: use lower-case letters, digits and hyphens, starting with a "
                "letter (at most 63)")
    return None


def _network(cls, fam: str):
    def check(value) -> str | None:
        if not isinstance(value, str):
            return None
        try:
            cls(value)
        except ValueError as exc:
            try:
                return f"`{value}` has host bits set: did you mean {cls(value, strict=False)}?"
            except ValueError:
                return f"`{value}` is not an {fam} network (address/length): {exc}"
        return None
    return check


def _address(cls, fam: str):
    def check(value) -> str | None:
        if isinstance(value, str):
            try:
                cls(value)
            except ValueError:
                return f"`{value}` is not an {fam} address"
        return None
    return check


check_ipv4_network = _network(ipaddress.IPv4Network, "IPv4")
check_ipv6_network = _network(ipaddress.IPv6Network, "IPv6")
check_ipv4_address = _address(ipaddress.IPv4Address, "IPv4")
check_ipv6_address = _address(ipaddress.IPv6Address, "IPv6")


def check_ipv4_interface(value) -> str | None:
    if isinstance(value, str):
        try:
            ipaddress.IPv4Interface(value)
            if "/" not in value:
                raise ValueError
        except ValueError:
            return f"`{value}` is not an IPv4 address with a prefix length (e.g. 203.0.113.2/30)"
    return None


def check_asn(value) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= 4294967294 or value in (23456, 65535):
            return f"{value} is not a usable AS number (1–4294967294, not 23456 or 65535)"
    return None


def check_admin_code(value) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) not in (6, 9, 12):
        return (f"{value} is not an administrative division code: 6 digits (GB/T 2260) down to county, 9 for a "
                "township, 12 for a village")
    return None


def check_bandwidth(value) -> str | None:
    if isinstance(value, str) and not BANDWIDTH_RE.match(value):
        return f"`{value}` is not a bandwidth: write a number and a unit, e.g. 100M, 1G, 2.5G"
    return None


VALUE_CHECKS = {"name": check_name, "ipv4_network": check_ipv4_network, "ipv6_network": check_ipv6_network,
                "ipv4_address": check_ipv4_address, "ipv6_address": check_ipv6_address,
                "ipv4_interface": check_ipv4_interface, "asn": check_asn, "admin_code": check_admin_code,
                "bandwidth": check_bandwidth}


class IntentValidator(cerberus.Validator):
    """cerberus with the intent's value checks (cerberus finds them by these method names)."""

    def _report(self, field, problem: str | None) -> None:
        if problem:
            self._error(field, problem)

    def _check_with_name(self, field, value):
        self._report(field, check_name(value))

    def _check_with_ipv4_network(self, field, value):
        self._report(field, check_ipv4_network(value))

    def _check_with_ipv6_network(self, field, value):
        self._report(field, check_ipv6_network(value))

    def _check_with_ipv4_address(self, field, value):
        self._report(field, check_ipv4_address(value))

    def _check_with_ipv6_address(self, field, value):
        self._report(field, check_ipv6_address(value))

    def _check_with_ipv4_interface(self, field, value):
        self._report(field, check_ipv4_interface(value))

    def _check_with_asn(self, field, value):
        self._report(field, check_asn(value))

    def _check_with_admin_code(self, field, value):
        self._report(field, check_admin_code(value))

    def _check_with_bandwidth(self, field, value):
        self._report(field, check_bandwidth(value))


def make_validator() -> IntentValidator:
    return IntentValidator(FILE_SCHEMA, allow_unknown=False)


def apply_defaults(schema: dict, doc: Map) -> None:
    """Fill in the schema's `default`s, in place, below a document cerberus found valid.

    cerberus can do this itself (normalisation), but it is ~35x slower than validating and
    drops the source map; this walks the same schema so the defaults still live only here.
    Containers a default adds take their parent's position, with no locations of their own.
    """
    for key, rules in schema.items():
        if key not in doc:
            if "default" not in rules:
                continue
            doc[key] = _materialise(rules["default"], doc)
        value = doc[key]
        if isinstance(value, dict):
            if "schema" in rules:
                apply_defaults(rules["schema"], value)
            elif "valuesrules" in rules and "schema" in rules["valuesrules"]:
                for item in value.values():
                    if isinstance(item, dict):
                        apply_defaults(rules["valuesrules"]["schema"], item)
        elif isinstance(value, list) and "schema" in rules and "schema" in rules["schema"]:
            for item in value:
                if isinstance(item, dict):
                    apply_defaults(rules["schema"]["schema"], item)


def _materialise(default, anchor: Map | Seq):
    """A fresh Map/Seq copy of a default value, positioned at `anchor`."""
    if isinstance(default, dict):
        out = Map(anchor.file, anchor.line, anchor.col)
        for k, v in default.items():
            out[k] = _materialise(v, anchor)
        return out
    if isinstance(default, list):
        out = Seq(anchor.file, anchor.line, anchor.col)
        out.extend(_materialise(v, anchor) for v in default)
        return out
    return default
