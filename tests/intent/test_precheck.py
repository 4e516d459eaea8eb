"""The compiled precheck never says yes where cerberus (or the secrets check) says no.

It answers for valid files so that cerberus runs only on the others; a wrong yes would let a
bad file through. Hypothesis mutates the example's documents — values of every type at random
places, keys added and removed — and whenever the precheck passes a document, cerberus and the
secrets check must find nothing. The example itself and a generated national-format intent
must pass it (else there is no speed-up)."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netgen.intent.load import load_file
from netgen.intent.precheck import compile_rules, precheck
from netgen.intent.schema import FILE_SCHEMA, SECRET_REF_RE, make_validator
from netgen.intent.yamltree import SECRET_KEY_RE

REPO = Path(__file__).resolve().parents[2]
DOCS = [load_file(p)[0].data for p in sorted((REPO / "inventory").rglob("*.yaml"))]
VALUES = [None, True, False, 0, 1, -1, 7, 65536, 4200000000, 1.5, "", "x", "jx", "Jx", "jx pe", "10.0.0.0/8",
          "10.0.0.1/8", "10.0.0.1", "fd00::/48", "fd00::1", "300.0.0.0", "1G", "1g", "secret:x", "env:X",
          "hunter2", "A", "G", "pe", "rr", "huawei_vrp", "county", "public", "hwtacacs", "49.0036", "4.5:6",
          [], ["x"], ["jx", 1], {}, {"ipv4": "10.0.0.0/8"}, {"unknown": 1}, {"key": "plain"}]
KEYS = ["id", "name", "level", "code", "parent", "devices", "uplinks", "peer", "bandwidth", "key", "password",
        "auth_key", "zones", "class", "prefixes", "ipv4", "ipv6", "unknown", "mgmt", "internet", "attach"]


def paths(node, prefix=()):
    """Every (container, key-or-index) in a tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield node, k
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield node, i
            yield from paths(v, prefix + (i,))


def containers(node):
    if isinstance(node, (dict, list)):
        yield node
        for v in (node.values() if isinstance(node, dict) else node):
            yield from containers(v)


def cleartext_secret(node) -> bool:
    """What netgen's secrets check looks for, over plain dicts and lists too."""
    if isinstance(node, dict):
        return any((SECRET_KEY_RE.search(str(k)) and not isinstance(v, (dict, list)) and v is not None
                    and not (isinstance(v, str) and SECRET_REF_RE.match(v))) or cleartext_secret(v)
                   for k, v in node.items())
    return isinstance(node, list) and any(cleartext_secret(v) for v in node)


edit = st.tuples(st.sampled_from(["set", "delete", "add"]), st.integers(0, 10 ** 6), st.sampled_from(VALUES),
                 st.sampled_from(KEYS))


def apply(doc, e) -> None:
    op, n, value, key = e
    value = copy.deepcopy(value)
    if op == "add":
        found = list(containers(doc))
        target = found[n % len(found)]
        if isinstance(target, dict):
            target[key] = value
        else:
            target.append(value)
        return
    found = list(paths(doc))
    if not found:
        return
    target, k = found[n % len(found)]
    if op == "set":
        target[k] = value
    elif isinstance(target, dict):
        del target[k]
    else:
        del target[k]


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(which=st.integers(0, len(DOCS) - 1), edits=st.lists(edit, min_size=1, max_size=3))
def test_a_yes_is_never_wrong(which, edits):
    doc = copy.deepcopy(DOCS[which])
    for e in edits:
        apply(doc, e)
    if precheck(doc):
        validator = make_validator()
        assert validator.validate(doc, normalize=False), validator.errors
        assert not cleartext_secret(doc)


def test_valid_files_pass():
    assert all(precheck(d) for d in DOCS)


def test_generated_national_files_pass(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import gen_intent
        gen_intent.generate(tmp_path / "g", 200)
    finally:
        sys.path.pop(0)
    docs = [load_file(p)[0] for p in sorted((tmp_path / "g").rglob("*.yaml"))]
    assert docs and all(precheck(d.data) for d in docs)


def test_a_rule_it_does_not_know_is_refused_when_compiled():
    with pytest.raises(ValueError, match="minlength"):
        compile_rules({"type": "string", "minlength": 2})
    assert set(FILE_SCHEMA) == {"network", "zones", "departments", "sites"}
