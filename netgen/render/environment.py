"""The jinja2 environment templates render in: strict, whitespace-tidy, print-only filters."""
from __future__ import annotations

import ipaddress

import jinja2

from .platform import Platform

SECRET_PLACEHOLDER = "<<{ref}>>"  # deploy substitutes the value; builds never hold secrets


def secret(ref: str | None) -> str:
    """A secret reference (`secret:NAME`, `env:VAR`) as the placeholder deploy fills in."""
    if not ref:
        raise jinja2.UndefinedError("a template asked for a secret that the intent does not reference")
    return SECRET_PLACEHOLDER.format(ref=ref)


def _iface(value):
    return value if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)) \
        else ipaddress.ip_interface(str(value))


# Formatting only: how a platform spells a value the model already holds.
FILTERS = {
    "ip": lambda v: str(_iface(v).ip),  # 10.0.0.1/31 → 10.0.0.1
    "prefixlen": lambda v: _iface(v).network.prefixlen,
    "netmask": lambda v: str(_iface(v).network.netmask),  # → 255.255.255.254
    "wildcard": lambda v: str(_iface(v).network.hostmask),  # → 0.0.0.1 (Huawei/H3C ACLs)
    "network": lambda v: str(_iface(v).network.network_address),
    "cidr": lambda v: str(_iface(v).network),  # → 10.0.0.0/31
}


def make_environment(platform: Platform) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(platform.directory)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["ifname"] = lambda iface, vlan=None: platform.ifname(iface.port, vlan if vlan is not None
                                                                    else iface.vlan, iface.kind)
    env.filters["portname"] = lambda port, vlan=None: platform.ifname(port, vlan)
    env.filters["secret"] = secret
    env.filters.update(FILTERS)
    env.globals["platform"] = platform
    return env
