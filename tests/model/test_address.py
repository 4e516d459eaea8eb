"""The model's cheaply made addresses are ipaddress's own objects in every way that is read."""
from __future__ import annotations

import copy
import ipaddress
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from netgen.model.address import interface4, interface6, network4, network6
from netgen.render.digest import flat

FAMILIES = {4: (32, ipaddress.IPv4Interface, ipaddress.IPv4Network, interface4, network4),
            6: (128, ipaddress.IPv6Interface, ipaddress.IPv6Network, interface6, network6)}
READ = ("ip", "network", "netmask", "hostmask", "with_prefixlen", "with_netmask", "with_hostmask", "compressed",
        "exploded", "version", "max_prefixlen", "is_private", "is_global", "is_loopback", "packed")
NET_READ = ("network_address", "broadcast_address", "netmask", "hostmask", "prefixlen", "num_addresses",
            "with_prefixlen", "with_netmask", "compressed", "is_private", "version")


@st.composite
def addresses(draw):
    family = draw(st.sampled_from([4, 6]))
    bits = FAMILIES[family][0]
    length = draw(st.integers(0, bits))
    value = draw(st.one_of(st.integers(0, 2 ** bits - 1), st.sampled_from([0, 2 ** bits - 1, 0x0A000001])))
    return family, value, length


def same(fast, real) -> None:
    assert type(fast) is not type(real) and isinstance(fast, type(real))
    assert fast == real and real == fast and not fast != real and hash(fast) == hash(real)
    assert str(fast) == str(real) and repr(fast) == repr(real) and format(fast) == format(real)
    assert pickle.loads(pickle.dumps(fast)) == real and copy.deepcopy(fast) == real
    assert flat(fast) == flat(real)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(addresses())
def test_an_interface_is_ipaddress_s(case):
    family, value, length = case
    _, real_type, _, fast_type, _ = FAMILIES[family]
    real, fast = real_type((value, length)), fast_type(value, length)
    same(fast, real)
    for attr in READ:
        assert getattr(fast, attr) == getattr(real, attr), attr
    assert fast.network.prefixlen == length and int(fast) == value
    other = real_type((value ^ 1, length))
    assert (fast < other) == (real < other) and (fast == other) == (real == other)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(addresses())
def test_a_network_is_ipaddress_s(case):
    family, value, length = case
    bits, _, real_type, _, fast_type = FAMILIES[family]
    first = value & ~((1 << (bits - length)) - 1) & (2 ** bits - 1)
    real, fast = real_type((first, length)), fast_type(first, length)
    same(fast, real)
    for attr in NET_READ:
        assert getattr(fast, attr) == getattr(real, attr), attr
    if bits - length <= 3:
        assert list(fast.hosts()) == list(real.hosts()) and list(fast) == list(real)
    outer = real_type((first & ~((1 << (bits - max(length - 1, 0))) - 1) & (2 ** bits - 1), max(length - 1, 0)))
    assert fast.subnet_of(outer) and fast.overlaps(real) and real.overlaps(fast)
    assert (fast.supernet() if length else fast) == (real.supernet() if length else real)
