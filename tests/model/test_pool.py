"""Pool: reservation and collisions, lowest-first aligned allocation, preferred slots, exhaustion
messages, the free list — checked by example and against a brute-force model."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from netgen.model.pool import Pool, PoolExhausted, block_text

N = ipaddress.ip_network


def covered(blocks) -> set[int]:
    return {int(a) for b in blocks for a in (b.network_address + i for i in range(b.num_addresses))}


# ------------------------------------------------------------------ reserve / collisions


def test_reserve_reports_the_owner_of_what_it_collides_with():
    p = Pool("pool of site jx", N("10.36.0.0/16"))
    assert p.reserve(N("10.36.16.0/20"), "ipv4/pool/jx-nc") is None
    assert p.reserve(N("10.36.16.0/20"), "other") == "ipv4/pool/jx-nc"  # the same block
    assert p.reserve(N("10.36.17.0/24"), "other") == "ipv4/pool/jx-nc"  # inside it
    assert p.reserve(N("10.36.0.0/19"), "other") == "ipv4/pool/jx-nc"  # containing it
    assert p.reserve(N("10.36.31.255/32"), "other") == "ipv4/pool/jx-nc"  # its last address
    assert p.reserve(N("10.36.15.255/32"), "left") is None  # adjacent, both sides
    assert p.reserve(N("10.36.32.0/32"), "right") is None
    assert p.owner_of(N("10.36.20.0/24")) == "ipv4/pool/jx-nc"
    assert p.owner_of(N("10.36.15.255/32")) == "left" and p.owner_of(N("10.36.33.0/24")) is None
    # a block spanning two reservations names one of them
    assert p.reserve(N("10.36.0.0/18"), "big") in {"left", "ipv4/pool/jx-nc", "right"}


def test_a_failed_reservation_reserves_nothing():
    p = Pool("p", N("10.0.0.0/24"))
    p.reserve(N("10.0.0.64/26"), "a")
    assert p.reserve(N("10.0.0.0/25"), "b") == "a"
    assert p.owner_of(N("10.0.0.0/26")) is None
    assert p.allocate(26, "c") == N("10.0.0.0/26")


# ------------------------------------------------------------------ lowest-first, aligned


def test_lowest_first_allocation_is_aligned_and_fills_holes():
    p = Pool("p", N("10.0.0.0/24"))
    assert p.allocate(26, "a") == N("10.0.0.0/26")
    assert p.allocate(25, "b") == N("10.0.0.128/25")  # aligned: not 10.0.0.64/25
    assert p.allocate(26, "c") == N("10.0.0.64/26")  # the hole left below
    with pytest.raises(PoolExhausted):
        p.allocate(32, "d")
    assert p.owner_of(N("10.0.0.130/32")) == "b"


def test_allocation_aligns_up_past_a_reserved_block():
    p = Pool("p", N("10.0.0.0/24"))
    p.reserve(N("10.0.0.0/27"), "x")
    assert p.allocate(26, "a") == N("10.0.0.64/26")
    assert p.allocate(27, "b") == N("10.0.0.32/27")
    p.reserve(N("10.0.0.130/31"), "y")
    with pytest.raises(PoolExhausted):  # the one free /25 left is partly taken
        p.allocate(25, "c")
    assert p.allocate(30, "d") == N("10.0.0.132/30")  # 128/30 holds the reserved .130/31
    assert p.allocate(31, "e") == N("10.0.0.128/31")


def test_reservations_below_the_cursor_after_allocations_are_respected():
    p = Pool("p", N("10.0.0.0/24"))
    assert [p.allocate(28, str(i)) for i in range(3)] == [N(f"10.0.0.{16 * i}/28") for i in range(3)]
    p.reserve(N("10.0.0.48/28"), "pinned")  # exactly where the cursor points
    assert p.allocate(28, "next") == N("10.0.0.64/28")
    assert p.allocate(29, "small") == N("10.0.0.80/29")


def test_allocating_more_than_the_pool_holds():
    p = Pool("pool of site jx-nc-ncx", N("10.36.18.0/24"))
    with pytest.raises(PoolExhausted) as exc:
        p.allocate(23, "x")
    msg = str(exc.value)
    assert "/23" in msg and "pool of site jx-nc-ncx" in msg and "10.36.18.0/24" in msg
    assert "10.36.18.0/24" in msg.split("free")[-1]  # what is free: all of it
    assert p.allocate(24, "whole") == N("10.36.18.0/24")


# ------------------------------------------------------------------ preferred slots


def test_preferred_slot_is_taken_when_free_and_probes_upward_with_wrap():
    p = Pool("national block", N("10.0.0.0/8"))
    assert p.allocate(16, "jx", prefer=36) == N("10.36.0.0/16")
    assert p.allocate(16, "other", prefer=36) == N("10.37.0.0/16")  # probes upward
    q = Pool("pool of site jx", N("10.36.0.0/16"))  # 16 city slots of /20
    assert q.allocate(20, "c15", prefer=15) == N("10.36.240.0/20")
    assert q.allocate(20, "c31", prefer=31) == N("10.36.0.0/20")  # 31 % 16 == 15, taken → wraps to 0
    assert q.allocate(20, "c17", prefer=17) == N("10.36.16.0/20")  # 17 % 16 == 1
    q.reserve(N("10.36.36.0/24"), "pinned county")
    assert q.allocate(20, "c2", prefer=2) == N("10.36.48.0/20")  # slot 2 is partly taken


def test_preferred_slot_ignores_lowest_first_order_and_does_not_disturb_it():
    p = Pool("p", N("10.0.0.0/24"))
    assert p.allocate(27, "t5", prefer=5) == N("10.0.0.160/27")
    assert p.allocate(27, "a") == N("10.0.0.0/27")
    assert [p.allocate(27, str(i)) for i in range(4)] == [N(f"10.0.0.{32 * i}/27") for i in (1, 2, 3, 4)]
    assert p.allocate(27, "b") == N("10.0.0.192/27")


def test_preferred_allocation_exhausted_names_the_pool_and_the_free_space():
    p = Pool("pool of site gx-nn-la", N("10.45.23.0/24"))
    p.reserve(N("10.45.23.0/25"), "lans")
    for slot in range(4, 8):
        p.allocate(27, f"t{slot}", prefer=slot)
    with pytest.raises(PoolExhausted) as exc:
        p.allocate(27, "t9", prefer=9)
    assert str(exc.value) == "no free /27 in pool of site gx-nn-la 10.45.23.0/24: the pool is full"


# ------------------------------------------------------------------ exhaustion and free()


def test_exhaustion_message_lists_the_largest_free_blocks():
    p = Pool("pool of site x", N("10.0.0.0/24"))
    p.reserve(N("10.0.0.0/25"), "a")
    p.reserve(N("10.0.0.128/27"), "b")
    with pytest.raises(PoolExhausted) as exc:
        p.allocate(25, "c")
    assert str(exc.value) == "no free /25 in pool of site x 10.0.0.0/24; largest free blocks: 10.0.0.192/26, 10.0.0.160/27"


def test_exhaustion_message_abbreviates_a_long_free_list():
    p = Pool("links pool", N("10.254.0.0/28"))
    for i in range(0, 16, 2):
        p.reserve(N(f"10.254.0.{i}/32"), f"x{i}")
    with pytest.raises(PoolExhausted) as exc:
        p.allocate(31, "y")
    msg = str(exc.value)
    assert msg.startswith("no free /31 in links pool 10.254.0.0/28; largest free blocks: 10.254.0.1/32, ")
    assert msg.endswith(" and 4 smaller")


def test_free_is_the_exact_complement_largest_first():
    p = Pool("p", N("10.0.0.0/24"))
    assert p.free() == [N("10.0.0.0/24")]
    p.reserve(N("10.0.0.64/26"), "a")
    p.reserve(N("10.0.0.200/32"), "b")
    free = p.free()
    assert free == sorted(free, key=lambda n: (n.prefixlen, int(n.network_address)))
    assert free[0] == N("10.0.0.0/26") and free[1] == N("10.0.0.128/26")
    used = covered([N("10.0.0.64/26"), N("10.0.0.200/32")])
    assert covered(free) == covered([N("10.0.0.0/24")]) - used
    assert sum(n.num_addresses for n in free) == 256 - 65
    full = Pool("q", N("10.0.0.0/30"))
    full.reserve(N("10.0.0.0/30"), "all")
    assert full.free() == []


def test_ipv6_pools():
    p = Pool("pool of site jx", N("fd00:e9:2400::/40"))
    assert p.allocate(44, "c1", prefer=1) == N("fd00:e9:2410::/44")
    assert p.allocate(64, "lan") == N("fd00:e9:2400::/64")
    assert p.allocate(64, "lan2") == N("fd00:e9:2400:1::/64")
    assert p.reserve(N("fd00:e9:2410:5::/64"), "x") == "c1"
    assert p.owner_of(N("fd00:e9:2400:1::/64")) == "lan2"
    lo = Pool("loopbacks pool", N("fd00:e9:ffff::/48"))
    lo.reserve(N("fd00:e9:ffff::/128"), "pinned")
    assert lo.allocate(128, "a") == N("fd00:e9:ffff::1/128")
    free = lo.free()
    assert all(isinstance(n, ipaddress.IPv6Network) for n in free)
    assert sum(n.num_addresses for n in free) == 2 ** 80 - 2
    with pytest.raises(PoolExhausted) as exc:
        Pool("pool of site t", N("fd00:e9:2400::/52")).allocate(48, "x")
    assert "pool of site t fd00:e9:2400::/52" in str(exc.value)


# ------------------------------------------------------------------ against a brute-force model

BASE = N("10.0.0.0/24")

ops = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(24, 32), st.integers(0, 255)),
        st.tuples(st.just("alloc"), st.integers(24, 32), st.none()),
        st.tuples(st.just("prefer"), st.integers(24, 32), st.integers(0, 600)),
    ),
    max_size=40,
)


class Model:
    """The obvious, slow implementation: a set of used addresses."""

    def __init__(self):
        self.used: set[int] = set()

    def block(self, start, length):
        return set(range(start, start + (1 << (32 - length))))

    def free_at(self, start, length):
        return not (self.block(start, length) & self.used)

    def lowest(self, length):
        size = 1 << (32 - length)
        for start in range(0, 256, size):
            if self.free_at(start, length):
                return start
        return None

    def preferred(self, length, prefer):
        size = 1 << (32 - length)
        slots = 256 // size
        for k in range(slots):
            start = ((prefer + k) % slots) * size
            if self.free_at(start, length):
                return start
        return None


# Mostly /31 and /32, many of them: long runs of abutting blocks, as in the loopback and link pools.
dense_ops = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(29, 32), st.integers(0, 255)),
        st.tuples(st.just("alloc"), st.integers(30, 32), st.none()),
        st.tuples(st.just("alloc"), st.integers(30, 32), st.none()),
        st.tuples(st.just("prefer"), st.integers(28, 32), st.integers(0, 600)),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ops, dense_ops))
def test_pool_agrees_with_a_brute_force_model(ops):
    p, m = Pool("p", BASE), Model()
    base = int(BASE.network_address)
    for i, (op, length, arg) in enumerate(ops):
        if op == "reserve":
            size = 1 << (32 - length)
            start = arg // size * size
            net = ipaddress.IPv4Network((base + start, length))
            clash = p.reserve(net, f"r{i}")
            assert (clash is None) == m.free_at(start, length)
            if clash is None:
                m.used |= m.block(start, length)
            continue
        want = m.lowest(length) if op == "alloc" else m.preferred(length, arg)
        if want is None:
            with pytest.raises(PoolExhausted):
                p.allocate(length, f"a{i}", arg if op == "prefer" else None)
            continue
        got = p.allocate(length, f"a{i}", arg if op == "prefer" else None)
        assert got == ipaddress.IPv4Network((base + want, length)), (op, length, arg)
        m.used |= m.block(want, length)
    free = p.free()
    assert covered(free) == set(range(base, base + 256)) - {base + a for a in m.used}
    assert free == sorted(free, key=lambda n: (n.prefixlen, int(n.network_address)))
    # free() is maximal CIDR blocks: no two free blocks merge into one aligned block
    for a in free:
        for b in free:
            if a != b and a.prefixlen == b.prefixlen:
                assert a.supernet() != b.supernet()


def _hextets():
    """An IPv6 address from eight hextets, mostly zero or not: every run of zeros the text
    compresses (or not), and the ::a.b.c.d and ::ffff:a.b.c.d forms."""
    return st.lists(st.sampled_from([0, 0, 0, 1, 0xffff]) | st.integers(0, 0xffff), min_size=8, max_size=8).map(
        lambda hs: sum(h << (16 * (7 - i)) for i, h in enumerate(hs)))


@settings(max_examples=500, deadline=None)
@given(v4=st.integers(0, 2**32 - 1), v6=_hextets(), length4=st.integers(0, 32),
       length6=st.sampled_from([128, 127, 96, 64]) | st.integers(0, 128))
@example(v4=0, v6=0x0102_0304, length4=0, length6=128).via("::1.2.3.4 in C")
@example(v4=0, v6=0xffff_0102_0304, length4=0, length6=128).via("::ffff:1.2.3.4 in C")
def test_a_block_is_written_as_ipaddress_writes_its_network(v4, v6, length4, length6):
    for value, length, bits, cls in ((v4, length4, 32, ipaddress.IPv4Network),
                                     (v6, length6, 128, ipaddress.IPv6Network)):
        first = value & ~((1 << (bits - length)) - 1)
        assert block_text((first, length, bits)) == str(cls((first, length))), (first, length)
