"""Property: no edit to the example intent, however wild, makes `validate` crash or hang.

Hypothesis applies a few random mutations (delete, duplicate or swap lines, re-indent, swap a
scalar for another type or random text, truncate, insert random unicode or bytes, drop a
file) to the example files and checks what any user can rely on: a result with exit code
0/1/2, every diagnostic pointing at a file (and, for file-level findings, a line), every
output format rendering. Derandomized and database-less, so CI runs the same cases each time.
"""
from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netgen import validate
from netgen.diagnostics import FORMATS, render

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory"
FILES = {p.relative_to(EXAMPLE).as_posix(): p.read_bytes() for p in sorted(EXAMPLE.rglob("*.yaml"))}
NAMES = sorted(FILES)
PWNED = "netgen-fuzz-pwned"
PER_CALL_SECONDS = 5  # one validate() of the ~450-line example takes well under a second

# Scalars of every other type (still YAML: these reach the schema and the semantic rules) ...
TYPED = [
    "~", "null", "true", "false", "-1", "0", "1.5", "1e309", ".nan", "99999999999999999999999999", "[]", "{}",
    "[a, b]", "{a: 1}", "[1, 2]", '""', '"x"', "10.0.0.0/33", "10.1.2.3/8", "fd00::/129", "central", "jx",
    "jx-pe1", "public", "huawei", "pe", "county", "A", "hunter2", "secret:x", "名字", "\U0001f600",
]
# ... and the YAML most likely to trip a loader.
BREAKING = [
    "", "no", "yes", "on", "0755", "0x1F", "1:20", "1_000", "[[[[", "}}", "'", '"', "&a x", "*a", "<<: *a",
    f"!!python/object/apply:os.mkdir [{PWNED}]", "!x y", "!!binary aGk=", "|", ">-", "- a", "? a", "%", "@",
    "`", "#", ": :", "a: b: c", "::", "\t", "\u2028", "\x85", "\ufeff", "--- x", "... x",
]
# The value part of `key: value` lines and of `key: value` pairs inside flow mappings.
SCALAR = re.compile(r"(?<=: )[^\s{}\[\],#][^,{}\[\]\n#]*")


def line_edit():
    return st.tuples(st.sampled_from(["delete", "duplicate", "swap", "indent"]), st.integers(0, 7),
                     st.integers(0, 99), st.integers(0, 99), st.integers(-4, 4))


def scalar_edit(values):
    return st.tuples(st.just("scalar"), st.integers(0, 7), st.integers(0, 199), values)


# Edits that keep most files readable come twice as often (one_of picks a branch uniformly;
# equal strategy objects count once), so the later stages see as much damage as the loader.
mutation = st.one_of(
    line_edit(), line_edit(), scalar_edit(st.sampled_from(TYPED)), scalar_edit(st.sampled_from(TYPED)),
    scalar_edit(st.one_of(st.sampled_from(BREAKING), st.text(max_size=12))),
    st.tuples(st.just("truncate"), st.integers(0, 7), st.floats(0, 1)),
    st.tuples(st.just("text"), st.integers(0, 7), st.floats(0, 1), st.text(min_size=1, max_size=8)),
    st.tuples(st.just("bytes"), st.integers(0, 7), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("drop"), st.integers(0, 7)),
)

# Edits that (nearly always) keep every file valid YAML, so the damage reaches the schema and rules.
readable_mutation = st.one_of(
    scalar_edit(st.sampled_from(TYPED)),
    scalar_edit(st.from_regex(r"[a-z0-9./:-]{1,12}", fullmatch=True)),
    st.tuples(st.just("drop"), st.integers(0, 7)),
)


def mutate(files: dict[str, bytes], m: tuple) -> None:
    op, name = m[0], NAMES[m[1] % len(NAMES)]
    if name not in files:
        return
    data = files[name]
    if op == "drop":
        del files[name]
        return
    if op in ("truncate", "text", "bytes"):
        pos = int(m[2] * len(data))
        if op == "truncate":
            files[name] = data[:pos]
        else:
            extra = m[3] if op == "bytes" else m[3].encode("utf-8", "surrogatepass")
            files[name] = data[:pos] + extra + data[pos:]
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # line and scalar edits need text: skip them after byte damage
        return
    if op == "scalar":
        spots = list(SCALAR.finditer(text))
        if spots:
            s = spots[m[2] % len(spots)]
            text = text[:s.start()] + m[3] + text[s.end():]
    else:
        lines = text.split("\n")
        i, j = m[2] % len(lines), m[3] % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif m[4] > 0:
            lines[i] = " " * m[4] + lines[i]
        else:
            lines[i] = lines[i][min(-m[4], len(lines[i]) - len(lines[i].lstrip(" "))):]
        text = "\n".join(lines)
    files[name] = text.encode("utf-8", "surrogatepass")


@contextlib.contextmanager
def hard_timeout(seconds: int):
    """Turn a hang into a test failure (where SIGALRM exists) instead of a stuck CI job."""
    if sys.platform == "win32":
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"validate() still running after {seconds}s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# Findings about a file's content always have a line; a few (a missing directory) cannot.
LINE_REQUIRED = ("yaml.", "load.encoding", "load.empty", "load.not-mapping", "schema.", "secret.")

FUZZ = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_example_never_crashes_or_hangs(mutations):
    check(mutations)


@FUZZ
@given(st.lists(readable_mutation, min_size=1, max_size=4))
def test_readable_mutations_never_crash_the_schema_or_rules(mutations):
    check(mutations)


def check(mutations) -> None:
    files = dict(FILES)
    for m in mutations:
        mutate(files, m)
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        root = Path("inventory")
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        root.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        with hard_timeout(PER_CALL_SECONDS * 2):
            result = validate(root)
        elapsed = time.perf_counter() - t0
        assert elapsed < PER_CALL_SECONDS, f"validate() took {elapsed:.1f}s"
        assert not Path(PWNED).exists(), "a YAML tag was executed"

        code = result.exit_code()
        assert code in (0, 1, 2)
        assert (code == 0) == (not result.errors)
        if not files:
            assert code == 2
        for d in result.diagnostics:
            assert d.location.file, d
            assert Path(d.location.file).exists(), d
            if d.rule.startswith(LINE_REQUIRED):
                assert d.location.line >= 1 and d.location.col >= 1, d
            for r in d.related:
                assert r.file and r.line >= 1, d
            assert d.message
        for fmt in FORMATS:
            out = render(result.diagnostics, fmt)
            if fmt in ("json", "sarif"):
                json.loads(out)

