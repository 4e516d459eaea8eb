"""The build directory: configs plus manifest.json, replaced only by a whole, newer build.

- A build writes the configs that changed into a staging directory beside the build
  directory, hard-links the unchanged ones into it (same inode and mtime, so tools watching
  the build see only real changes) and adds the manifest. Then one rename(2) with
  RENAME_EXCHANGE swaps the two directories: killed at any instant, the build directory holds
  the old build or the new one, never a mix. The old one is removed after. A killed build's
  staging directory is removed by the next build (once its process is gone).
- What is on disk is checked against the manifest, not believed: a file whose inode, size,
  mtime (as the cache recorded them after the last commit) or mode differ is hashed, and one
  whose bytes differ — edited by hand, deleted, chmod-ed — is written again and reported.
  Files netgen did not write are not carried into the new build.
"""
from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path

from ..locking import pid_alive

MANIFEST = "manifest.json"
PARTIAL = ".netgen-partial"  # left by older netgens while updating in place: trust no manifest hash
RACY_NS = 50_000_000  # a file changed this close to when its stat was recorded may hide an edit
KILL_AT = "NETGEN_TEST_KILL_AT"  # tests only: the step of a commit at which the build kills itself


def fingerprint(paths: list[Path], root: Path | None = None) -> str:
    """sha256 over files' names and bytes, in sorted order. With `root`, names are relative to
    it, so the same tree gives the same hash whatever path it was reached by."""
    h = hashlib.sha256()
    if root is not None:
        root = Path(root).resolve()
        named = sorted((Path(p).resolve().relative_to(root).as_posix(), Path(p)) for p in paths)
    else:
        named = sorted((str(p), Path(p)) for p in paths)
    for name, p in named:
        h.update(name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def staging(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"


def checkpoint(step: str) -> None:
    """Tests kill the build here (SIGKILL: no cleanup runs) when NETGEN_TEST_KILL_AT names `step`."""
    if os.environ.get(KILL_AT) == step:
        os.kill(os.getpid(), 9)


def file_mode() -> int:
    """The mode a new config gets (0644 less the umask), read without changing the umask."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o644 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o644 & ~mask


@dataclass
class Previous:
    """What the build directory holds now, as far as it can be trusted."""

    devices: dict  # manifest entries: device → {file, platform, sha256}
    files: set[str]  # names present in the directory
    trusted: bool  # the manifest's hashes describe the files (no update was interrupted)
    stats: dict = field(default_factory=dict)  # file → (inode, size, mtime_ns, ctime_ns) after the last commit
    since: int = 0  # when they were recorded (ns since the epoch)
    mode: int = 0o644  # a config's mode in a fresh build
    _roots: dict = field(default_factory=dict, repr=False)  # build directory → its path as text

    def racy(self) -> bool:
        """Whether a file was written so close to when its stat was recorded that the record cannot
        vouch for it (every file of a commit, just after it): a new record is then due."""
        edge = self.since - RACY_NS
        return not self.stats or any(max(m, c) >= edge for _, _, m, c in self.stats.values())

    def same(self, out_dir: Path, name: str, file: str, sha: str, text: bytes | None) -> bool:
        """Whether the directory already holds exactly this config for this device."""
        prev = self.devices.get(name)
        if not isinstance(prev, dict) or prev.get("file") != file or file not in self.files:
            return False
        if not self.trusted:
            return text is not None and self.holds(out_dir, file, text=text)
        return prev.get("sha256") == sha and self.holds(out_dir, file, sha=sha)

    def holds(self, out_dir: Path, file: str, sha: str | None = None, text: bytes | None = None) -> bool:
        """Whether `file` in `out_dir` is a plain file of the fresh mode with these bytes (or this
        hash). Its recorded stat vouches for the bytes; else they are read. (Paths as strings: a
        national build asks 50,000 times, and pathlib would cost it half a second.)"""
        root = self._roots.get(out_dir)
        if root is None:
            root = self._roots[out_dir] = os.fspath(out_dir)
        path = f"{root}/{file}"
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != self.mode:
            return False
        # ctime too: restoring the mtime (touch -r) after a same-size edit changes it
        if sha is not None and self.stats.get(file) == (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) \
                and max(st.st_mtime_ns, st.st_ctime_ns) < self.since - RACY_NS:
            return True
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return False
        return data == text if text is not None else hashlib.sha256(data).hexdigest() == sha


def previous(out_dir: Path, stats: bytes | None = None) -> Previous:
    """The build directory as it is; `stats`: what record_stats() returned after its commit."""
    _recover(out_dir)
    try:
        files = set(os.listdir(out_dir))
    except OSError:
        return Previous({}, set(), True, mode=file_mode())
    try:
        devices = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("devices", {})
    except (OSError, ValueError, AttributeError):
        devices = {}
    since, recorded = _parse_stats(stats)
    return Previous(devices if isinstance(devices, dict) else {}, files, PARTIAL not in files, recorded, since,
                    file_mode())


def record_stats(out_dir: Path, names) -> bytes:
    """The inode, size, mtime and ctime of `names` in the build directory, and when they were taken:
    the fast check of the next build (kept in the cache: the directory holds only the build)."""
    now = time.time_ns()
    lines = [str(now)]
    root = os.fspath(out_dir)
    for name in names:
        try:
            st = os.lstat(f"{root}/{name}")
        except OSError:
            continue
        lines.append(f"{st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {name}")
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _parse_stats(blob: bytes | None) -> tuple[int, dict]:
    if not blob:
        return 0, {}
    try:
        head, *lines = blob.decode("utf-8", "surrogateescape").split("\n")
        out = {}
        for line in lines:
            ino, size, mtime, ctime, name = line.split(" ", 4)
            out[name] = (int(ino), int(size), int(mtime), int(ctime))
        return int(head), out
    except ValueError:  # a damaged record: every file is hashed
        return 0, {}


def prepare(out_dir: Path) -> None:
    """Check the build directory can be replaced by a build, and remove the staging
    directories of builds that were killed (their process is gone). OSError names the problem."""
    _recover(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OSError(errno.ENOTDIR, "not a directory; choose another -o", str(out_dir))
    if out_dir.is_dir() and os.path.ismount(out_dir):
        raise OSError(errno.EBUSY, "a mount point cannot be replaced; build into a directory inside it",
                      str(out_dir))
    if out_dir.is_dir() and not (out_dir / MANIFEST).is_file() and any(out_dir.iterdir()):
        raise OSError(errno.EEXIST, "exists, holds files and is not a netgen build (no manifest.json); "
                      "choose another -o or empty it", str(out_dir))
    stales = [*out_dir.parent.glob(f".{out_dir.name}.tmp-*"), *out_dir.parent.glob(f".{out_dir.name}.old-*")]
    for stale in stales:  # (an .old- one left with no build directory was put back by _recover())
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and (int(pid) == os.getpid() or not pid_alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)


def commit(out_dir: Path, stage: Path, manifest: str, keep: list[str], manifest_kept: bool) -> None:
    """Make the build directory hold the new build: the configs in `stage`, the files `keep`
    of the directory (unchanged configs), and the manifest (its text; `manifest_kept`: the
    directory's is the same file). On an error the directory is as it was."""
    if not out_dir.exists():
        (stage / MANIFEST).write_text(manifest, encoding="utf-8")
        checkpoint("manifest")
        os.rename(stage, out_dir)
        checkpoint("exchanged")
        return
    for i, f in enumerate(keep):
        os.link(out_dir / f, stage / f)  # the same file, in the new build too
        if i == len(keep) // 2:
            checkpoint("linking")
    if manifest_kept:
        os.link(out_dir / MANIFEST, stage / MANIFEST)
    else:
        (stage / MANIFEST).write_text(manifest, encoding="utf-8")
    checkpoint("manifest")
    if not _exchange(stage, out_dir):  # no RENAME_EXCHANGE here: two renames, _recover() if killed between
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        os.rename(out_dir, old)
        os.rename(stage, out_dir)
        stage = old
    checkpoint("exchanged")
    shutil.rmtree(stage, ignore_errors=True)  # the old build
    checkpoint("cleaned")


_RENAME_EXCHANGE, _AT_FDCWD = 2, -100
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
except (OSError, AttributeError):  # not Linux, or a C library without it
    _renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically; False where the system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


# manifest.json is what json.dumps(manifest, indent=1, sort_keys=True) writes, plus a newline
# (BuildResult.manifest reads it back), written directly from each device's entry, made where
# the device was rendered (json's indenting encoder is pure Python: a quarter of a second at
# 50,000 devices).

def manifest_entry(name: str, file: str, platform: str, sha256: str) -> str:
    """A device's entry in manifest.json (TypeError for a value that is not a string)."""
    q = encode_basestring_ascii  # json.dumps of a string
    return f'  {q(name)}: {{\n   "file": {q(file)},\n   "platform": {q(platform)},\n   "sha256": {q(sha256)}\n  }}'


def manifest_document(entries: list[str], intent_sha256: str, netgen: str, templates_sha256: str) -> str:
    """manifest.json from its devices' entries (manifest_entry; runs of them joined by ",\\n"),
    in device name order."""
    q = encode_basestring_ascii
    devices = "{\n" + ",\n".join(entries) + "\n }" if entries else "{}"
    return (f'{{\n "devices": {devices},\n "intent_sha256": {q(intent_sha256)},\n "netgen": {q(netgen)},\n'
            f' "templates_sha256": {q(templates_sha256)}\n}}\n')


def _recover(out_dir: Path) -> None:
    """A build killed between the two renames of the fallback commit left `.NAME.old-*`: put it back."""
    if out_dir.exists():
        return
    for old in sorted(out_dir.parent.glob(f".{out_dir.name}.old-*")):
        os.rename(old, out_dir)
        return
