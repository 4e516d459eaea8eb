"""Strict inputs and helpful OS errors (issue 17): the intent tree, netgen.lock, the secrets
file and every operating-system error end in one line naming the path and what to do —
never a silent skip, never the catch-all "netgen's fault" message.

Permissions are tested as an unprivileged process. Root ignores them, so as root the command
runs with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped (`setpriv --bounding-set`): it is
then bound by file modes like any user, while still reaching the interpreter under /root
(which `nobody` cannot).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netgen.cli import main
from netgen.deploy.secrets import SecretError, Secrets
from netgen.model.lock import Lock, LockError

REPO = Path(__file__).resolve().parents[2]
FAULT = "netgen's fault"


def netgen(*args, cwd, unprivileged=False, env=None):
    prefix = []
    if unprivileged and os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv is needed to drop root's permission override")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    r = subprocess.run([*prefix, sys.executable, "-m", "netgen", *args], capture_output=True, text=True,
                       cwd=cwd, timeout=120, errors="replace",
                       env={**os.environ, "PYTHONPATH": str(REPO), "NETGEN_CACHE_DIR": str(Path(cwd) / "cache"),
                            **(env or {})})
    out = r.stdout + r.stderr
    assert "Traceback" not in out and FAULT not in out, out
    return r


@pytest.fixture
def tree(intent_dir):
    """The example's copy; as root the commands run as the file owner without the override,
    so the private tmp directory needs no opening up."""
    return intent_dir


def _devices(build: Path) -> set[str]:
    return {p.stem for p in build.iterdir() if p.suffix in (".cfg", ".conf")}


# --------------------------------------------------------------------------- the intent tree


@pytest.mark.parametrize("command", ["validate", "build"])
def test_an_unreadable_folder_is_an_error_not_a_missing_province(tree, command):
    tree.path("sites/guangxi").chmod(0)
    try:
        r = netgen(command, "inventory", *(["-o", "out"] if command == "build" else []), cwd=tree.root.parent,
                   unprivileged=True)
    finally:
        tree.path("sites/guangxi").chmod(0o755)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "inventory/sites/guangxi: error[load.unreadable]: cannot list folder: Permission denied" in r.stdout
    assert not (tree.root.parent / "out").exists()  # nothing built without Guangxi


def test_a_folder_that_cannot_be_searched_names_its_files(tree):
    tree.path("sites/guangxi").chmod(0o644)  # listable, but its entries cannot be examined
    try:
        r = netgen("validate", "inventory", cwd=tree.root.parent, unprivileged=True)
    finally:
        tree.path("sites/guangxi").chmod(0o755)
    assert r.returncode == 2
    assert "inventory/sites/guangxi/nanning.yaml: error[load.unreadable]: cannot examine" in r.stdout


def test_an_unreadable_file_is_an_error(tree):
    tree.path("sites/guangxi/nanning.yaml").chmod(0)
    r = netgen("validate", "inventory", cwd=tree.root.parent, unprivileged=True)
    assert r.returncode == 2
    assert "inventory/sites/guangxi/nanning.yaml: error[load.unreadable]: cannot read file: Permission denied" \
        in r.stdout


def test_validate_and_build_refuse_a_symlinked_folder_outside_the_intent(tree):
    outside = tree.root.parent / "elsewhere"
    shutil.move(tree.path("sites/guangxi"), outside)
    tree.path("sites/guangxi").symlink_to(outside)
    for args in (["validate", "inventory"], ["build", "inventory", "-o", "out"]):
        r = netgen(*args, cwd=tree.root.parent)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "inventory/sites/guangxi: error[load.symlink]: symlink leads outside the intent directory" in r.stdout
    assert not (tree.root.parent / "out").exists()


def test_a_symlinked_folder_inside_the_intent_is_read_once(tree):
    whole = netgen("build", "inventory", "-o", "whole", cwd=tree.root.parent)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    shutil.move(tree.path("sites/guangxi"), tree.path(".shared-guangxi"))  # hidden: read only through the link
    tree.path("sites/guangxi").symlink_to("../.shared-guangxi")
    r = netgen("build", "inventory", "-o", "linked", cwd=tree.root.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _devices(tree.root.parent / "linked") == _devices(tree.root.parent / "whole")
    assert any(d.startswith("gx-") for d in _devices(tree.root.parent / "linked"))


@pytest.mark.parametrize("link", ["sites/guangxi/loop", "sites/again"])
def test_a_folder_reached_twice_is_an_error(tree, link):
    tree.path(link).symlink_to(tree.path("sites/guangxi") if link == "sites/again" else tree.path("sites"))
    for command in ("validate", "build"):
        r = netgen(command, "inventory", cwd=tree.root.parent)
        assert r.returncode == 2
        assert f"inventory/{link}: error[load.symlink]: the same folder as" in r.stdout


def test_a_fifo_anywhere_in_the_tree_is_an_error_and_never_blocks(tree):
    os.mkfifo(tree.path("sites/notes.txt"))
    t0 = time.perf_counter()
    r = netgen("validate", "inventory", cwd=tree.root.parent)
    assert time.perf_counter() - t0 < 30
    assert r.returncode == 2
    assert "inventory/sites/notes.txt: error[load.unreadable]: not a regular file or folder" in r.stdout


def test_a_name_that_is_not_utf8_is_reported(tree):
    (tree.root / os.fsdecode(b"sites/gx\xff.yaml")).write_text("zones: []\n")
    r = netgen("validate", "inventory", "--format", "json", cwd=tree.root.parent)
    assert r.returncode == 1
    found = json.loads(r.stdout)["diagnostics"]
    assert [(d["rule"], d["file"]) for d in found] == [("load.name", os.fsdecode(b"inventory/sites/gx\xff.yaml"))]
    text = netgen("validate", "inventory", cwd=tree.root.parent)  # text: the byte escaped
    assert "error[load.name]: name `gx\\xff.yaml` is not valid UTF-8" in text.stdout


def test_an_intent_path_that_cannot_be_opened_is_one_line(tree):
    r = netgen("validate", "a" * 300, cwd=tree.root.parent)
    assert r.returncode == 2 and "File name too long" in r.stdout


# --------------------------------------------------------------------------- netgen.lock

def _lock_lines(intent_dir) -> list[str]:
    return intent_dir.read("netgen.lock").split("\n")


@pytest.mark.parametrize("case", ["duplicate", "number", "list", "null", "format", "top-list", "unknown", "deep"])
def test_a_malformed_lock_is_one_line_naming_file_and_line(intent_dir, case):
    lines = _lock_lines(intent_dir)
    key, _, value = lines[4].strip().rstrip(",").partition(": ")
    text, line = {
        "duplicate": ("\n".join(lines[:5] + [lines[4]] + lines[5:]), 6),
        "number": ("\n".join(lines[:4] + [f"  {key}: 7,"] + lines[5:]), 5),
        "list": ("\n".join(lines[:4] + [f"  {key}: [{value}],"] + lines[5:]), 5),
        "null": ("\n".join(lines[:4] + [f"  {key}: null,"] + lines[5:]), 5),
        "format": ("\n".join([lines[0], ' "format": "1",'] + lines[2:]), 2),
        "top-list": ("[1, 2]\n", 1),
        "unknown": ("\n".join([lines[0], ' "extra": {},'] + lines[1:]), 2),
        "deep": ('{"format": 1,\n "allocations": {"a": ' + "[" * 50_000 + "]" * 50_000 + "}}\n", 2),
    }[case]
    intent_dir.write("netgen.lock", text)
    for lazy in (False, True):
        with pytest.raises(LockError) as err:
            Lock.read(intent_dir.root, lazy=lazy).entries  # noqa: B018
        assert err.value.line == line and "restore it from version control" in str(err.value)
    r = netgen("build", str(intent_dir.root), "-o", "out", cwd=intent_dir.root.parent)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"netgen.lock:{line}: " in r.stdout and "git checkout" in r.stdout
    assert not (intent_dir.root.parent / "out").exists()


def test_a_lock_that_is_a_fifo_is_refused_without_blocking(intent_dir):
    intent_dir.path("netgen.lock").unlink()
    os.mkfifo(intent_dir.path("netgen.lock"))
    with pytest.raises(LockError, match="not a regular file"):
        Lock.read(intent_dir.root)


# --------------------------------------------------------------------------- the secrets file

@pytest.mark.parametrize("text, key, what", [
    ("tacacs: 0755\n", "tacacs", "number other than it looks"),
    ("tacacs: 12:30:45\n", "tacacs", "number other than it looks"),
    ("tacacs: no\n", "tacacs", "boolean"),
    ("tacacs: true\n", "tacacs", "is a boolean"),
    ("tacacs: 493\n", "tacacs", "is a number"),
    ("tacacs:\n", "tacacs", "has no value"),
    ("tacacs: ''\n", "tacacs", "has no value"),
    ("tacacs: !!binary aGVsbG8=\n", "tacacs", "tag"),
    ("tacacs: &k Sekr1t-Value\nsnmp: *k\n", "tacacs", "anchor"),
    ("tacacs: Sekr1t-Value\ntacacs: Sekr1t-Value\n", "tacacs", "duplicate key"),
    ("tacacs: [Sekr1t-Value]\n", "tacacs", "not text"),
])
def test_the_secrets_file_refuses_what_the_intent_refuses(tmp_path, text, key, what):
    f = tmp_path / "secrets.yaml"
    f.write_text(text)
    f.chmod(0o600)
    with pytest.raises(SecretError) as err:
        Secrets.load(f)
    message = str(err.value)
    assert message.startswith(f"{f}:") and f"`{key}`" in message and what in message, message
    for value in ("0755", "12:30:45", "493", "Sekr1t", "aGVsbG8"):
        assert value not in message  # never the value
    assert "\n" not in message


def test_a_quoted_secrets_file_is_read_as_written(tmp_path):
    f = tmp_path / "secrets.yaml"
    f.write_text("tacacs: '0755'\nsnmp-auth: \"12:30:45\"\nsnmp-priv: plain-Text-9\n")
    f.chmod(0o600)
    assert Secrets.load(f).values == {"tacacs": "0755", "snmp-auth": "12:30:45", "snmp-priv": "plain-Text-9"}


def test_a_bad_secrets_file_stops_plan_with_one_line(intent_dir, tmp_path):
    f = tmp_path / "secrets.yaml"
    f.write_text("aaa-shared-key: 0755\n")
    f.chmod(0o600)
    r = netgen("plan", str(intent_dir.root), "--secrets", str(f), cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.startswith(f"error: {f}:1: ") and r.stderr.count("\n") == 1


# --------------------------------------------------------------------------- operating-system errors

@pytest.mark.parametrize("code, path, path2, hint", [
    (errno.EXDEV, "build/.stage", "build", "one file system"),
    (errno.ENOSPC, "build/jx-pe1.cfg", None, "free space"),
    (errno.ENAMETOOLONG, "a" * 300, None, "shorter path"),
    (errno.ENOTDIR, "afile/sub", None, "not a folder"),
    (errno.EACCES, "build", None, "permissions"),
    (errno.EROFS, "build", None, "read-only"),
    (errno.ENOENT, os.fsdecode(b"caf\xe9"), None, "exists"),
])
def test_every_os_error_is_one_line_with_the_path(monkeypatch, capsys, code, path, path2, hint):
    import netgen.cli.validate as cmd

    def fail(args):
        raise OSError(code, os.strerror(code), path, None, path2)

    monkeypatch.setattr(cmd, "run", fail)
    assert main(["validate", "x"]) == 2
    err = capsys.readouterr().err
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")
    assert err.startswith(f"error: netgen validate: `{shown}`") and os.strerror(code) in err and hint in err
    assert err.count("\n") == 1 and FAULT not in err
    if path2:
        assert f"→ `{path2}`" in err


def test_a_full_disk_without_a_file_name_names_the_output(monkeypatch, capsys, intent_dir, tmp_path):
    import netgen.cli.plan as cmd

    def fail(args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cmd, "run", fail)
    assert main(["plan", str(intent_dir.root), "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert f"`{tmp_path / 'p.json'}`: No space left on device; free space" in err and FAULT not in err


def test_a_real_cross_device_rename_in_lock_is_one_line(monkeypatch, capsys, intent_dir):
    intent_dir.add_county()  # something new to record

    def exdev(src, dst, *a, **k):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", exdev)
    monkeypatch.setattr(os, "rename", exdev)
    code = main(["lock", str(intent_dir.root), "--no-cache"])
    err = capsys.readouterr()
    assert code in (1, 2) and FAULT not in err.err + err.out
    assert "netgen.lock" in err.err + err.out and "cross-device" in (err.err + err.out).lower()


# --------------------------------------------------------------------------- argument bounds

@pytest.mark.parametrize("args", [
    ["apply", "p.json", "--workers", "0"], ["apply", "p.json", "--workers", "100000"],
    ["apply", "p.json", "--wave-size", "0"], ["apply", "p.json", "--max-failures", "-1"],
    ["apply", "p.json", "--commit-timeout", "0"], ["apply", "p.json", "--health-timeout", "nan"],
    ["apply", "p.json", "--health-timeout", "inf"], ["apply", "p.json", "--canary", "-1"],
    ["apply", ""], ["plan", "-o", ""], ["plan", "--limit", ""], ["plan", "--workers", "0"],
    ["verify", "--workers", "1000"], ["lab", "up", "--wait", "-5"], ["diff", "--base", ""],
])
def test_arguments_are_bounded(capsys, args):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_a_health_check_longer_than_the_confirm_timer_is_refused(capsys):
    assert main(["apply", "p.json", "--commit-timeout", "60", "--health-timeout", "90"]) == 2
    assert "--health-timeout (90 s) must be shorter than --commit-timeout (60 s)" in capsys.readouterr().err
