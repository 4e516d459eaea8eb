"""The jinja2 environment templates render in: strict, whitespace-tidy, print-only filters."""
from __future__ import annotations

import io
import ipaddress
from functools import lru_cache
from pathlib import Path

import jinja2

from ..intent.cache import Cache
from ..text import ascii_text
from .platform import Platform

SECRET_PLACEHOLDER = "<<{ref}>>"  # deploy substitutes the value; builds never hold secrets


def secret(ref: str | None) -> str:
    """A secret reference (`secret:NAME`, `env:VAR`) as the placeholder deploy fills in."""
    if not ref:
        raise jinja2.UndefinedError("a template asked for a secret that the intent does not reference")
    return SECRET_PLACEHOLDER.format(ref=ref)


def _iface(value):
    return value if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)) else _parsed(str(value))


@lru_cache(maxsize=4096)
def _parsed(text: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    """Addresses templates print from text (management ACLs, servers): the same few on every device."""
    return ipaddress.ip_interface(text)


_UNIT = {"K": 1, "M": 1000, "G": 1000 ** 2, "T": 1000 ** 3}  # kbit/s per unit of a bandwidth ("10G")


def _bandwidth(value: str, per: int) -> int:
    """A bandwidth as the intent writes it (`100M`, `2.5G`) in a platform's unit of `per` kbit/s."""
    kbps = round(float(value[:-1]) * _UNIT[value[-1]])
    if kbps % per:
        raise jinja2.UndefinedError(f"bandwidth {value} is not a whole number of {per} kbit/s")
    return kbps // per


# Formatting only: how a platform spells a value the model already holds.
FILTERS = {
    "ascii_text": ascii_text,
    "kbps": lambda v: _bandwidth(v, 1),  # 10G → 10000000 (Comware `bandwidth`, kbit/s)
    "mbps": lambda v: _bandwidth(v, 1000),  # 10G → 10000 (VRP `bandwidth`, Mbit/s)
    "ip": lambda v: str(_iface(v).ip),  # 10.0.0.1/31 → 10.0.0.1
    "prefixlen": lambda v: _iface(v).network.prefixlen,
    "netmask": lambda v: str(_iface(v).network.netmask),  # → 255.255.255.254
    "wildcard": lambda v: str(_iface(v).network.hostmask),  # → 0.0.0.1 (Huawei/H3C ACLs)
    "network": lambda v: str(_iface(v).network.network_address),
    "cidr": lambda v: str(_iface(v).network),  # → 10.0.0.0/31
}


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once and kept (jinja2 checks each against its source's checksum): a
    process compiles the shipped ones in ~50 ms, and loads them in ~4 — each of a build's
    processes does it once. Kept as entries of netgen's cache (`directory` is one of its kinds'),
    so each is signed and checked before jinja2 unmarshals it: bad code objects crash Python.
    A directory that is no open cache's keeps nothing; one that cannot be written is not used."""

    def __init__(self, directory: str):
        self.cache, self.kind = Cache.at(directory), Path(directory).name

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.cache.read(self.kind, bucket.key) if self.cache is not None else None
        if data is not None:
            bucket.load_bytecode(io.BytesIO(data))  # jinja2 then checks the source's checksum

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.cache is not None:
            out = io.BytesIO()
            bucket.write_bytecode(out)
            self.cache.write(self.kind, bucket.key, out.getvalue())


def make_environment(platform: Platform, compiled: str | None = None) -> jinja2.Environment:
    """The environment a platform's templates render in; `compiled` is a directory to keep them
    compiled in (netgen's cache), or None."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(platform.directory)),
        bytecode_cache=_CompiledTemplates(compiled) if compiled else None,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,  # templates do not change during a build: no stat per include per device
    )
    env.filters["ifname"] = lambda iface, vlan=None: platform.ifname(iface.port, vlan if vlan is not None
                                                                    else iface.vlan, iface.kind, iface.port_name)
    # the physical port an interface (a sub-interface's parent) sits on
    env.filters["portname"] = lambda iface: platform.ifname(iface.port, None, iface.kind, iface.port_name)
    env.filters["secret"] = secret
    env.filters.update(FILTERS)
    env.globals["platform"] = platform
    return env
