"""The cache under attack and decay (issue 17): every entry is checked before it is used.

Each test warms a private cache with a build of the example (resolve + build, in-process: the
parse, allocation, render-record and compiled-template kinds all get entries), damages it in one
way, and builds again: the result must be byte-identical to a build without the cache, with the
damaged entries rejected (counted) and replaced. Planted pickles and bytecode would write a
marker file if anything ever ran them; it must never appear.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import shutil
import stat
from pathlib import Path

import jinja2
import pytest

from netgen.cli import main as netgen
from netgen.intent import cache as cache_mod
from netgen.intent.cache import Cache
from netgen.intent.read import read_dir
from netgen.model import alloc_cache, resolve
from netgen.render import build as build_mod
from netgen.render.build import build
from netgen.render.environment import _CompiledTemplates
from netgen.render.platform import load_platform

KINDS = ("parse", "allocation", "allocation-base", "render", build_mod.COMPILED)


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def run(root: Path, out: Path, cache: Cache | None) -> dict[str, bytes]:
    """One build as a new process makes it: nothing compiled in memory yet."""
    load_platform.cache_clear()
    build_mod._template.cache_clear()
    res = resolve(root, cache=cache, model=False)
    assert res.ok, [f"{d.location}: {d.message}" for d in res.errors]
    res.write_lock()
    assert build(res.lazy_network(), out, jobs=1, cache=cache).ok
    return files(out)


def entries(cache: Cache, kind: str) -> list[Path]:
    return sorted(p for p in (cache.dir / kind).iterdir() if not p.name.startswith("."))


@pytest.fixture
def warm(intent_dir, tmp_path):
    """(intent root, a cache holding every kind, the build without a cache)."""
    plain = run(intent_dir.root, tmp_path / "plain", None)
    cache = Cache(tmp_path / "cache")
    assert run(intent_dir.root, tmp_path / "out", cache) == plain
    assert all(entries(cache, kind) for kind in KINDS)
    return intent_dir.root, cache, plain


def again(root: Path, cache: Cache, out: Path, expected: dict[str, bytes]) -> None:
    """Built from the damaged cache: identical, the damage caught; then the cache is whole again."""
    before = cache.rejected
    assert run(root, out, cache) == expected  # the previous build's directory: its record is read
    assert run(root, out.with_name(out.name + "-fresh"), cache) == expected  # every template loaded
    assert cache.rejected > before, "no damaged entry was noticed"
    now = cache.rejected
    assert run(root, out, cache) == expected
    assert run(root, out.with_name(out.name + "-fresh2"), cache) == expected
    assert cache.rejected == now, "a rejected entry was not rebuilt"


def read_base(cache: Cache, kind: str) -> None:
    """A lock file's base allocation is read only when the allocation itself is not cached."""
    if kind == "allocation-base":
        shutil.rmtree(cache.dir / "allocation")


DAMAGE = {
    "truncated": lambda b: b[:len(b) // 2],
    "empty": lambda b: b"",
    "header only": lambda b: b[:36],
    "bit flipped in the tag": lambda b: b[:10] + bytes([b[10] ^ 1]) + b[11:],
    "bit flipped in the body": lambda b: b[:-1] + bytes([b[-1] ^ 0x80]),
    "unsigned body": lambda b: b[36:],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_entry_is_rejected_and_rebuilt(warm, tmp_path, kind, how):
    root, cache, plain = warm
    for entry in entries(cache, kind):
        entry.write_bytes(DAMAGE[how](entry.read_bytes()))
    read_base(cache, kind)
    again(root, cache, tmp_path / "out", plain)


@pytest.mark.parametrize("kind", ("parse", build_mod.COMPILED, "allocation"))
def test_entries_swapped_with_one_another_are_rejected(warm, tmp_path, kind):
    root, cache, plain = warm
    # one allocation is kept per intent and lock file: swapped with the lock file's base record
    found = entries(cache, kind) + (entries(cache, "allocation-base") if kind == "allocation" else [])
    assert len(found) >= 2
    blobs = [p.read_bytes() for p in found]
    for path, blob in zip(found, blobs[1:] + blobs[:1]):  # each file now holds its neighbour's entry
        path.write_bytes(blob)
    again(root, cache, tmp_path / "out", plain)


@pytest.mark.parametrize("kind", KINDS)
def test_entries_copied_from_another_intents_cache_are_rejected(warm, tmp_path, kind):
    """Another intent (a device's model and a locked loopback differ) built with its own cache;
    its entries copied over this one's, kind by kind, would give that intent's configs."""
    root, cache, plain = warm
    other = tmp_path / "other"
    shutil.copytree(root, other)
    nanning = other / "sites" / "guangxi" / "nanning.yaml"
    nanning.write_text(nanning.read_text(encoding="utf-8").replace("model: MSR2630", "model: MSR2630-WiNet", 1),
                       encoding="utf-8")
    lock = other / "netgen.lock"
    lock.write_text(lock.read_text(encoding="utf-8").replace('"10.255.0.2/32"', '"10.255.99.99/32"'), encoding="utf-8")
    theirs = Cache(tmp_path / "other-cache")
    other_out = tmp_path / "other-out"
    assert run(other, other_out, theirs) != plain
    mine = entries(cache, kind)
    for i, src in enumerate(entries(theirs, kind)):  # one kind at a time: each alone must be caught
        shutil.copyfile(src, mine[i % len(mine)])
    read_base(cache, kind)
    again(root, cache, tmp_path / "out", plain)


def test_an_entry_signed_for_another_name_is_rejected(warm, tmp_path):
    """A correctly signed entry moved to another entry's slot: the name is under the signature."""
    root, cache, plain = warm
    found = entries(cache, "parse")
    data = cache.read("parse", "not this one") or b""  # nothing there
    assert data == b""
    blob = found[0].read_bytes()
    found[1].write_bytes(blob)
    again(root, cache, tmp_path / "out", plain)


class _Bomb:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")  # unpickling it creates the marker


@pytest.mark.parametrize("kind", ("parse", "render"))
def test_a_planted_pickle_is_never_unpickled(warm, tmp_path, kind):
    root, cache, plain = warm
    marker = tmp_path / "PWNED"
    bomb = pickle.dumps(_Bomb(marker))
    for entry in entries(cache, kind):
        old = entry.read_bytes()
        key = old[36:].split(b"\n", 1)[0] + b"\n" if kind == "parse" else b""  # the file's hash, as read.py keeps it
        entry.write_bytes(old[:36] + key + bomb)  # a header that was real, over the attacker's body
    again(root, cache, tmp_path / "out", plain)
    assert not marker.exists()


def test_a_signed_record_with_classes_in_it_is_still_not_run(warm, tmp_path, monkeypatch):
    """Defence in depth: even an entry that passes the check (here: signed with the cache's own
    key, as netgen's own bug could) is unpickled allowing only the classes it may hold."""
    root, cache, plain = warm
    marker = tmp_path / "PWNED"
    slot = f"{(tmp_path / 'out').resolve()}\0"
    cache.write("render", slot, pickle.dumps({"x": _Bomb(marker)}))
    for entry in entries(cache, "parse"):
        entry.write_bytes(cache.seal("parse", "elsewhere", pickle.dumps(_Bomb(marker))))
    assert run(root, tmp_path / "out", cache) == plain
    assert not marker.exists()
    assert build_mod._read_record(cache, slot) != {}  # rebuilt: a plain record again


def _template_keys() -> list[str]:
    """The jinja2 bytecode-cache key of every shipped template, as the environment names them."""
    keys = []
    for plat in ("huawei_vrp", "h3c_comware", "frr"):
        directory = load_platform(plat).directory
        for path in directory.rglob("*.j2"):
            name = path.relative_to(directory).as_posix()
            keys.append(_CompiledTemplates.get_cache_key(_CompiledTemplates.__new__(_CompiledTemplates), name,
                                                         os.path.normpath(os.path.join(str(directory), name))))
    return keys


def test_planted_bytecode_is_never_run(warm, tmp_path):
    """Bytecode jinja2 would accept — the right magic and source checksum — whose code writes a
    marker: planted unsigned, and under a forged header, over every compiled template."""
    root, cache, plain = warm
    marker = tmp_path / "PWNED"
    env = jinja2.Environment()
    planted = 0
    for key in _template_keys():
        path = cache.path(build_mod.COMPILED, key)
        if not path.exists():
            continue
        real = cache.unseal(build_mod.COMPILED, key, path.read_bytes())
        checksum = pickle.load(io.BytesIO(real[len(jinja2.bccache.bc_magic):]))
        bucket = jinja2.bccache.Bucket(env, key, checksum)
        bucket.code = compile(f"open({str(marker)!r}, 'w')", "<planted>", "exec")
        out = io.BytesIO()
        bucket.write_bytecode(out)
        path.write_bytes((b"NGC1" + bytes(32) if planted % 2 else b"") + out.getvalue())
        planted += 1
    assert planted >= 2
    again(root, cache, tmp_path / "out", plain)
    assert not marker.exists()


def test_garbage_bytecode_does_not_crash(warm, tmp_path):
    root, cache, plain = warm
    for entry in entries(cache, build_mod.COMPILED):
        entry.write_bytes(jinja2.bccache.bc_magic + os.urandom(64))
    again(root, cache, tmp_path / "out", plain)


def test_a_damaged_key_makes_every_entry_a_miss(warm, tmp_path):
    root, cache, plain = warm
    (cache.dir / cache_mod.KEY_FILE).write_bytes(b"short")
    fresh = Cache(cache.root)  # a new process reads the key again
    assert fresh.enabled
    again(root, fresh, tmp_path / "out", plain)


# ----------------------------------------------------------- the lock file's values only


def _lock(root: Path) -> dict:
    return json.loads((root / "netgen.lock").read_text(encoding="utf-8"))


def _slot(cache: Cache, root: Path) -> Path:
    """Where the allocation for the intent and lock file in `root` is kept."""
    res = resolve(root, model=False)
    return cache.path(alloc_cache.KIND, alloc_cache.key(res.intent, res.lock))


def test_show_and_lock_check_never_report_a_swapped_allocation(intent_dir, tmp_path, monkeypatch, capsys):
    """An allocation entry made for one lock file, put in the slot of another's: `show` would
    report values the lock does not hold, and `lock --check` pass a lock that lacks one."""
    monkeypatch.setenv("NETGEN_CACHE_DIR", str(tmp_path / "cache"))
    root = intent_dir.root
    assert netgen(["lock", str(root)]) == 0
    cache = Cache(tmp_path / "cache")
    whole = _slot(cache, root).read_bytes()  # the full lock file's allocation, "held exactly"
    full = (root / "netgen.lock").read_bytes()

    # a lock file that lacks one loopback: check must fail, and show must not claim the lock holds it
    lock = json.loads(full)
    key = "ipv4/loopback/central-pe2"
    held = lock["allocations"].pop(key)
    (root / "netgen.lock").write_text(json.dumps(lock, indent=1), encoding="utf-8")
    _slot(cache, root).write_bytes(whole)
    assert netgen(["lock", "--check", str(root)]) == 1
    assert key in capsys.readouterr().out
    _slot(cache, root).write_bytes(whole)
    assert netgen(["show", "central-pe2", str(root), "--format", "json"]) == 0
    shown = capsys.readouterr().out
    assert netgen(["show", "central-pe2", str(root), "--format", "json", "--no-cache"]) == 0
    assert shown == capsys.readouterr().out

    # a lock file whose value was edited: show reports the edited value, not the one cached for the old
    (root / "netgen.lock").write_bytes(full.replace(held.encode(), b"10.255.99.99/32"))
    _slot(cache, root).write_bytes(whole)
    assert netgen(["show", "central-pe2", str(root), "--format", "json"]) == 0
    assert "10.255.99.99" in capsys.readouterr().out
    _slot(cache, root).write_bytes(whole)
    assert netgen(["lock", "--check", str(root)]) == 0
    assert cache.rejected == 0  # (this process's Cache object read nothing: the commands made their own)


# ----------------------------------------------------------- whose cache directory it is


def test_a_new_cache_is_private(tmp_path):
    cache = Cache(tmp_path / "new" / "cache")
    assert cache.enabled
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache.dir / cache_mod.KEY_FILE).stat().st_mode) == 0o600
    cache.write("parse", "x", b"1")
    assert stat.S_IMODE((cache.dir / "parse").stat().st_mode) == 0o700
    assert cache.read("parse", "x") == b"1"
    assert Cache(cache.root).read("parse", "x") == b"1"  # the key is kept: another run reads it


def _refused(tmp_path, monkeypatch, capsys, root: Path, fix: str, intent_dir) -> None:
    """Refused with one warning line naming the directory and the fix; builds as without it."""
    monkeypatch.setattr(cache_mod, "_WARNED", set())
    monkeypatch.setenv("NETGEN_CACHE_DIR", str(root))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    assert Cache.default() is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(root) in err[0] and fix in err[0], err
    plain = run(intent_dir.root, tmp_path / "plain", None)
    cache = Cache(root)
    assert not cache.enabled
    assert run(intent_dir.root, tmp_path / "out", cache) == plain
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing read or written there
    capsys.readouterr()
    assert netgen(["build", str(intent_dir.root), "-o", str(tmp_path / "cli")]) == 0
    assert capsys.readouterr().err.count(str(root)) == 0  # warned once per process


def test_a_cache_directory_writable_by_others_is_not_used(intent_dir, tmp_path, monkeypatch, capsys):
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o777)
    _refused(tmp_path, monkeypatch, capsys, root, f"chmod 700 {root}", intent_dir)


def test_a_cache_directory_of_another_user_is_not_used(intent_dir, tmp_path, monkeypatch, capsys):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    root = tmp_path / "theirs"
    Cache(root)  # a real cache, with its key
    for p in [root, *root.rglob("*")]:
        os.chown(p, 65534, 65534)  # nobody
    _refused(tmp_path, monkeypatch, capsys, root, "NETGEN_CACHE_DIR", intent_dir)


def test_a_key_others_can_read_is_not_used(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cache_mod, "_WARNED", set())
    cache = Cache(tmp_path / "cache")
    key = cache.dir / cache_mod.KEY_FILE
    key.chmod(0o644)
    assert not Cache(tmp_path / "cache").enabled
    err = capsys.readouterr().err
    assert str(key) in err and "chmod 600" in err


# ----------------------------------------------------------- secrets stay out of it


def test_a_file_rejected_for_a_clear_text_secret_is_not_cached(intent_dir, tmp_path):
    intent_dir.write("secrets-here.yaml", "network:\n  tacacs:\n    key: Hunter2-in-clear\n")
    cache = Cache(tmp_path / "cache")
    results, _ = read_dir(intent_dir.root, cache)
    assert any(d.rule == "secret.cleartext" for r in results for d in r.load + r.structure)
    stored = entries(cache, "parse")
    assert len(stored) == len(results) - 1  # every other file is kept
    assert not any(b"Hunter2-in-clear" in p.read_bytes() for p in cache.root.rglob("*") if p.is_file())
