"""`netgen validate` end to end through the real console entry point: exit codes and formats."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SITE = "sites/jiangxi/province.yaml"


def netgen(*args, cwd=None, env=None):
    r = subprocess.run([sys.executable, "-m", "netgen", *args], capture_output=True, text=True, cwd=cwd,
                       timeout=120, env={**os.environ, **(env or {})}, encoding="utf-8", errors="replace")
    assert "Traceback" not in r.stderr, r.stderr
    return r


@pytest.fixture
def broken(intent_dir):
    """An example copy with two schema errors (exit 1)."""
    intent_dir.replace(SITE, "platform: huawei_vrp", "platfrom: huawei_vrp")
    intent_dir.replace(SITE, "prefix: {ipv4: 10.36.0.0/16}", "prefix: {ipv4: 10.36.1.0/16}")
    return intent_dir


def test_example_is_valid(intent_dir):
    r = netgen("validate", str(intent_dir.root))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 error(s)" in r.stdout
    assert "valid:" in r.stderr


def test_default_directory_is_inventory(intent_dir):
    r = netgen("validate", cwd=intent_dir.root.parent)  # ./inventory
    assert r.returncode == 0, r.stdout + r.stderr


def test_broken_copy_exits_1_with_compiler_style_text(broken):
    r = netgen("validate", str(broken.root), "--no-color")
    assert r.returncode == 1, r.stdout + r.stderr
    line = broken.line_of(SITE, "platfrom:")
    assert re.search(rf"^\S*{re.escape(SITE)}:{line}:9: error\[schema\.unknown-key\]: ", r.stdout, re.M), r.stdout
    assert re.search(r"^    hint: did you mean `platform`\?$", r.stdout, re.M), r.stdout
    assert re.search(r"^    hint: did you mean 10\.36\.0\.0/16\?$", r.stdout, re.M), r.stdout
    assert re.search(r"^\d+ error\(s\), 0 warning\(s\)$", r.stdout, re.M)


@pytest.mark.parametrize("text,rule", [
    ("zones:\n  - id: public\n\tname: x\n", "yaml.syntax"),
    ("zones:\n  - id: public\n    name: 'open\n", "yaml.syntax"),
    ("zones: []\n---\nsites: []\n", "yaml.multi-document"),
])
def test_syntax_broken_copy_exits_2(intent_dir, text, rule):
    intent_dir.write("zz.yaml", text)
    r = netgen("validate", str(intent_dir.root))
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"error[{rule}]" in r.stdout


def test_not_utf8_exits_2(intent_dir):
    intent_dir.path("zz.yaml").write_bytes(b"zones:\n  - name: caf\xe9\n")
    r = netgen("validate", str(intent_dir.root), "--format", "json")
    assert r.returncode == 2
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert (d["rule"], d["line"], d["col"]) == ("load.encoding", 2, 14)


def test_missing_directory_exits_2(tmp_path):
    r = netgen("validate", str(tmp_path / "nowhere"))
    assert r.returncode == 2
    assert "error[load.no-intent]" in r.stdout


@pytest.mark.parametrize("args", [
    ["validate", "--format", "xml"],
    ["validate", "--bogus"],
    ["validate", "a", "b"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2_without_traceback(args, tmp_path):
    r = netgen(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "usage:" in (r.stderr + r.stdout)


def test_json(broken):
    r = netgen("validate", str(broken.root), "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    diags = doc["diagnostics"]
    assert diags and doc["summary"]["error"] == len(diags)
    for d in diags:
        assert {"file", "line", "col", "rule", "message", "severity", "hint"} <= set(d)
        assert d["file"].endswith(".yaml") and d["line"] >= 1 and d["col"] >= 1
    by_rule = {d["rule"]: d for d in diags}
    assert by_rule["schema.unknown-key"]["line"] == broken.line_of(SITE, "platfrom:")
    assert by_rule["schema.value"]["line"] == broken.line_of(SITE, "10.36.1.0/16")


def test_json_on_valid_intent(intent_dir):
    r = netgen("validate", str(intent_dir.root), "--format", "json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["diagnostics"] == []
    assert r.stderr == ""  # machine formats keep stdout pure and stderr quiet


GITHUB = re.compile(r"::error file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),title=(?P<rule>[^:]+)::(?P<msg>.+)")


def test_github(broken):
    r = netgen("validate", str(broken.root), "--format", "github")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines
    for line in lines:
        m = GITHUB.fullmatch(line)
        assert m, line
        assert int(m["line"]) >= 1 and m["file"].endswith(".yaml")
        assert "\n" not in m["msg"]
    rules = {GITHUB.fullmatch(x)["rule"] for x in lines}
    assert {"schema.unknown-key", "schema.value"} <= rules
    assert any("%0Ahint: did you mean `platform`?" in x for x in lines)


def test_github_escapes_properties(intent_dir):
    """A file name with `,` or `:` must not break the annotation's property list."""
    intent_dir.write("a,b:c.yaml", "zones: [1]\n")
    r = netgen("validate", str(intent_dir.root), "--format", "github")
    line = next(x for x in r.stdout.splitlines() if "a%2Cb%3Ac.yaml" in x)
    assert GITHUB.fullmatch(line), line


def test_sarif(broken):
    r = netgen("validate", str(broken.root), "--format", "sarif")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["version"] == "2.1.0"
    assert "sarif" in doc["$schema"]
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "netgen"
    rule_ids = [x["id"] for x in run["tool"]["driver"]["rules"]]
    assert run["results"]
    for res in run["results"]:
        assert res["ruleId"] in rule_ids and rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        phys = res["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"].endswith(".yaml")
        assert phys["region"]["startLine"] >= 1 and phys["region"]["startColumn"] >= 1
    lines = {x["ruleId"]: x["locations"][0]["physicalLocation"]["region"]["startLine"] for x in run["results"]}
    assert lines["schema.unknown-key"] == broken.line_of(SITE, "platfrom:")


def test_sarif_uris_are_uris(intent_dir):
    """Paths become URI references: percent-encoded, and `file:` URIs when absolute."""
    intent_dir.write("my zones 名.yaml", "zones: [1]\n")
    elsewhere = Path(__file__).parent  # far from the intent: paths are reported absolute
    for cwd, prefix in ((intent_dir.root, ""), (elsewhere, "file:///")):
        doc = json.loads(netgen("validate", str(intent_dir.root), "--format", "sarif", cwd=cwd).stdout)
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]]
        assert uris and all(u.startswith(prefix) for u in uris), uris
        assert any(u.endswith("my%20zones%20%E5%90%8D.yaml") for u in uris), uris
        assert not any(re.search(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]", u) for u in uris), uris


def test_sarif_related_locations_for_duplicate_keys(intent_dir):
    intent_dir.replace("zones.yaml", "    vpn_id: 100\n", "    vpn_id: 100\n    vpn_id: 101\n")
    doc = json.loads(netgen("validate", str(intent_dir.root), "--format", "sarif").stdout)
    (res,) = doc["runs"][0]["results"]
    assert res["ruleId"] == "yaml.duplicate-key"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 8
    assert res["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 7


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_secret_never_printed(intent_dir, fmt):
    intent_dir.replace("network.yaml", "      max_failures: 5\n", "      password: hunter2\n      max_failures: 5\n")
    r = netgen("validate", str(intent_dir.root), "--format", fmt)
    assert r.returncode == 1
    assert "secret.cleartext" in r.stdout
    assert "hunter2" not in r.stdout + r.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"PYTHONIOENCODING": "utf-8"},
                                 {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}])
def test_output_never_fails_to_encode(tmp_path, fmt, env):
    """Chinese text under an ASCII locale, and a file name that is not UTF-8: escaped, not a crash."""
    (tmp_path / "名字.yaml").write_text("名字: 1\n", encoding="utf-8")
    if sys.platform != "win32":
        (tmp_path / os.fsdecode(b"bad\xff.yaml")).write_text("zones: [1]\n", encoding="utf-8")
    r = netgen("validate", str(tmp_path), "--format", fmt, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    if fmt in ("json", "sarif"):
        json.loads(r.stdout)
