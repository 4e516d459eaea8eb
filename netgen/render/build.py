"""Render every device's config into a build directory: parallel, cached, atomic.

- One process per core: this one and forked workers, which inherit the model — or build the
  devices they render from the network-wide facts (model/lazy.py). Only names, hashes and
  diagnostics travel back: each writes the configs it renders into the staging directory.
- With a cache, a device is rendered again only when what its config is made of changed: the
  device's model data, what its templates read from the rest of the network, the templates,
  netgen's code (see digest.py, reads.py). The key is checked against the cache's record of
  the previous build of the same directory, whose file the manifest vouches for.
- Nothing in the build directory changes unless every device rendered (outdir.py).
"""
from __future__ import annotations

import hashlib
import io
import json
import mmap
import multiprocessing
import os
import pickle
import shutil
import sys
import traceback
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Callable, NamedTuple

import jinja2

from .. import __version__
from ..diagnostics import Diagnostic, Location, Result, Severity
from ..intent.background import InChild, cores
from ..intent.cache import Cache, code_fingerprint
from ..intent.gcpause import without_gc
from ..model.lazy import LazyNetwork
from ..model.types import Network
from .digest import digest
from .environment import make_environment
from .outdir import (MANIFEST, Previous, checkpoint, commit, fingerprint, manifest_document,  # noqa: F401
                     manifest_entry, prepare, previous, record_stats, staging)
from .platform import Platform, PlatformError, load_platform
from .reads import NetworkReads, ReadValues

# The fewest and most devices in a task a process takes (see _tasks). A task's devices are
# built after the cache has checked all of them, from the specs that check gathered (the
# LazyNetwork keeps them). The last tasks are small so that the processes finish together.
CHUNK, TASK = 64, 1024
PER_PROCESS = 256  # the fewest devices worth another process (it loads, or compiles, the templates again)
KEEP_INDEXES = 32  # build directories whose render records the cache keeps
COMPILED, KEEP_COMPILED = "templates", 512  # compiled templates the cache keeps (the shipped: 20)


@dataclass
class BuildResult(Result):
    out_dir: Path | None = None
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # devices whose file on disk was not what the manifest said
    dropped: list[str] = field(default_factory=list)  # files in the directory that netgen did not write
    manifest_text: str = ""  # manifest.json as written

    @property
    def manifest(self) -> dict:
        """manifest.json (read from its text when asked for: a build itself never needs it)."""
        return json.loads(self.manifest_text) if self.manifest_text else {}


@dataclass
class _Job:
    """What the workers need, set before they fork."""

    network: Network | LazyNetwork
    platform: str | None
    out_dir: Path
    stage: int  # the staging directory, open: each config is created in it by name
    suffix: dict[str, str]  # platform → file suffix
    context: dict[str, str]  # platform → digest of its templates and netgen's code
    record: dict  # device → (key, sha256, reads) from the previous build
    previous: Previous
    platform_of: Callable[[str], str]
    compiled: str | None = None  # the cache's directory of compiled templates

    def platform_for(self, name: str) -> str:
        """The platform a device is rendered for: the build's, else its own."""
        return self.platform or self.platform_of(name)

    def file(self, name: str) -> str:
        """A device's config file in the build directory."""
        return name + self.suffix[self.platform_for(name)]

    @cached_property
    def values(self) -> ReadValues:  # made in each worker, kept across its chunks
        return ReadValues(self.network)


_JOB: _Job | None = None


class _Outcome(NamedTuple):
    name: str
    platform: str
    sha256: str | None
    key: bytes | None  # what the config is made of (None: not cacheable)
    reads: tuple  # what its templates read from the network
    staged: bool  # written into the staging directory (new content)
    diagnostic: Diagnostic | None = None


class _Done(NamedTuple):
    """A task's devices as the build directory, the manifest and the cache need them, made by
    the process that rendered them: the main process only joins text and bytes. (When tasks
    sent dicts, pickling, sending and unpickling them, then writing them out as the manifest
    and pickling them again as the record, kept both cores waiting a fifth of a second.)"""

    manifest: str  # the devices' manifest entries (outdir.manifest_entry), joined, in name order
    record: bytes  # {device: (key, sha256, reads)} pickled, for the next build to compare
    written: list[str]  # devices whose config is new, in the staging directory
    unchanged: list[str]
    rendered: int  # devices rendered (the others kept from the previous build as they were)
    replaced: list[str]  # files of the previous build whose device now has another (platform)
    diagnostics: list[Diagnostic]
    repaired: list[str]  # written again though the manifest already had that config: the file differed


@lru_cache(maxsize=None)
def _template(platform_name: str, compiled: str | None = None) -> jinja2.Template:
    """A platform's device template; `compiled`: where to keep its templates compiled."""
    return make_environment(load_platform(platform_name), compiled).get_template("device.j2")


def render_device(device, network: Network, platform: str | None = None) -> str:
    """One device's config text for its own platform, or for `platform` (e.g. frr for the lab)."""
    return _template(platform or device.platform).render(d=device, net=network)


def _template_error(name: str, exc: BaseException) -> Diagnostic:
    """Point at the template line that failed, not at netgen's code."""
    where = Location(f"templates/{name}")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            where = Location(os.path.relpath(frame.filename), frame.lineno or 0, 1)
            break
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = Location(os.path.relpath(exc.filename), exc.lineno or 0, 1)
    return Diagnostic("render.template", Severity.ERROR, f"{name}: {type(exc).__name__}: {exc}", where,
                      "fix the template; templates only print values the model provides")


def _render_chunk(names: list[str]) -> _Done:
    """A task's devices rendered (or kept); a config with new content is written into the
    staging directory.

    In phases, each over the whole task: every device's digest and what the cache keeps, then
    every model the rest need, then every config rendered, hashed and written, then the keys.
    Each phase runs one kind of code over many devices, which keeps it in the CPU's caches: a
    fifth faster than device by device. What a phase reads from the one before is what that one
    just made (a device's digest is taken as its spec is gathered, a config's hash while its
    text is fresh)."""
    job = _JOB
    values = job.values
    kept: dict[str, _Outcome] = {}
    todo: list[tuple[str, str, bytes | None]] = []  # (device, platform, its digest: ReadValues.device)
    for name in names:
        plat = job.platform_for(name)
        made_of = values.device(name, job.context[plat])
        old = job.record.get(name)
        if old is not None and job.previous.same(job.out_dir, name, job.file(name), old[1], None):
            key = _key(made_of, old[2])
            if key is not None and key == old[0]:  # made of the same things as the file there
                kept[name] = _Outcome(name, plat, old[1], key, old[2], False)
                continue
        todo.append((name, plat, made_of))
    devices = [job.network.devices[name] for name, _, _ in todo]
    rendered: list[tuple[str, str, bytes | None, str, NetworkReads, bool]] = []
    for (name, plat, made_of), device in zip(todo, devices):
        reads = NetworkReads(job.network)
        try:
            text = _template(plat, job.compiled).render(d=device, net=reads).encode("utf-8")
        except Exception as exc:  # a template bug becomes a diagnostic naming the template line
            kept[name] = _Outcome(name, plat, None, None, (), False, _template_error(name, exc))
            continue
        file = job.file(name)
        sha = hashlib.sha256(text).hexdigest()
        staged = not job.previous.same(job.out_dir, name, file, sha, text)
        if staged:
            try:
                _write(job.stage, file, text)
            except OSError as exc:  # full disk, quota: one line naming the directory
                kept[name] = _Outcome(name, plat, None, None, (), False, Diagnostic(
                    "render.write", Severity.ERROR, f"cannot write {file} into the staging directory beside "
                    f"{job.out_dir}: {exc.strerror}", Location(str(job.out_dir)),
                    "free space (or fix the permissions) there, or build elsewhere with -o; the build "
                    "directory is unchanged"))
                continue
        rendered.append((name, plat, made_of, sha, reads, staged))
    for name, plat, made_of, sha, reads, staged in rendered:
        read = tuple(sorted(reads.reads))
        kept[name] = _Outcome(name, plat, sha, _key(made_of, read), read, staged)
    return _done([kept[name] for name in names], len(rendered))


def _done(outcomes: list[_Outcome], rendered: int) -> _Done:
    """A task's outcomes as build() joins them."""
    entries: list[str] = []
    record: dict[str, tuple] = {}
    done = _Done("", b"", [], [], rendered, [], [], [])
    previous = _JOB.previous.devices
    for o in outcomes:
        if o.diagnostic is not None:
            done.diagnostics.append(o.diagnostic)
            continue
        file = _JOB.file(o.name)
        entries.append(manifest_entry(o.name, file, o.platform, o.sha256))
        if o.key is not None:
            record[o.name] = (o.key, o.sha256, o.reads)
        (done.written if o.staged else done.unchanged).append(o.name)
        old = previous.get(o.name)
        old_file = old.get("file") if isinstance(old, dict) else None
        if o.staged and old_file == file and old.get("sha256") == o.sha256:
            done.repaired.append(o.name)
        if isinstance(old_file, str) and old_file != file:
            done.replaced.append(old_file)
    return done._replace(manifest=",\n".join(entries), record=pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))


def _key(device: bytes | None, reads: tuple) -> bytes | None:
    """What a device's config is made of, digested: its platform's templates and netgen's code
    with the device (ReadValues.device), and the current value of each thing its templates read."""
    if device is None or not reads:
        return device
    values = _JOB.values
    return digest(device, *[(r, values.value(r)) for r in reads])


def _write(directory: int, name: str, data: bytes) -> None:
    """A new file in the staging directory (os calls, relative to the directory's descriptor:
    pathlib's cost more, and so does the kernel walking the whole path, 50,000 times)."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=directory)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


@without_gc
def build(network: Network | LazyNetwork, out_dir: Path, platform: str | None = None, jobs: int | None = None,
          intent_fingerprint: str | Callable[[], str] = "", progress: bool = False, cache: Cache | None = None,
          before_commit: Callable[[], object] | None = None) -> BuildResult:
    """Render `network` (a Network, or a LazyNetwork whose devices the workers build) into
    `out_dir`; `platform` renders every device for that platform instead of its own.
    `before_commit` runs once everything rendered, before the build directory changes (the
    CLI writes the lock file there: a build never uses allocations the lock does not hold).
    OSError: the build directory cannot be used or replaced; it is then as it was."""
    global _JOB
    result = BuildResult(out_dir=Path(out_dir))
    out_dir = Path(os.path.realpath(out_dir))  # a symbolic link's target is what is replaced
    names = sorted(network.devices)  # (already, from the model): the manifest is in name order
    lazy = isinstance(network, LazyNetwork)
    platform_of = network.platform if lazy else (lambda n: network.devices[n].platform)
    try:
        platforms = {platform} if platform else \
            network.platforms() if lazy else {d.platform for d in network.devices.values()}
        descriptors: dict[str, Platform] = {p: load_platform(p) for p in sorted(platforms)}
    except PlatformError as exc:
        result.diagnostics.append(Diagnostic("render.platform", Severity.ERROR, str(exc), Location("templates"),
                                             "render with --platform frr, or add templates for that platform"))
        return result
    template_files = {p: [f for f in d.directory.rglob("*") if f.is_file()] for p, d in descriptors.items()}
    context = {p: f"{code_fingerprint()} {fingerprint(fs)} {p}" for p, fs in template_files.items()}
    prepare(out_dir)
    slot = f"{out_dir.resolve()}\0{platform or ''}"
    prev = previous(out_dir, _read_stats(cache, slot))
    record = _read_record(cache, slot) if prev.trusted else {}
    stage = staging(out_dir)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    stage_fd = os.open(stage, os.O_RDONLY | os.O_DIRECTORY)
    job = _JOB = _Job(network, platform, out_dir, stage_fd, {p: d.suffix for p, d in descriptors.items()}, context,
                      record, prev, platform_of, _compiled_templates(cache))
    try:
        done: list[_Done] = _render(names, jobs, progress)
    except BaseException:  # a worker that failed, Ctrl-C: nothing half-written stays behind
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        _JOB = None
        os.close(stage_fd)
    try:
        result.diagnostics += [d for task in done for d in task.diagnostics]
        if result.diagnostics:
            shutil.rmtree(stage, ignore_errors=True)
            return result
        for task in done:
            result.written += task.written
            result.unchanged += task.unchanged
        result.removed, gone = _removed(prev, result.written + result.unchanged,
                                        [f for task in done for f in task.replaced], job.file)
        result.repaired = [n for task in done for n in task.repaired]
        checkpoint("rendered")
        if before_commit is not None:
            before_commit()
        if callable(intent_fingerprint):  # of the intent as before_commit left it (the lock written)
            intent_fingerprint = intent_fingerprint()
        result.manifest_text = manifest_document([task.manifest for task in done], intent_fingerprint, __version__,
                                                 fingerprint([f for fs in template_files.values() for f in fs]))
        keep = [job.file(n) for n in result.unchanged]
        new_files = {*keep, *(job.file(n) for n in result.written)}
        result.dropped = sorted(prev.files - new_files - set(gone) - {MANIFEST})
        manifest_kept = _manifest_kept(out_dir, prev, result.manifest_text)
        changed = bool(result.written or gone or result.dropped or not manifest_kept or not out_dir.exists())
        if changed:
            commit(out_dir, stage, result.manifest_text, keep, manifest_kept)
        else:  # nothing to change: the directory stays as it is, every inode too
            shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if cache is not None and (changed or result.repaired or prev.racy()):
        # the fast check of the next build: how the files it trusts look now (a build that
        # changed nothing keeps the record that vouched for every file: it is still true)
        cache.write("outdir", slot, record_stats(out_dir, sorted(new_files)))
        cache.trim("outdir", KEEP_INDEXES)
    elif cache is not None:
        cache.touch("outdir", slot)
    if cache is not None and not any(task.rendered for task in done) and len(result.unchanged) == len(record):
        cache.touch("render", slot)  # every device kept as it was: the record is the same, 5 MB not written again
    elif cache is not None:
        cache.write("render", slot, b"".join(task.record for task in done))  # pickles, one after another
        cache.trim("render", KEEP_INDEXES)
    return result


def _compiled_templates(cache: Cache | None) -> str | None:
    """The cache's directory of compiled templates (made, and kept to a bound, here: once per
    build, before the processes that render fork)."""
    if cache is None or not cache.enabled:  # a refused cache directory: nothing made in it
        return None
    cache.trim(COMPILED, KEEP_COMPILED)
    try:
        (cache.dir / COMPILED).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return str(cache.dir / COMPILED)


def _removed(prev: Previous, names: list[str], replaced: list[str],
             file_of: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """The previous build's devices this one does not have, and the files to delete: theirs, and
    the old files of devices now built into another (`replaced`) — unless a device still has it."""
    if not prev.devices:
        return [], []
    removed = sorted(set(prev.devices) - set(names))
    files = {e.get("file") for e in map(prev.devices.get, removed) if isinstance(e, dict)}.union(replaced)
    gone = {f for f in files if isinstance(f, str) and f in prev.files}  # only names the directory holds
    if gone:
        gone -= {file_of(n) for n in names}
    return removed, sorted(gone)


def _manifest_kept(out_dir: Path, prev: Previous, text: str) -> bool:
    """Whether the directory's manifest.json is already this text (a plain file of the fresh mode)."""
    return MANIFEST in prev.files and prev.holds(out_dir, MANIFEST, text=text.encode("utf-8"))


def _read_stats(cache: Cache | None, slot: str) -> bytes | None:
    """The files' stat as the last commit into this directory left them (outdir.record_stats)."""
    try:
        return cache.read("outdir", slot) if cache is not None else None
    except Exception:  # an unreadable record only costs hashing the files
        return None


def _read_record(cache: Cache | None, slot: str) -> dict:
    """The previous build's record: its tasks' pickled dicts, one after another. The cache
    returns it only once its signature checked (bound to this slot); even then it is unpickled
    allowing no class at all (it holds dicts, tuples, strings and bytes), and a value of another
    shape empties it: a record can only cost a render, never keep a wrong file."""
    blob = (cache.read("render", slot) if cache is not None else None) or b""
    record: dict = {}
    try:
        with io.BytesIO(blob) as data:
            while data.tell() < len(blob):
                record.update(_PlainUnpickler(data).load())
    except Exception:  # a damaged record only costs a full render
        return {}
    if not all(type(v) is tuple and len(v) == 3 and isinstance(v[0], bytes) and isinstance(v[1], str)
               and type(v[2]) is tuple for v in record.values()):
        return {}
    return record


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"a render record names no class ({module}.{name})")


def _render(names: list[str], jobs: int | None, progress: bool, work=_render_chunk) -> list:
    """`work`'s result for each task (_tasks), in task order: run in this process and `jobs - 1`
    forked copies of it, each taking the next task when it is free. A copy shares the model
    copy-on-write and sends back only its results; nothing is fed to it while it runs — a task
    queue's feeder thread competes with this process's own rendering for the GIL and leaves
    the workers waiting: the next task's number is in shared memory."""
    jobs = max(1, min(jobs or cores(), len(names) // PER_PROCESS))
    tasks = _tasks(names, jobs)
    queue = _Queue(len(tasks), jobs)
    others = [InChild(partial(_share, work, tasks, queue, k)) for k in range(1, jobs)]
    bar = _Progress(len(names), queue) if progress else None
    try:
        mine = _share(work, tasks, queue, 0, bar)
        while bar and not all(o.ready(0.1) for o in others):
            bar.update()
        shares = [mine, *(o.result() for o in others)]
    finally:
        for o in others:
            o.close()
        if bar:
            bar.stop()
    done: list = [None] * len(tasks)
    for share in shares:
        for index, result in share:
            done[index] = result
    return done


def _tasks(names: list[str], jobs: int) -> list[list[str]]:
    """Consecutive names, in tasks from TASK down to CHUNK devices: large ones keep a process on
    one phase of the work for longer (see _render_chunk), and small last ones let the processes
    finish together."""
    out, i = [], 0
    while i < len(names):
        size = max(CHUNK, min(TASK, (len(names) - i) // (2 * jobs)))
        out.append(names[i:i + size])
        i += size
    return out


class _Queue:
    """Tasks handed out in order to whichever process asks first, and devices done per process
    (for the progress bar): counters in memory the forked processes share."""

    def __init__(self, tasks: int, jobs: int):
        self.tasks, self.lock = tasks, multiprocessing.get_context("fork").Lock()
        self.shared = mmap.mmap(-1, 8 * (1 + jobs))  # next task, then devices done per process

    def take(self) -> int | None:
        with self.lock:
            index = int.from_bytes(self.shared[0:8], "little")
            if index >= self.tasks:
                return None
            self.shared[0:8] = (index + 1).to_bytes(8, "little")
        return index

    def did(self, slot: int, devices: int) -> None:
        self.shared[8 + 8 * slot:16 + 8 * slot] = devices.to_bytes(8, "little")

    def done(self) -> int:
        return sum(int.from_bytes(self.shared[i:i + 8], "little") for i in range(8, len(self.shared), 8))


def _share(work, tasks: list[list[str]], queue: _Queue, slot: int, bar: "_Progress | None" = None) -> list:
    """(task number, work's result) for each task this process took."""
    results, n = [], 0
    while (index := queue.take()) is not None:
        results.append((index, work(tasks[index])))
        n += len(tasks[index])
        queue.did(slot, n)
        if bar:
            bar.update()
    return results


class _Progress:
    """A rich progress bar on stderr, only at a terminal."""

    def __init__(self, total: int, queue: _Queue):
        self.p, self.queue = None, queue
        if sys.stderr.isatty() and total > 200:
            from rich.progress import Progress

            self.p = Progress(transient=True)
            self.p.start()
            self.task = self.p.add_task("rendering", total=total)

    def update(self) -> None:
        if self.p:
            self.p.update(self.task, completed=self.queue.done())

    def stop(self) -> None:
        if self.p:
            self.p.stop()
