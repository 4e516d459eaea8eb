"""The render cache: a cached build is byte-for-byte the build without it, and a stale cache
never gives a wrong config.

Builds here run in-process (jobs=1 unless said otherwise) from the model built on demand
(`Resolution.lazy_network`, what `netgen build` renders) or from a plain `Network`, against a
private cache directory. "Uncached" is the same build into a fresh directory with no cache.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from netgen.intent.cache import Cache
from netgen.model import resolve
from netgen.render import build as build_mod
from netgen.render.build import build
from netgen.render.outdir import MANIFEST, PARTIAL, manifest_document, manifest_entry
from netgen.render.platform import load_platform

REPO = Path(__file__).resolve().parents[2]


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def inodes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in out.iterdir()}


def lazy(root: Path):
    res = resolve(root, model=False)
    assert res.ok, [f"{d.location}: {d.message}" for d in res.errors]
    res.write_lock()
    return res.lazy_network()


@pytest.fixture
def cache(tmp_path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def clean_template_caches():
    load_platform.cache_clear()
    build_mod._template.cache_clear()
    yield
    load_platform.cache_clear()
    build_mod._template.cache_clear()


def uncached(root: Path, out: Path, **kw) -> dict[str, bytes]:
    assert build(lazy(root), out, jobs=1, **kw).ok
    return files(out)


def test_the_model_built_on_demand_is_the_model(intent_dir):
    res = resolve(intent_dir.root)
    net, on_demand = res.network, res.lazy_network()
    assert list(on_demand.devices) == list(net.devices) and list(on_demand.sites) == list(net.sites)
    assert all(on_demand.devices[n] == d for n, d in net.devices.items())
    assert all(on_demand.sites[s] == site for s, site in net.sites.items())
    assert on_demand.links == net.links and on_demand.origins == net.origins
    assert all(on_demand.platform(n) == d.platform for n, d in net.devices.items())


def test_a_cached_build_is_byte_identical_to_an_uncached_one(intent_dir, tmp_path, cache):
    out = tmp_path / "build"
    first = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert first.ok and sorted(first.written) == sorted(first.manifest["devices"])
    second = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert second.written == [] and sorted(second.unchanged) == sorted(first.manifest["devices"])
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain") == files(out)


def test_the_render_record_is_written_again_only_when_it_changed(intent_dir, tmp_path, cache):
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    record = cache.path("render", f"{out.resolve()}\0")
    first = record.stat()
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert result.written == [] and record.stat().st_ino == first.st_ino  # touched, not written
    intent_dir.replace("sites/guangxi/nanning.yaml", "name: 隆安县", "name: 隆安县 (新)")
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).written
    assert record.stat().st_ino != first.st_ino
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).written == []  # and it holds the new keys


def test_an_edit_rewrites_its_device_and_the_neighbour_whose_config_shows_it(intent_dir, tmp_path, cache):
    """The county PE's uplink bandwidth is printed by the county PE and by the city PE at the
    other end of the link: both are rendered again, nothing else."""
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    before = inodes(out)
    intent_dir.replace("sites/guangxi/nanning.yaml", "{peer: gx-nn-pe1, bandwidth: 1G, carrier: china-telecom}",
                       "{peer: gx-nn-pe1, bandwidth: 500M, carrier: china-telecom}")  # the same gigabit ports
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert sorted(result.written) == ["gx-nn-la-pe1", "gx-nn-pe1"]
    assert {n for n, i in inodes(out).items() if before.get(n) != i} == {"gx-nn-la-pe1.cfg", "gx-nn-pe1.cfg",
                                                                         "manifest.json"}
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


def test_a_site_name_is_part_of_its_devices_and_of_no_other(intent_dir, tmp_path, cache):
    """Each header prints its site's name (d.site_name): renaming a site renders its devices again."""
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    intent_dir.replace("sites/guangxi/nanning.yaml", "name: 隆安县", "name: 隆安县 (新)")
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert result.written and all(n.startswith("gx-nn-la") for n in result.written)
    assert "隆安县 (新)" in (out / f"{result.written[0]}.cfg").read_text(encoding="utf-8")
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


def test_what_a_template_reads_from_the_network_is_part_of_the_key(intent_dir, tmp_path, cache, monkeypatch,
                                                                     clean_template_caches):
    """A template may look up what its device does not hold through `net` — here the parent
    site's name: what it read is part of the key, so renaming the city renders again the
    configs that printed that name, and no other."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    system = templates / "huawei_vrp" / "system.j2"
    system.write_text(system.read_text(encoding="utf-8") + "{% set up = net.sites[d.site].parent %}"
                      "# under {{ net.sites[up].name if up else 'none' }}\n", encoding="utf-8")
    monkeypatch.setenv("NETGEN_TEMPLATES", str(templates))
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    intent_dir.replace("sites/guangxi/nanning.yaml", "name: 南宁市", "name: 南宁市 (新)")
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    net = resolve(intent_dir.root).network
    below = {n for n, d in net.devices.items() if net.sites[d.site].parent == "gx-nn" and d.platform == "huawei_vrp"}
    at = {n for n, d in net.devices.items() if d.site == "gx-nn"}  # their header names the city
    assert below and set(result.written) == below | at
    assert all("# under 南宁市 (新)" in (out / f"{n}.cfg").read_text(encoding="utf-8") for n in below)
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


def test_a_template_change_renders_again(intent_dir, tmp_path, cache, monkeypatch, clean_template_caches):
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    system = templates / "huawei_vrp" / "system.j2"
    system.write_text(system.read_text(encoding="utf-8") + "# changed template\n", encoding="utf-8")
    monkeypatch.setenv("NETGEN_TEMPLATES", str(templates))
    load_platform.cache_clear()
    build_mod._template.cache_clear()
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    vrp = sorted(n for n, e in result.manifest["devices"].items() if e["platform"] == "huawei_vrp")
    assert vrp and sorted(result.written) == vrp
    assert all("# changed template" in (out / f"{n}.cfg").read_text(encoding="utf-8") for n in vrp)
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


def test_templates_are_kept_compiled_in_the_cache_and_compiled_again_when_edited(
        intent_dir, tmp_path, cache, monkeypatch, clean_template_caches):
    """A build keeps its templates compiled in the cache; a process started later loads them
    instead of compiling, and compiles again one whose source changed (jinja2 checks it)."""
    import jinja2

    compiles: list[tuple] = []  # (source, name, filename, ...) of each template compiled
    real = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda env, *a, **kw: compiles.append(a) or real(env, *a, **kw))
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    monkeypatch.setenv("NETGEN_TEMPLATES", str(templates))
    assert build(lazy(intent_dir.root), tmp_path / "first", jobs=1, cache=cache).ok
    assert compiles and list((cache.dir / build_mod.COMPILED).iterdir())

    def new_process():
        compiles.clear()
        load_platform.cache_clear()
        build_mod._template.cache_clear()

    new_process()
    assert build(lazy(intent_dir.root), tmp_path / "second", jobs=1, cache=cache).ok
    assert compiles == []  # every template loaded compiled
    system = templates / "huawei_vrp" / "system.j2"
    system.write_text(system.read_text(encoding="utf-8") + "# edited after it was compiled\n", encoding="utf-8")
    new_process()
    out = tmp_path / "third"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    assert [name for _, name, *_ in compiles] == ["system.j2"]
    assert "# edited after it was compiled" in (out / "gx-nn-pe1.cfg").read_text(encoding="utf-8")
    # a cache whose directory for them cannot be made keeps none, and builds the same
    shutil.rmtree(cache.dir / build_mod.COMPILED)
    (cache.dir / build_mod.COMPILED).write_text("in the way", encoding="utf-8")
    new_process()
    assert build(lazy(intent_dir.root), tmp_path / "fourth", jobs=1, cache=cache).ok
    assert files(tmp_path / "fourth") == files(out)


def test_other_code_never_reuses_a_key(intent_dir, tmp_path, cache, monkeypatch):
    """Keys include netgen's code fingerprint: with other code (here: a device template that
    renders differently, and another fingerprint) nothing cached is taken for current."""
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok

    class Other:
        def __init__(self, real):
            self.real = real

        def render(self, **kw):
            return self.real.render(**kw) + "! other code\n"

    real = build_mod._template
    monkeypatch.setattr(build_mod, "_template", lambda *args: Other(real(*args)))
    monkeypatch.setattr(build_mod, "code_fingerprint", lambda: "other code")
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert sorted(result.written) == sorted(result.manifest["devices"])
    assert all(p.read_text(encoding="utf-8").endswith("! other code\n") for p in out.glob("*.cfg"))


def test_a_damaged_cache_is_ignored(intent_dir, tmp_path, cache):
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    for entry in (cache.dir / "render").iterdir():
        entry.write_bytes(b"not a pickle")
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


def test_an_interrupted_update_is_repaired_by_comparing_bytes(intent_dir, tmp_path, cache):
    """A build killed while updating the directory in place leaves its marker; the next build
    trusts neither the manifest's hashes nor the cache and puts back every changed file."""
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    victim = sorted(out.glob("*.cfg"))[0]
    victim.write_text("half a config\n", encoding="utf-8")
    (out / PARTIAL).touch()
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert result.written == [victim.stem]
    assert not (out / PARTIAL).exists()
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


def test_a_device_gone_or_built_into_another_file_leaves_no_old_file(intent_dir, tmp_path, cache):
    """A device taken out of the intent loses its config; a device whose platform writes
    another file name (frr: .conf) loses the old one. The directory is then exactly a fresh build."""
    out = tmp_path / "build"
    before = {rel: intent_dir.read(rel) for rel in ("sites/jiangxi/nanchang.yaml", "departments.yaml")}
    county = intent_dir.add_county()
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok and (out / f"{county}.cfg").is_file()
    for rel, text in before.items():
        intent_dir.write(rel, text)
    ce = "platform: {}\n        vendor: h3c\n        model: {}"
    intent_dir.replace("sites/guangxi/nanning.yaml", ce.format("h3c_comware", "MSR2630"), ce.format("frr", "x86-frr"))
    result = build(lazy(intent_dir.root), out, jobs=1, cache=cache)
    assert result.ok and result.removed == [county] and "gx-nn-la-cx-ce1" in result.written
    assert not (out / f"{county}.cfg").exists() and not (out / "gx-nn-la-cx-ce1.cfg").exists()
    assert (out / "gx-nn-la-cx-ce1.conf").is_file()
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_build_that_fails_while_rendering_leaves_nothing_behind(intent_dir, tmp_path, cache, monkeypatch, jobs):
    """A render process that fails (a bug, Ctrl-C) stops the build: the build directory is as it
    was, and no staging directory is left beside it."""
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=1, cache=cache).ok
    before = files(out)
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    monkeypatch.setattr(build_mod, "CHUNK", 3)
    monkeypatch.setattr(build_mod, "PER_PROCESS", 3)

    def broken(outcomes, rendered):
        raise KeyboardInterrupt if jobs == 1 else RuntimeError("a worker failed")

    monkeypatch.setattr(build_mod, "_done", broken)
    with pytest.raises(KeyboardInterrupt if jobs == 1 else RuntimeError):
        build(lazy(intent_dir.root), out, jobs=jobs, cache=cache)
    assert files(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["build", "cache", "inventory"]


def test_a_build_from_a_plain_network_is_cached_too(intent_dir, tmp_path, cache):
    res = resolve(intent_dir.root)
    out = tmp_path / "build"
    assert build(res.network, out, jobs=1, cache=cache).ok
    assert build(resolve(intent_dir.root).network, out, jobs=1, cache=cache).written == []
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    assert build(resolve(intent_dir.root).network, out, jobs=1, cache=cache).written == ["gx-nn-la-cx-ce1"]


def test_workers_give_the_same_build(intent_dir, tmp_path, cache, monkeypatch):
    monkeypatch.setattr(build_mod, "CHUNK", 3)  # several tasks, and forked worker processes for them
    monkeypatch.setattr(build_mod, "PER_PROCESS", 3)
    out = tmp_path / "build"
    assert build(lazy(intent_dir.root), out, jobs=2, cache=cache).ok
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    result = build(lazy(intent_dir.root), out, jobs=2, cache=cache)
    assert result.written == ["gx-nn-la-cx-ce1"]
    assert files(out) == uncached(intent_dir.root, tmp_path / "plain")


@pytest.mark.parametrize("count,jobs", [(1, 1), (255, 1), (3000, 2), (50832, 2), (50832, 4)])
def test_tasks_cover_the_names_in_order_from_large_to_small(count, jobs):
    names = [f"d{i:06d}" for i in range(count)]
    tasks = build_mod._tasks(names, jobs)
    assert [n for t in tasks for n in t] == names
    sizes = [len(t) for t in tasks]
    assert sizes == sorted(sizes, reverse=True)
    assert all(build_mod.CHUNK <= s <= build_mod.TASK for s in sizes[:-1]) and sizes[-1] <= build_mod.TASK
    if count > 4 * build_mod.TASK * jobs:  # long runs start with the largest tasks, end with the smallest
        assert sizes[0] == build_mod.TASK and sizes[-2] == build_mod.CHUNK


def test_every_device_of_the_example_is_cacheable(intent_dir):
    """Specs hold plain values only; one that did not would be rendered on every build."""
    from netgen.render.digest import digest
    network = resolve(intent_dir.root).lazy_network()
    assert all(digest(network.spec("devices", n)) is not None for n in network.devices)
    assert all(digest(network.spec("sites", s)) is not None for s in network.sites)


def test_the_manifest_is_written_as_json_would_write_it(tmp_path):
    """A build joins its tasks' runs of entries, made where the devices were rendered."""
    manifest = {"netgen": "0.1.0", "intent_sha256": "a" * 64, "templates_sha256": "b" * 64,
                "devices": {"b-pe1": {"file": "b-pe1.cfg", "platform": "huawei_vrp", "sha256": "c" * 64},
                            "a-\u00e9\"x": {"file": "a\\b.conf", "platform": "frr", "sha256": "d"}}}
    runs = [",\n".join(manifest_entry(n, e["file"], e["platform"], e["sha256"]) for n, e in sorted(part))
            for part in (list(manifest["devices"].items())[1:], list(manifest["devices"].items())[:1])]
    text = manifest_document(runs, "a" * 64, "0.1.0", "b" * 64)
    assert text == json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    assert json.loads(text) == manifest and MANIFEST == "manifest.json"
    assert manifest_document([], "a" * 64, "0.1.0", "b" * 64) == \
        json.dumps({**manifest, "devices": {}}, indent=1, sort_keys=True) + "\n"
    with pytest.raises(TypeError):  # only strings are written as json writes them
        manifest_entry("x", "x.cfg", "frr", None)  # type: ignore[arg-type]
