"""Reading an intent directory: the parse cache (keyed by the bytes and the name of each file),
the parallel read, and validation with work alongside the rules. Each gives exactly what the
plain, serial, uncached path gives."""
from __future__ import annotations

import pickle
import shutil

import pytest

from netgen import validate
from netgen.intent import cache as cache_mod
from netgen.intent import read as read_mod
from netgen.intent import validate as validate_mod
from netgen.intent.background import InChild
from netgen.intent.cache import Cache
from netgen.intent.read import read_dir
from netgen.intent.tree import plain


def snapshot(files) -> list:
    """What a read gives, as plain data: each file's path, tree, every position, findings."""
    def locs(v):
        if isinstance(v, dict):
            return [v.file, v.line, v.col, sorted(v.locs.items()), [locs(x) for x in v.values()]]
        if isinstance(v, list):
            return [v.file, v.line, v.col, list(v.locs), [locs(x) for x in v]]
        return v
    return [(f.doc and f.doc.path, f.doc and plain(f.doc.data), f.doc and locs(f.doc.data), f.load, f.structure)
            for f in files]


@pytest.fixture
def cache(tmp_path) -> Cache:
    return Cache(tmp_path / "cache")


def test_an_unchanged_file_is_not_parsed_again(intent_dir, cache, monkeypatch):
    uncached = snapshot(read_dir(intent_dir.root)[0])
    first, _ = read_dir(intent_dir.root, cache)
    monkeypatch.setattr(read_mod, "load_bytes", lambda *a: pytest.fail("parsed although cached"))
    again, _ = read_dir(intent_dir.root, cache)
    assert snapshot(again) == snapshot(first) == uncached


def test_an_edited_file_alone_is_parsed_again(intent_dir, cache, monkeypatch):
    read_dir(intent_dir.root, cache)
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    parsed = []
    real = read_mod.load_bytes
    monkeypatch.setattr(read_mod, "load_bytes", lambda raw, path: parsed.append(path) or real(raw, path))
    files, _ = read_dir(intent_dir.root, cache)
    assert [p.replace("\\", "/").rsplit("/", 3)[-3:] for p in parsed] == [["sites", "guangxi", "nanning.yaml"]]
    assert snapshot(files) == snapshot(read_dir(intent_dir.root)[0])


def test_findings_come_back_from_the_cache_exactly(intent_dir, cache):
    intent_dir.replace("sites/jiangxi/nanchang.yaml", "peer: jx-pe2,", "peer: jx-pe9,")
    intent_dir.write("sites/broken.yaml", "sites:\n  - id: x\n    lvl: city\n")
    plain_run = validate(intent_dir.root)
    assert not plain_run.ok
    assert validate(intent_dir.root, cache).diagnostics == plain_run.diagnostics
    assert validate(intent_dir.root, cache).diagnostics == plain_run.diagnostics  # from the cache


def test_the_same_bytes_under_another_name_are_not_the_same_file(intent_dir, tmp_path, cache):
    """Positions name their file: a copy elsewhere must report its own path."""
    read_dir(intent_dir.root, cache)
    copy = tmp_path / "copy"
    shutil.copytree(intent_dir.root, copy)
    files, _ = read_dir(copy, cache)
    assert all(str(copy) in f.doc.path or "copy" in f.doc.path for f in files)


def test_a_damaged_cache_entry_is_a_miss(intent_dir, cache):
    first, _ = read_dir(intent_dir.root, cache)
    for entry in (cache.dir / "parse").iterdir():
        data = entry.read_bytes()
        entry.write_bytes(data[:data.index(b"\n") + 1] + b"garbage")
    again, _ = read_dir(intent_dir.root, cache)
    assert snapshot(again) == snapshot(first)


def test_the_parallel_read_gives_what_the_serial_one_does(intent_dir, cache, monkeypatch):
    intent_dir.write("sites/broken.yaml", "sites:\n  - id: x\n    level: city\n    code: no\n")
    serial, _ = read_dir(intent_dir.root)
    monkeypatch.setattr(read_mod, "PARALLEL_BYTES", 0)
    assert snapshot(read_dir(intent_dir.root, jobs=2)[0]) == snapshot(serial)
    assert snapshot(read_dir(intent_dir.root, cache, jobs=2)[0]) == snapshot(serial)
    assert snapshot(read_dir(intent_dir.root, cache, jobs=2)[0]) == snapshot(serial)  # from the cache


def test_trees_pickle_with_their_positions(intent_dir):
    files, _ = read_dir(intent_dir.root)
    assert snapshot([pickle.loads(pickle.dumps(f)) for f in files]) == snapshot(files)


def test_the_cache_can_be_turned_off_and_lives_apart_per_code_version(tmp_path, monkeypatch):
    monkeypatch.setenv("NETGEN_CACHE_DIR", "off")
    assert Cache.default() is None
    monkeypatch.setenv("NETGEN_CACHE_DIR", str(tmp_path / "c"))
    assert Cache.default().root == tmp_path / "c" and Cache.default(enabled=False) is None
    assert Cache.default().dir.name == cache_mod.code_fingerprint()[:24]
    versions = []
    for n in range(cache_mod.KEEP + 2):  # each new code version keeps only the last few others
        monkeypatch.setattr(cache_mod, "code_fingerprint", lambda n=n: f"{n:024d}")
        c = Cache(tmp_path / "v")
        c.write("parse", "x", b"1")
        versions.append(c.dir.name)
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == versions[-cache_mod.KEEP:]


# -------------------------------------------------------------- the rules beside other work


@pytest.fixture
def alongside(monkeypatch):
    """Large-intent behaviour on the small example: the rules run in a forked process."""
    monkeypatch.setattr(validate_mod, "PARALLEL_SITES", 0)
    monkeypatch.setattr(validate_mod, "cores", lambda: 2)


def test_work_beside_the_rules_is_kept_when_the_intent_is_valid(intent_dir, alongside):
    v = validate(intent_dir.root, speculate=lambda intent: len(intent.sites))
    assert v.ok and v.speculated == len(v.intent.sites)


def test_work_beside_failing_rules_is_dropped_and_its_error_is_theirs(intent_dir, alongside):
    intent_dir.replace("sites/jiangxi/nanchang.yaml", "peer: jx-pe2,", "peer: jx-pe9,")
    expected = validate(intent_dir.root).diagnostics

    def broken(intent):
        raise KeyError("jx-pe9")  # what allocation may do with an intent the rules refuse

    v = validate(intent_dir.root, speculate=broken)
    assert v.diagnostics == expected and v.intent is None and v.speculated is None


def test_work_that_fails_on_a_valid_intent_raises(intent_dir, alongside):
    with pytest.raises(ZeroDivisionError):
        validate(intent_dir.root, speculate=lambda intent: 1 / 0)


def test_a_background_process_returns_its_result_or_its_error():
    assert InChild(lambda: {"a": [1, 2]}).result() == {"a": [1, 2]}
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        InChild(lambda: (_ for _ in ()).throw(ValueError("boom"))).result()
