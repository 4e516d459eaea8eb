"""The loader against bad input: every kind of malformed YAML gives one clear diagnostic.

Each file in `corpus/` is one kind of bad (or tolerated) input. EXPECT below declares, next to
its name, the rule id and line it must be reported with and the exit code. A corpus file is
dropped into a copy of the example intent, so "accepted" means the whole intent still
validates; the rest of the example must add nothing.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from netgen import validate
from netgen.diagnostics import FORMATS, Diagnostic, render
from netgen.intent import load, yamltree

CORPUS = Path(__file__).parent / "corpus"
PWNED = "netgen-pwned"  # what the code tags in the corpus would create if they ran


@dataclass(frozen=True)
class Expect:
    rule: str | None  # None: accepted, no diagnostics at all
    line: int = 0  # line of the first diagnostic with `rule`
    exit: int = 1
    col: int | None = None
    also: tuple[str, ...] = ()  # other rules allowed alongside (e.g. the alias after an anchor)
    hint: str | None = None  # text the hint must contain
    related: int | None = None  # line of the related location
    message: str | None = None  # text the message must contain


SYNTAX, FATAL = "yaml.syntax", 2
EXPECT: dict[str, Expect] = {
    # YAML syntax errors: the input cannot be used at all (exit 2)
    "syntax_unquoted_colon.yaml": Expect(SYNTAX, 4, FATAL, col=16, hint="quote"),
    "syntax_bad_indent.yaml": Expect(SYNTAX, 4, FATAL, col=4, hint="indentation"),
    "syntax_unclosed_quote.yaml": Expect(SYNTAX, 4, FATAL, col=11, message="line 4"),
    "syntax_unclosed_flow.yaml": Expect(SYNTAX, 4, FATAL, col=5, message="line 3", related=3),
    "tab_indent.yaml": Expect(SYNTAX, 4, FATAL, col=1, hint="tab"),
    "tab_indent_sequence.yaml": Expect(SYNTAX, 3, FATAL, col=1, hint="tab"),
    "control_escape.yaml": Expect(SYNTAX, 4, FATAL, col=13, message="U+001B"),
    "control_nul.yaml": Expect(SYNTAX, 4, FATAL, col=12, message="U+0000"),
    "multi_document.yaml": Expect("yaml.multi-document", 3, FATAL),
    "deep_block.yaml": Expect("yaml.too-deep", 3, FATAL),
    "deep_flow.yaml": Expect("yaml.too-deep", 2, FATAL),
    "deep_flow_mapping.yaml": Expect("yaml.too-deep", 2, FATAL),
    "not_utf8.yaml": Expect("load.encoding", 4, FATAL, col=14, message="0xe9"),
    "utf16.yaml": Expect("load.encoding", 1, FATAL, col=1, hint="UTF-16"),
    # readable YAML that the intent format refuses (exit 1)
    "duplicate_key.yaml": Expect("yaml.duplicate-key", 7, col=5, related=5),
    "duplicate_key_flow.yaml": Expect("yaml.duplicate-key", 3, col=31, related=3),
    "yaml11_no.yaml": Expect("yaml.ambiguous", 4, col=10, hint='"no"'),
    "yaml11_yes.yaml": Expect("yaml.ambiguous", 4, col=17),
    "yaml11_on.yaml": Expect("yaml.ambiguous", 7, col=50),
    "yaml11_off.yaml": Expect("yaml.ambiguous", 6, col=20),
    "yaml11_octal.yaml": Expect("yaml.ambiguous", 4, col=13, hint='"0755"'),
    "yaml11_sexagesimal.yaml": Expect("yaml.ambiguous", 4, col=9),
    "yaml11_underscore.yaml": Expect("yaml.ambiguous", 4, col=13),
    "tag_python_apply.yaml": Expect("yaml.tag", 3, col=7, message="!!python/object/apply:os.mkdir"),
    "tag_python_os_system.yaml": Expect("yaml.tag", 3, col=9, message="!!python/object/apply:os.system"),
    "tag_python_key.yaml": Expect("yaml.tag", 2, col=3, also=("yaml.complex-key",)),
    "tag_custom.yaml": Expect("yaml.tag", 5, col=12, message="!vault"),
    "tag_core.yaml": Expect("yaml.tag", 4, col=13, message="!!float"),
    "anchor_alias.yaml": Expect("yaml.anchor", 4, col=13, also=("yaml.alias",)),
    "billion_laughs.yaml": Expect("yaml.anchor", 2, col=4, also=("yaml.alias",)),
    "merge_key.yaml": Expect("yaml.merge-key", 4, col=5),
    "key_sequence.yaml": Expect("yaml.complex-key", 4, col=5),
    "key_mapping.yaml": Expect("yaml.complex-key", 2, col=3),
    "empty.yaml": Expect("load.empty", 1),
    "comments_only.yaml": Expect("load.empty", 1),
    "top_level_list.yaml": Expect("load.not-mapping", 2, message="a list"),
    "top_level_scalar.yaml": Expect("load.not-mapping", 2, message="single value"),
    # tolerated
    "utf8_bom.yaml": Expect(None, exit=0),
}


def _check_formats(diags: list[Diagnostic]) -> dict[str, str]:
    out = {fmt: render(diags, fmt) for fmt in FORMATS}
    json.loads(out["json"])
    json.loads(out["sarif"])
    return out


def test_corpus_and_table_agree():
    on_disk = {p.name for p in CORPUS.iterdir() if not p.name.startswith(".")}
    assert on_disk == set(EXPECT)


@pytest.fixture(params=["C", "pure-python"])
def parser(request, monkeypatch):
    """Run each case with libyaml's parser and with PyYAML's pure-Python one (the fallback)."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamltree, "_Loader", yaml.SafeLoader)
    return request.param


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_corpus(name, parser, intent_dir, tmp_path, monkeypatch):
    exp = EXPECT[name]
    monkeypatch.chdir(tmp_path)  # a code tag that ran would create ./netgen-pwned here
    shutil.copyfile(CORPUS / name, intent_dir.path(name))
    t0 = time.perf_counter()
    result = validate(intent_dir.root)
    elapsed = time.perf_counter() - t0
    diags = sorted(result.diagnostics, key=Diagnostic.sort_key)

    assert elapsed < 3, f"{name} took {elapsed:.1f}s"
    assert not (tmp_path / PWNED).exists(), "a tag was executed"
    assert result.exit_code() == exp.exit, [str(d.location) + " " + d.message for d in diags]
    _check_formats(diags)
    if exp.rule is None:
        assert diags == []
        return
    assert diags, f"{name}: no diagnostics"
    for d in diags:
        assert Path(d.location.file).name == name, f"the rest of the example was reported: {d}"
        assert d.rule in (exp.rule, *exp.also), d
        assert d.location.line >= 1 and d.location.col >= 1, d
    first = next(d for d in diags if d.rule == exp.rule)
    assert first.location.line == exp.line, first
    if exp.col is not None:
        assert first.location.col == exp.col, first
    if exp.hint is not None:
        assert exp.hint.lower() in first.hint.lower(), first.hint
    if exp.message is not None:
        assert exp.message in first.message, first.message
    if exp.related is not None:
        assert [r.line for r in first.related] == [exp.related], first.related
    assert all(d.fatal for d in diags if d.rule in (SYNTAX, "load.encoding", "yaml.too-deep"))


@pytest.mark.parametrize("name,target,call", [
    ("tag_python_apply.yaml", "os.mkdir", (PWNED,)),
    ("tag_python_os_system.yaml", "os.system", (f"touch {PWNED}",)),
])
def test_code_tags_are_live_payloads_but_never_run(name, target, call, tmp_path, monkeypatch):
    """The corpus's python tags really would execute under a full loader; ours never does."""
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(target, lambda *a, **k: calls.append(a) or 0)
    doc, diags = load.load_file(CORPUS / name)
    assert calls == [] and [d.rule for d in diags] == ["yaml.tag"]
    value = next(iter(doc.data["network"].values()))
    assert isinstance(value, list) and all(isinstance(x, str) for x in value)  # inert data, never an object
    yaml.unsafe_load((CORPUS / name).read_text(encoding="utf-8"))  # control: an unsafe loader runs it
    assert calls == [call]
    assert not (tmp_path / PWNED).exists()


def test_billion_laughs_is_fast_and_small():
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        doc, diags = load.load_file(CORPUS / "billion_laughs.yaml")
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes"
    text = (CORPUS / "billion_laughs.yaml").read_text(encoding="utf-8")
    assert len(diags) == text.count("&") + text.count("*")  # one per anchor and alias, no more
    assert doc is not None and all(v is None or len(v) <= 9 for v in doc.data.values())


@pytest.mark.parametrize("name", ["deep_block.yaml", "deep_flow.yaml", "deep_flow_mapping.yaml"])
def test_deep_nesting_stops_early(name):
    """10,000 levels: refused at level 32, long before a stack could be exhausted."""
    t0 = time.perf_counter()
    doc, diags = load.load_file(CORPUS / name)
    assert time.perf_counter() - t0 < 0.5
    assert doc is None and [d.rule for d in diags] == ["yaml.too-deep"] and diags[0].fatal


def test_bom_is_accepted_on_an_example_file(intent_dir):
    intent_dir.write("zones.yaml", "\ufeff" + intent_dir.read("zones.yaml"))
    result = validate(intent_dir.root)
    assert result.exit_code() == 0, result.diagnostics


def test_missing_directory(tmp_path):
    result = validate(tmp_path / "nowhere")
    assert [d.rule for d in result.diagnostics] == ["load.no-intent"]
    assert result.exit_code() == 2
    assert "does not exist" in result.diagnostics[0].message


@pytest.mark.parametrize("files", [[], ["README.md", "data.json"], [".hidden.yaml"], ["sub/notes.txt"]])
def test_directory_without_yaml(tmp_path, files):
    for f in files:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("zones: []\n", encoding="utf-8")
    result = validate(tmp_path)
    assert [d.rule for d in result.diagnostics] == ["load.no-intent"]
    assert result.exit_code() == 2
    _check_formats(result.diagnostics)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "dangling", "loop"])
def test_special_files_are_refused_not_read(intent_dir, kind):
    """A committed symlink to /dev/zero or a FIFO must not hang CI or exhaust its memory."""
    evil = intent_dir.path("evil.yaml")
    if kind == "dev-zero":
        evil.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(evil)
    elif kind == "dangling":
        evil.symlink_to(intent_dir.path("nowhere.yaml"))
    else:
        evil.symlink_to(evil)
    t0 = time.perf_counter()
    result = validate(intent_dir.root)
    assert time.perf_counter() - t0 < 3
    assert [(Path(d.location.file).name, d.rule) for d in result.diagnostics] == [("evil.yaml", "load.unreadable")]
    assert result.exit_code() == 2


def test_oversized_file_is_refused(intent_dir, monkeypatch):
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 1000)
    result = validate(intent_dir.root)
    assert {d.rule for d in result.diagnostics} == {"load.too-large"}
    assert result.exit_code() == 2


# --------------------------------------------------------------------------- structure (schema.*)

SITE = "sites/jiangxi/province.yaml"


def _only(result, rule: str) -> list[Diagnostic]:
    found = [d for d in result.diagnostics if d.rule == rule]
    assert found, [f"{d.location} {d.rule} {d.message}" for d in result.diagnostics]
    return found


@pytest.mark.parametrize("old,new,rule,needle", [
    ("code: 360000", 'code: "360000"', "schema.type", 'code: "360000"'),
    ("    devices:\n      - name: jx-pe1", "    devices: foo\n    devicez:\n      - name: jx-pe1", "schema.type", "devices: foo"),
    ("        uplinks:\n          - {peer: central-pe1, bandwidth: 10G, carrier: china-telecom}",
     "        uplinks: {}", "schema.type", "uplinks: {}"),
    ("vpn_id: 100", 'vpn_id: "100"', "schema.type", 'vpn_id: "100"'),
    ("level: province", "level: Province", "schema.value", "level: Province"),
    ("bandwidth: 10G, carrier: china-telecom", "bandwidth: 10 Gbps, carrier: china-telecom", "schema.value",
     "10 Gbps"),
    ("reflector: true", "reflector: 1", "schema.type", "reflector: 1"),
])
def test_wrong_types(intent_dir, old, new, rule, needle):
    rel = "zones.yaml" if "vpn_id" in old else SITE
    intent_dir.replace(rel, old, new)
    result = validate(intent_dir.root)
    assert result.exit_code() == 1
    d = _only(result, rule)[0]
    assert d.location.file.endswith(rel)
    assert d.location.line == intent_dir.line_of(rel, needle)


def test_unknown_key_suggests_the_known_one(intent_dir):
    intent_dir.replace(SITE, "platform: huawei_vrp", "platfrom: huawei_vrp")
    result = validate(intent_dir.root)
    d = _only(result, "schema.unknown-key")[0]
    assert d.location.line == intent_dir.line_of(SITE, "platfrom:")
    assert d.location.col == 9
    assert "`platform`" in d.hint


def test_unknown_key_in_a_free_form_mapping_still_gets_a_suggestion(intent_dir):
    """`access_classes` maps any class letter to the same rules: their keys are still known."""
    intent_dir.replace("network.yaml", "  routing:\n", "  access_classes:\n    A: {zones: [public], exitt: own}\n"
                       "  routing:\n")
    d = _only(validate(intent_dir.root), "schema.unknown-key")[0]
    assert d.location.line == intent_dir.line_of("network.yaml", "exitt")
    assert d.hint == "did you mean `exit`?"


def test_missing_required_key_points_at_the_mapping(intent_dir):
    intent_dir.replace(SITE, "    name: 江西省\n", "")
    result = validate(intent_dir.root)
    d = _only(result, "schema.required")[0]
    assert "`name`" in d.message
    assert (d.location.line, d.location.col) == (intent_dir.line_of(SITE, "- id: jx"), 5)


@pytest.mark.parametrize("rel,old,new,fixed", [
    (SITE, "prefix: {ipv4: 10.36.0.0/16}", "prefix: {ipv4: 10.36.1.0/16}", "10.36.0.0/16"),
    ("network.yaml", "national: 10.0.0.0/8", "national: 10.1.2.3/8", "10.0.0.0/8"),
    ("zones.yaml", "ipv4: 172.20.0.0/16", "ipv4: 172.20.9.0/16", "172.20.0.0/16"),
])
def test_host_bits_hint_names_the_network(intent_dir, rel, old, new, fixed):
    intent_dir.replace(rel, old, new)
    d = _only(validate(intent_dir.root), "schema.value")[0]
    assert d.location.line == intent_dir.line_of(rel, new)
    assert fixed in d.hint, d


def test_schema_excludes(intent_dir):
    intent_dir.replace("departments.yaml", "    class: A\n", "    class: A\n    zones: [public]\n")
    d = _only(validate(intent_dir.root), "schema.excludes")[0]
    assert d.location.file.endswith("departments.yaml")


# --------------------------------------------------------------------------- secrets

SECRET = "hunter2"


def _assert_not_leaked(diags, secret: str = SECRET) -> None:
    for fmt, text in _check_formats(diags).items():
        assert secret not in text, f"{secret!r} leaked in {fmt} output"


@pytest.mark.parametrize("rel,after,indent", [
    ("network.yaml", "      max_failures: 5\n", 6),
    (SITE, "        model: NE40E-X8A\n", 8),
    ("zones.yaml", "    vpn_id: 100\n", 4),
    ("departments.yaml", "    name: 审计\n", 4),
])
def test_cleartext_password_is_reported_never_printed(intent_dir, rel, after, indent):
    intent_dir.replace(rel, after, after + " " * indent + f"password: {SECRET}\n")
    result = validate(intent_dir.root)
    d = _only(result, "secret.cleartext")[0]
    assert d.location.line == intent_dir.line_of(rel, SECRET)
    assert result.exit_code() == 1
    _assert_not_leaked(result.diagnostics)


@pytest.mark.parametrize("value,secret", [
    (SECRET, SECRET), (f'"{SECRET}"', SECRET), (f"{{{SECRET}: 1}}", SECRET), (f"[{SECRET}]", SECRET),
    (f"!vault {SECRET}", SECRET), (f"&a {SECRET}", SECRET), ("0755", "0755"), ("yes", "yes"), ("1:20", "1:20"),
    ("1_000", "1_000"), ("0x1F", "0x1F"), ("12345", "12345"),
])
@pytest.mark.parametrize("key", ["password", "key", "community", "auth_key"])
def test_secret_values_never_printed_in_any_form(intent_dir, key, value, secret):
    """However a secret is written (and whatever else is wrong with it), no output shows it."""
    intent_dir.replace("network.yaml", "key: secret:aaa-shared-key", f"key: secret:aaa-shared-key\n      {key}: {value}")
    result = validate(intent_dir.root)
    assert result.exit_code() in (1, 2)
    _assert_not_leaked(result.diagnostics, secret)


def test_secret_is_not_leaked_when_the_file_has_other_errors(intent_dir):
    intent_dir.replace("network.yaml", "      max_failures: 5\n",
                       f"      password: {SECRET}\n      max_failures: 5\n      max_failures: 6\n")
    result = validate(intent_dir.root)
    assert result.exit_code() == 1
    _assert_not_leaked(result.diagnostics)
