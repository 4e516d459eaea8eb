"""The build directory and netgen.lock are never half-written, and runs never race (issue 17).

Through the real command (a subprocess, so a build can be killed) on copies of the example
intent: hand-edited build files, a lock that cannot be written, a full disk, a build killed
at every step of its commit and after many delays, two runs at once, bounded arguments.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from netgen.locking import hold
from tests.conftest import NEW_COUNTY  # the everyday change: a county with new addresses

REPO = Path(__file__).resolve().parents[2]
NEW_MODEL = ("model: MSR2630", "model: MSR2630-WiNet")  # one device's config changes, nothing is allocated


def netgen(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "netgen", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, **(env or {})}, **kw)


def start(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "netgen", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, **(env or {})})


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())} if out.exists() else {}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NETGEN_CACHE_DIR", str(tmp_path / "cache"))


def fresh(intent: Path, out: Path) -> dict[str, bytes]:
    r = netgen("build", str(intent), "-o", str(out), "--no-cache", "--locked")
    assert r.returncode == 0, r.stdout + r.stderr
    return files(out)


def one_line_error(r, *words):
    """Failed cleanly: exit 1 or 2, no traceback, an error line naming what it should."""
    assert r.returncode in (1, 2), r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "netgen's fault" not in r.stderr, r.stderr
    line = next(ln for ln in r.stderr.splitlines() if "error" in ln)
    for w in words:
        assert w in line, line


# --- a build directory edited by hand ---------------------------------------------------------------------

def test_a_build_puts_back_what_was_edited_deleted_or_chmoded_by_hand(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    time.sleep(0.1)  # past the racy window: the next build trusts the recorded stat of untouched files
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    want = fresh(intent_dir.root, tmp_path / "fresh")
    edited, same_size, gone, chmoded = (out / f for f in ("jx-pe1.cfg", "gx-pe1.cfg", "jx-pe2.cfg", "central-pe1.cfg"))
    edited.write_text(edited.read_text() + "ip route-static 0.0.0.0 0 192.0.2.66\n")
    st = same_size.stat()
    data = bytearray(same_size.read_bytes())
    data[-2:-1] = b"X"  # the same size, and the mtime put back: only the ctime tells
    same_size.write_bytes(bytes(data))
    os.utime(same_size, ns=(st.st_atime_ns, st.st_mtime_ns))
    gone.unlink()
    chmoded.chmod(0o600)
    (out / "notes.txt").write_text("mine\n")
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 written" in r.stdout
    assert "central-pe1, gx-pe1, jx-pe1, jx-pe2" in r.stderr and "notes.txt" in r.stderr
    assert files(out) == want
    assert all((out / f).stat().st_mode & 0o777 == 0o644 for f in want)
    r = netgen("build", str(intent_dir.root), "-o", str(out))  # and then it is a build like any other
    assert "0 written" in r.stdout and "differed" not in r.stderr


def test_a_manifest_edited_to_match_an_edited_config_does_not_hide_it(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    want = files(out)
    victim = out / "jx-pe1.cfg"
    victim.write_bytes(victim.read_bytes() + b"snmp-agent community write public\n")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["devices"]["jx-pe1"]["sha256"] = hashlib.sha256(victim.read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    for cached in ("", "--no-cache"):
        victim.write_bytes(victim.read_bytes() + b"#\n") if cached else None
        r = netgen("build", str(intent_dir.root), "-o", str(out), *([cached] if cached else []))
        assert r.returncode == 0 and files(out) == want, r.stderr


def test_a_directory_that_is_not_a_build_is_never_replaced(intent_dir, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work\n")
    r = netgen("build", str(intent_dir.root), "-o", str(home))
    one_line_error(r, str(home), "not a netgen build")
    assert files(home) == {"thesis.tex": b"years of work\n"}


# --- the lock file and the build directory change together, or not at all --------------------------------

@contextmanager
def read_only(path: Path):
    """`path` mounted read-only over itself (we are root: a plain chmod would not stop us)."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


@contextmanager
def small_tmpfs(path: Path, size: str):
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(directory: Path) -> None:
    """Leave no free space on `directory`'s filesystem."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_lock_that_cannot_be_written_leaves_the_build_as_it_was(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    before, lock = files(out), intent_dir.path("netgen.lock").read_bytes()
    intent_dir.add_county()  # needs new allocations
    with read_only(intent_dir.root):
        r = netgen("build", str(intent_dir.root), "-o", str(out))
    one_line_error(r, "netgen.lock", "Read-only file system")
    assert files(out) == before and intent_dir.path("netgen.lock").read_bytes() == lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "cache", "inventory"]  # no staging left


def test_a_full_disk_under_the_lock_leaves_both_as_they_were(intent_dir, tmp_path):
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    before = files(out)
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        intent = disk / "inventory"
        subprocess.run(["cp", "-a", str(intent_dir.root), str(intent)], check=True)
        lock = (intent / "netgen.lock").read_bytes()
        (intent / "sites/jiangxi/nanchang.yaml").write_text(intent_dir.read("sites/jiangxi/nanchang.yaml") + NEW_COUNTY)
        fill(disk)
        r = netgen("build", str(intent), "-o", str(out))
        one_line_error(r, "netgen.lock", "No space left on device")
        assert (intent / "netgen.lock").read_bytes() == lock
        assert not [p for p in intent.iterdir() if p.name.startswith(".netgen.lock.")]  # no temporary file left
    assert files(out) == before


def test_a_full_disk_under_the_build_directory_leaves_it_as_it_was(intent_dir, tmp_path):
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        out = disk / "build"
        assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
        before, lock = files(out), intent_dir.path("netgen.lock").read_bytes()
        intent_dir.add_county()
        intent_dir.replace("sites/guangxi/nanning.yaml", *NEW_MODEL)
        fill(disk)
        r = netgen("build", str(intent_dir.root), "-o", str(out))
        assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
        assert "No space left on device" in r.stdout + r.stderr and str(out) in r.stdout + r.stderr
        assert files(out) == before and intent_dir.path("netgen.lock").read_bytes() == lock
        assert sorted(p.name for p in disk.iterdir()) == ["build", "filler"]


def test_a_build_directory_that_cannot_be_replaced_puts_the_lock_back(intent_dir, tmp_path, monkeypatch, capsys):
    """The lock is written first; if the commit then fails, the lock goes back to its old bytes."""
    from netgen.cli import main
    from netgen.render import build as build_mod

    out = tmp_path / "build"
    assert main(["build", str(intent_dir.root), "-o", str(out)]) == 0
    before, lock = files(out), intent_dir.path("netgen.lock").read_bytes()
    intent_dir.add_county()

    def no_space(out_dir, *a, **kw):
        assert intent_dir.path("netgen.lock").read_bytes() != lock, "the lock is written before the commit"
        raise OSError(errno.ENOSPC, "No space left on device", str(out_dir))

    monkeypatch.setattr(build_mod, "commit", no_space)
    capsys.readouterr()
    assert main(["build", str(intent_dir.root), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "No space left" in err
    assert files(out) == before and intent_dir.path("netgen.lock").read_bytes() == lock


def test_writing_the_lock_keeps_its_mode(intent_dir):
    lock = intent_dir.path("netgen.lock")
    lock.chmod(0o640)
    intent_dir.add_county()
    r = netgen("lock", str(intent_dir.root))
    assert r.returncode == 0 and "+ " in r.stdout, r.stderr
    assert lock.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in intent_dir.root.iterdir() if p.name.startswith(".")] == []  # no lock file left either


# --- a build killed at any instant ---------------------------------------------------------------------------

@pytest.fixture
def old_and_new(intent_dir, tmp_path):
    """A build directory of the example, the intent then changed (a new county, a new model),
    and what a fresh build of each gives."""
    out = tmp_path / "build"
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    old = files(out)
    intent_dir.add_county()
    intent_dir.replace("sites/guangxi/nanning.yaml", *NEW_MODEL)
    r = netgen("build", str(intent_dir.root), "-o", str(tmp_path / "ref"), "--no-cache")
    assert r.returncode == 0
    new = files(tmp_path / "ref")
    subprocess.run(["rm", "-rf", str(tmp_path / "ref")], check=True)
    return out, old, new


def _check_after_kill(intent_dir, out, old, new):
    now = files(out)
    assert now in (old, new), "the build directory must be the old build or the new one"
    if now == new:  # the new build is there: its allocations are in the lock
        assert netgen("lock", str(intent_dir.root), "--check").returncode == 0
    r = netgen("build", str(intent_dir.root), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert files(out) == new
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name or p.suffix == ".lck"]


@pytest.mark.parametrize("step", ["rendered", "linking", "manifest", "exchanged", "cleaned"])
def test_a_build_killed_at_each_step_of_its_commit_leaves_the_old_or_the_new_build(intent_dir, old_and_new, step):
    out, old, new = old_and_new
    r = netgen("build", str(intent_dir.root), "-o", str(out), env={"NETGEN_TEST_KILL_AT": step})
    assert r.returncode == -signal.SIGKILL
    assert files(out) == (old if step in ("rendered", "linking", "manifest") else new)
    if step != "cleaned":
        assert [p for p in out.parent.iterdir() if ".tmp-" in p.name], "a staging directory was left to clean"
    _check_after_kill(intent_dir, out, old, new)


def test_a_build_killed_after_any_delay_leaves_the_old_or_the_new_build(intent_dir, old_and_new, tmp_path):
    out, old, new = old_and_new
    took = time.monotonic()
    assert netgen("build", str(intent_dir.root), "-o", str(tmp_path / "timing"), "--no-cache").returncode == 0
    took = time.monotonic() - took
    for fraction in (0.3, 0.5, 0.65, 0.75, 0.85, 0.9, 0.95, 1.0):
        p = start("build", str(intent_dir.root), "-o", str(out), "--no-cache")
        time.sleep(took * fraction)
        p.send_signal(signal.SIGKILL)
        p.communicate()
        assert files(out) in (old, new), f"killed after {took * fraction:.2f} s"
        if files(out) == new:
            break
    _check_after_kill(intent_dir, out, old, new)


# --- two runs at once ------------------------------------------------------------------------------------------

def test_a_second_build_into_the_same_directory_fails_with_no_wait_and_names_the_holder(intent_dir, tmp_path):
    out = tmp_path / "build"
    with hold(out, "build from elsewhere"):
        r = netgen("build", str(intent_dir.root), "-o", str(out), "--no-wait")
    one_line_error(r, str(out), f"pid {os.getpid()}", "build from elsewhere", "--no-wait")
    assert not out.exists()


@pytest.mark.parametrize("command", [["build"], ["lock"], ["release", "jx-nc-xj*", "-C"]])
def test_build_lock_and_release_wait_for_the_intents_lock_file(intent_dir, tmp_path, command):
    """While another run holds netgen.lock, these wait (saying for whom), then run."""
    args = [*command, str(intent_dir.root)]
    if command[0] == "build":
        args += ["-o", str(tmp_path / "build")]
    with hold(intent_dir.path("netgen.lock"), "release"):
        r = netgen(*args, "--no-wait")
        one_line_error(r, "netgen.lock", f"pid {os.getpid()} (netgen release)")
        p = start(*args)
        deadline = time.monotonic() + 30
        err = ""
        while "waiting for" not in err and time.monotonic() < deadline:
            time.sleep(0.1)
            err = os.read(p.stderr.fileno(), 4096).decode() if p.poll() is None else p.stderr.read()
        assert "waiting for" in err and f"pid {os.getpid()}" in err
        assert p.poll() is None, "it must wait while the lock is held"
    p.wait(timeout=60)
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr.read()  # (release: nothing matched is 1)


def test_a_release_during_a_build_is_not_undone(intent_dir, tmp_path):
    """The build that read the lock before the release must not write its entries back."""
    out = tmp_path / "build"
    intent_dir.add_county()
    assert netgen("build", str(intent_dir.root), "-o", str(out)).returncode == 0
    nanchang = intent_dir.read("sites/jiangxi/nanchang.yaml")
    intent_dir.write("sites/jiangxi/nanchang.yaml", nanchang.split("\n  - id: jx-nc-xj")[0] + "\n")
    intent_dir.replace("departments.yaml", "      - {site: jx-nc-xj}\n", "")
    for _ in range(3):
        b = start("build", str(intent_dir.root), "-o", str(out))
        rel = netgen("release", "jx-nc-xj*", "-C", str(intent_dir.root))
        assert b.wait(timeout=60) == 0
        lock = json.loads(intent_dir.read("netgen.lock"))["allocations"]
        assert not [k for k in lock if "jx-nc-xj" in k], rel.stdout + rel.stderr
        intent_dir.add_county()
        assert netgen("lock", str(intent_dir.root)).returncode == 0
        intent_dir.write("sites/jiangxi/nanchang.yaml", nanchang.split("\n  - id: jx-nc-xj")[0] + "\n")
        intent_dir.replace("departments.yaml", "      - {site: jx-nc-xj}\n", "")


# --- arguments ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["build", "-o", ""], ["-o", "empty path"]),
    (["build", "--jobs", "0"], ["--jobs", "1 to 256"]),
    (["build", "--jobs", "100000"], ["--jobs", "1 to 256"]),
    (["build", "--jobs", "many"], ["--jobs", "1 to 256"]),
    (["release", "x", "-C", "/no/such/intent"], ["/no/such/intent", "no such"]),
])
def test_arguments_out_of_bounds_are_refused_in_one_line(args, words, tmp_path):
    r = netgen(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    one_line_error(r, *words)
