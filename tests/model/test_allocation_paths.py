"""Allocation's shortcuts give exactly what the plain way gives: the second family allocated
in a forked process, lock entries parsed without ipaddress, the lock compared without being
written out, the model built on demand from specs."""
from __future__ import annotations

import importlib
import ipaddress
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netgen.model import resolve
from netgen.model.lock import Lock
from netgen.model.pool import block, network, parse_block

allocate_mod = importlib.import_module("netgen.model.allocate")


def state(alloc) -> tuple:
    return (list(alloc.blocks.items()), list(alloc.ports.items()), list(alloc.origins.items()), alloc.new,
            alloc.orphans, alloc.diagnostics, alloc.lock_entries())


def allocation(root, parallel: bool, monkeypatch):
    monkeypatch.setattr(allocate_mod, "PARALLEL_DEVICES", 0 if parallel else 10 ** 9)
    monkeypatch.setattr(allocate_mod, "cores", lambda: 2)
    intent = resolve(root, model=False).intent
    return allocate_mod.allocate(intent, Lock.read(root))


@pytest.mark.parametrize("case", ["fresh", "locked", "orphans and a new site", "a conflicting lock"])
def test_the_second_family_in_its_own_process_changes_nothing(intent_dir, monkeypatch, case):
    if case != "fresh":
        resolve(intent_dir.root).write_lock()
    if case == "orphans and a new site":
        intent_dir.replace("sites/guangxi/nanning.yaml", "  - id: gx-nn-la-cx", "  - id: gx-nn-la-cy")
        intent_dir.replace("sites/guangxi/nanning.yaml", "name: gx-nn-la-cx-ce1", "name: gx-nn-la-cy-ce1")
        intent_dir.replace("departments.yaml", "{site: gx-nn-la-cx}", "{site: gx-nn-la-cy}")
    if case == "a conflicting lock":
        lock = json.loads(intent_dir.read("netgen.lock"))
        entries = lock["allocations"]
        entries["ipv6/loopback/jx-pe2"] = entries["ipv6/loopback/jx-pe1"]
        entries["ipv4/link/x~y"] = "10.255.0.1/32"
        intent_dir.write("netgen.lock", json.dumps(lock))
    serial = allocation(intent_dir.root, False, monkeypatch)
    parallel = allocation(intent_dir.root, True, monkeypatch)
    assert state(parallel) == state(serial)
    if case == "orphans and a new site":
        assert serial.orphans and serial.new
    if case == "a conflicting lock":  # reported as reserving one at a time reports it
        assert [d.rule for d in serial.diagnostics] == ["allocate.conflict"]
        assert "`ipv6/loopback/jx-pe2`" in serial.diagnostics[0].message
        assert "collides with `ipv6/loopback/jx-pe1`" in serial.diagnostics[0].message


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(
    st.builds(lambda a, n: f"{ipaddress.IPv4Address(a)}/{n}", st.integers(0, 2 ** 32 - 1), st.integers(0, 33)),
    st.builds(lambda a, n: f"{ipaddress.IPv6Address(a)}/{n}", st.integers(0, 2 ** 128 - 1), st.integers(0, 129)),
    st.from_regex(r"[0-9a-f.:/ x+_-]{0,20}", fullmatch=True),
    st.sampled_from(["10.0.0.0/08", "010.0.0.0/8", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0", "fd00::", "::/0",
                     "1.2.3.4/٣", "10.0.0.0/8/8", "fd00::1.2.3.4/128", "fd00:0000::/32"])))
def test_a_lock_entry_parses_as_ipaddress_parses_it(text):
    try:
        expected = ipaddress.ip_network(text)
    except ValueError:
        with pytest.raises(ValueError):
            parse_block(text)
        return
    assert network(parse_block(text)) == expected and parse_block(text) == block(expected)


@pytest.mark.parametrize("change", ["none", "drop", "add", "alter", "port with a leading zero", "unparsable",
                                    "other family"])
def test_the_lock_comparison_agrees_with_writing_the_lock_out(intent_dir, change):
    resolve(intent_dir.root).write_lock()
    lock = json.loads(intent_dir.read("netgen.lock"))
    entries = lock["allocations"]
    if change == "drop":
        entries.pop("ipv4/pool/gx-nn-la")
    elif change == "add":
        entries["ipv4/pool/gone"] = "10.99.0.0/24"
    elif change == "alter":
        entries["ipv4/loopback/central-pe1"] = "10.255.255.254/32"
    elif change == "port with a leading zero":
        key = next(k for k in entries if k.startswith("port/"))
        entries[key] = "0" + entries[key]
    elif change == "unparsable":
        entries["port/x/y"] = "7"  # a bare number: an older netgen's, or a hand edit
    elif change == "other family":
        entries["ipv7/pool/x"] = "1"
    intent_dir.write("netgen.lock", json.dumps(lock))
    res = resolve(intent_dir.root)
    alloc = res.allocation
    assert alloc.holds_exactly(res.lock.entries) == (alloc.lock_entries() == res.lock.entries)
    # the lock is the authority: another free value, or an orphan, stays as it is
    assert res.lock_changed == (change not in ("none", "add", "alter"))


def test_the_lock_file_is_json_one_sorted_entry_a_line():
    entries = {"ipv4/lan/审计@jx/audit": "10.36.1.0/24", 'port/a"b\\c/x': "7", "ipv4/pool/\u2028x": "10.1.0.0/16",
               "ipv4/loopback/a": "10.255.0.1/32"}
    text = Lock(entries).dumps()
    assert json.loads(text) == {"format": 1, "allocations": entries}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(entries.items())]
    assert text == '{\n "format": 1,\n "allocations": {\n' + ",\n".join(lines) + "\n }\n}\n"


_KEYS = st.text(alphabet=st.sampled_from('ab/~@#:-."\\é审\u2028\x7f0'), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(_KEYS, st.sampled_from(["10.0.0.0/24", "fd00::/64", "7", 'a"b\\']), max_size=30),
       st.dictionaries(_KEYS, st.sampled_from(["10.1.0.0/24", "3"]), min_size=1, max_size=8))
def test_adding_to_the_lock_file_gives_the_bytes_dumps_gives(tmp_path_factory, held, added):
    """Lock.write(added=…) puts the new lines into the file's text: the file is then byte for
    byte what writing all the entries out gives (an empty or foreign file is written out whole)."""
    added = {k: v for k, v in added.items() if k not in held}
    root = tmp_path_factory.mktemp("lock")
    Lock(held, root / "netgen.lock").write()
    lock = Lock.read(root, lazy=True)
    lock.write(added=added)
    whole = Lock({**held, **added}).dumps().encode()
    assert (root / "netgen.lock").read_bytes() == whole == lock.raw
    assert Lock.read(root).entries == {**held, **added}


@pytest.mark.parametrize("text", ['{"format": 1, "allocations": {"b": "1", "a": "2"}}',
                                  '{\n "format": 1,\n "allocations": {\n  "a": "2"\n }\n}\n  ',
                                  '{\n "format": 1,\n "allocations": {\n  "é": "2"\n }\n}\n'])
def test_adding_to_a_lock_file_netgen_did_not_write_writes_it_whole(tmp_path, text):
    (tmp_path / "netgen.lock").write_text(text, encoding="utf-8")
    lock = Lock.read(tmp_path, lazy=True)
    held = dict(lock.entries)
    lock.write(added={"c": "3"})
    assert (tmp_path / "netgen.lock").read_bytes() == Lock({**held, "c": "3"}).dumps().encode()
