"""`netgen build` end to end through the real command: manifest, atomicity, the lock file."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def netgen(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "netgen", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_build_writes_one_config_per_device_and_a_truthful_manifest(intent_dir, tmp_path):
    out = tmp_path / "build"
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["devices"]) == 18
    assert len(manifest["intent_sha256"]) == 64 and len(manifest["templates_sha256"]) == 64
    for name, entry in manifest["devices"].items():
        data = (out / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
    assert sorted(p.name for p in out.iterdir()) == sorted([*(e["file"] for e in manifest["devices"].values()),
                                                            "manifest.json"])
    assert "Traceback" not in r.stderr


def test_failed_build_leaves_the_previous_build_intact(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    intent_dir.replace("sites/jiangxi/nanchang.yaml", "peer: jx-pe2,", "peer: jx-pe9,")
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 1
    assert "hierarchy.uplink-peer" in r.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not list(tmp_path.glob(".build.*")), "no staging directory may be left behind"


def test_changing_one_device_rewrites_only_the_affected_files(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    inodes = {p.name: p.stat().st_ino for p in out.iterdir()}
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    changed = {p.name for p in out.iterdir() if p.stat().st_ino != inodes.get(p.name)}
    assert changed == {"gx-nn-la-cx-ce1.cfg", "manifest.json"}, changed


def test_locked_build_refuses_new_allocations(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out), "--locked").returncode == 0
    intent_dir.write("sites/jiangxi/new-county.yaml", """sites:
  - id: jx-nc-jx
    name: 进贤县
    level: county
    code: 360124
    parent: jx-nc
    devices:
      - {name: jx-nc-jx-pe1, role: pe, platform: huawei_vrp, vendor: huawei, model: AR6140,
         uplinks: [{peer: jx-nc-pe1, bandwidth: 1G}]}
""")
    r = netgen("build", str(intent_dir.root), "-o", str(out), "--locked")
    assert r.returncode == 1 and "lock.outdated" in r.stdout, r.stdout + r.stderr
    lock_before = intent_dir.read("netgen.lock")
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    lock_after = intent_dir.read("netgen.lock")
    assert "ipv4/pool/jx-nc-jx" in lock_after and "ipv4/pool/jx-nc-jx" not in lock_before
    # every entry that was there is still there, unchanged
    old, new = json.loads(lock_before)["allocations"], json.loads(lock_after)["allocations"]
    assert all(new[k] == v for k, v in old.items())
    assert (out / "jx-nc-jx-pe1.cfg").is_file()


def test_pin_that_contradicts_the_lock_names_both_values_and_the_way_out(intent_dir, tmp_path):
    intent_dir.replace("sites/jiangxi/province.yaml", "        model: AR6280\n",
                       "        model: AR6280\n        loopback: {ipv4: 10.255.36.9}\n")
    r = netgen("build", str(intent_dir.root), "-o", str(tmp_path / "b"))
    assert r.returncode == 1
    line = intent_dir.line_of("sites/jiangxi/province.yaml", "loopback: {ipv4: 10.255.36.9}")
    assert f"province.yaml:{line}:" in r.stdout and "allocate.pin-lock" in r.stdout
    assert "10.255.36.9/32" in r.stdout and "10.255.0.11/32" in r.stdout
    assert "netgen release ipv4/loopback/jx-gqc-pe1" in r.stdout


def test_unknown_platform_is_a_clear_error(intent_dir, tmp_path):
    r = netgen("build", str(intent_dir.root), "-o", str(tmp_path / "b"), "--platform", "cisco_ios")
    assert r.returncode == 1
    assert "no templates for platform `cisco_ios`" in r.stdout
    assert "Traceback" not in r.stderr


def test_a_second_build_renders_nothing_and_the_cache_changes_no_byte(intent_dir, tmp_path, private_cache):
    out, plain = tmp_path / "build", tmp_path / "plain"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0 and "0 written, 18 unchanged" in r.stdout, r.stdout
    assert any(private_cache.rglob("*")), "the cache was used"
    intent_dir.replace("sites/guangxi/nanning.yaml", "model: MSR2630", "model: MSR2630-WiNet")
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0 and "1 written, 17 unchanged" in r.stdout, r.stdout
    assert netgen("build", str(intent_dir.root), "-o", str(plain), "--no-cache").returncode == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {p.name: p.read_bytes() for p in plain.iterdir()}


def test_validate_reports_the_same_with_and_without_the_cache(intent_dir):
    intent_dir.replace("sites/jiangxi/nanchang.yaml", "peer: jx-pe2,", "peer: jx-pe9,")
    runs = [netgen("validate", str(intent_dir.root), "--format", "json", *flags) for flags in ([], [], ["--no-cache"])]
    assert {r.returncode for r in runs} == {1}
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout


def test_the_benchmarks_national_generator_writes_intent_that_builds_clean(tmp_path):
    """benchmarks/gen_intent.py at a small size: valid, resolvable and renderable as generated."""
    src = tmp_path / "national"
    gen = subprocess.run([sys.executable, "benchmarks/gen_intent.py", str(src), "--sites", "300"], capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    assert gen.returncode == 0, gen.stderr
    summary = json.loads(gen.stdout)
    r = netgen("build", str(src), "-o", str(tmp_path / "build"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"built {summary['devices']} devices" in r.stdout and r.stderr.count("warning") == 0
