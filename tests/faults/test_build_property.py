"""Property: whatever sequence of builds, intent edits, killed builds and releases, the build
directory is a fresh `--no-cache` build of the last intent that built, and the lock holds what
that build uses (a `--locked` fresh build of it from the lock as it is now succeeds and is equal)."""
from __future__ import annotations

import hashlib
import json
import shutil
import signal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NEW_COUNTY
from tests.faults.test_build_faults import files, netgen

STEPS = st.lists(st.one_of(st.just(("build",)), st.just(("edit",)), st.just(("release",)),
                           st.tuples(st.just("kill"), st.sampled_from(["rendered", "linking", "manifest",
                                                                       "exchanged", "cleaned"]))),
                 min_size=2, max_size=5)


def _comparable(tree: dict[str, bytes]) -> dict:
    """A build directory, the manifest's intent hash aside (it covers the lock file, which a
    release changes after the build)."""
    out = dict(tree)
    if "manifest.json" in out:
        manifest = json.loads(out.pop("manifest.json"))
        manifest.pop("intent_sha256")
        out["manifest"] = manifest
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_the_build_directory_is_always_the_last_good_build(steps, intent_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("prop")
    intent, out = work / "inventory", work / "build"
    shutil.copytree(intent_dir.root, intent)
    nanchang = (intent / "sites/jiangxi/nanchang.yaml").read_text()
    built: dict[str, bytes] | None = None  # the intent's files (without the lock) at the last good build
    refs: dict[str, dict] = {}

    def snapshot() -> dict[str, bytes]:
        return {str(p.relative_to(intent)): p.read_bytes() for p in intent.rglob("*.yaml")}

    for step in steps:
        if step[0] == "edit":  # the county comes or goes
            text = (intent / "sites/jiangxi/nanchang.yaml").read_text()
            (intent / "sites/jiangxi/nanchang.yaml").write_text(nanchang if NEW_COUNTY in text else nanchang + NEW_COUNTY)
        elif step[0] == "release":  # frees the county's space once no build uses it
            if built is not None and NEW_COUNTY not in built["sites/jiangxi/nanchang.yaml"].decode():
                netgen("release", "jx-nc-xj*", "-C", str(intent))
        else:
            env = {"NETGEN_TEST_KILL_AT": step[1]} if step[0] == "kill" else {}
            r = netgen("build", str(intent), "-o", str(out), env=env)
            # (a build with nothing to change never reaches the steps of a commit, and succeeds)
            assert r.returncode in ((0,) if step[0] == "build" else (0, -signal.SIGKILL)), r.stderr
            if r.returncode == 0 or step[1] in ("exchanged", "cleaned"):
                built = snapshot()
        if built is None:
            assert not out.exists()
            continue
        # a fresh, locked, uncached build of the last good intent, from the lock as it is now
        key = hashlib.sha256(repr(sorted(built.items())).encode() + (intent / "netgen.lock").read_bytes()).hexdigest()
        if key not in refs:
            ref = work / f"ref-{key[:12]}"
            shutil.copytree(intent, ref / "inventory", ignore=shutil.ignore_patterns("*.yaml"))
            for rel, data in built.items():
                (ref / "inventory" / rel).parent.mkdir(parents=True, exist_ok=True)
                (ref / "inventory" / rel).write_bytes(data)
            r = netgen("build", str(ref / "inventory"), "-o", str(ref / "build"), "--no-cache", "--locked")
            assert r.returncode == 0, "the lock no longer holds what the build uses: " + r.stdout
            refs[key] = _comparable(files(ref / "build"))
        assert _comparable(files(out)) == refs[key], steps
