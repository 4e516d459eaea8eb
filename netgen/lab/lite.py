"""The VRF-lite lab (`--design lite`, platform frr): reconcile namespaces with the topology, from recorded state.

`up` is a reconciliation, so running it twice is harmless and running it after an intent change
adds the new routers, links and hosts (and removes the ones that left) without touching the
rest: routers keep their running config, which is what `plan` then compares against.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..model.types import Network
from .hosts import configure_exit, configure_host, configure_internet
from .router import Router
from .ssh import LabSsh
from .state import LabState, lab_dir, prefix_for
from .system import (LabError, existing_netns, ip_batch, is_mountpoint, kill, missing_tools, processes_in, run, sysctl,
                     unmount)
from .topology import Topology, build_topology

NAME = re.compile(r"[a-z][a-z0-9]{0,7}")
SYSCTLS = {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1", "net.ipv6.conf.default.forwarding": "1",
           "net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
           "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0"}
HOST_SYSCTLS = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0"}


@dataclass
class UpResult:
    added: list[str] = field(default_factory=list)  # routers started by this run
    kept: list[str] = field(default_factory=list)  # routers already running
    removed: list[str] = field(default_factory=list)  # routers no longer in the topology
    seconds: float = 0.0


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise LabError(f"lab name `{name}`: use 1-8 lower-case letters and digits, starting with a letter "
                       "(it prefixes every namespace and interface-visible name)")


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab creates network namespaces and mounts: run it as root")
    missing = missing_tools()
    if missing:
        raise LabError(f"missing Debian packages: {' '.join(missing)} (run `bash scripts/setup`)")


def up(network: Network, name: str = "lab", scope: list[str] | None = None, intent: str = "",
       progress=None, wait: float = 60.0) -> UpResult:
    """Create or update the lab for `network`; returns what changed. `progress(msg)` is called
    for each step of a long run."""
    t0 = time.monotonic()
    say = progress or (lambda msg: None)
    check_name(name)
    preflight()
    try:
        topo = build_topology(network, prefix_for(name), scope)
    except ValueError as exc:
        raise LabError(str(exc)) from exc
    state = LabState.load(name) or LabState(name, prefix_for(name))
    state.intent, state.scope = intent, list(scope or [])
    _prepare_directory(state)
    ssh = LabSsh(state.directory)
    ssh.prepare()
    result = UpResult()

    # Routers that left the topology (an intent change): stop them, drop their namespaces.
    gone = [r for r in state.routers if r not in topo.routers]
    if gone:
        say(f"removing {len(gone)} router(s) no longer in the intent")
        _remove_routers(state, gone)
        result.removed = gone
    gone_hosts = [h for h in state.hosts if h not in {x.netns for x in topo.hosts}]
    if gone_hosts:
        ip_batch([f"netns del {h}" for h in gone_hosts], force=True)
        state.hosts = [h for h in state.hosts if h not in gone_hosts]
        state.namespaces = [n for n in state.namespaces if n not in gone_hosts]
        state.save()

    # Namespaces: recorded first, then created.
    have = existing_netns()
    wanted = topo.namespaces
    new_ns = [ns for ns in wanted if ns not in have]
    say(f"creating {len(new_ns)} namespace(s)")
    state.note_namespaces(new_ns)
    ip_batch([f"netns add {ns}" for ns in new_ns])
    router_ns = {ns for r in topo.routers.values() for ns in r.namespaces}
    _parallel(lambda ns: sysctl(ns, SYSCTLS if ns in router_ns else HOST_SYSCTLS), new_ns)

    # Links that left the intent (between routers that stay): deleting one end removes the pair.
    wanted_veths = {(v.ns_a, v.if_a) for v in topo.veths}
    have_ns = existing_netns()
    for ns_a, if_a, _, _ in state.veths:
        if (ns_a, if_a) not in wanted_veths and ns_a in have_ns:
            run(["ip", "-n", ns_a, "link", "del", if_a], check=False)

    # Links: a veth pair is created unless its first end already exists.
    present = _links_by_namespace({v.ns_a for v in topo.veths} - set(new_ns))
    todo = [v for v in topo.veths if v.if_a not in present.get(v.ns_a, set())]
    say(f"creating {len(todo)} veth pair(s)")
    ip_batch([f"link add name {v.if_a} netns {v.ns_a} type veth peer name {v.if_b} netns {v.ns_b}" for v in todo])
    state.veths = [[v.ns_a, v.if_a, v.ns_b, v.if_b] for v in topo.veths]
    state.save()
    ups: dict[str, list[str]] = {}
    for v in todo:
        ups.setdefault(v.ns_a, []).append(f"link set {v.if_a} up")
        ups.setdefault(v.ns_b, []).append(f"link set {v.if_b} up")
    for ns in new_ns:
        ups.setdefault(ns, []).insert(0, "link set lo up")
    _parallel(lambda item: ip_batch(item[1], item[0]), list(ups.items()))

    # Hosts, the Internet, the exits' NAT firewalls (all idempotent: `replace`, table reload).
    say(f"configuring {len(topo.hosts)} host(s) and {len(topo.exits)} Internet exit(s)")
    _parallel(configure_host, topo.hosts)
    state.hosts = [h.netns for h in topo.hosts]
    state.save()
    if topo.exits:
        configure_internet(topo)
        _parallel(configure_exit, topo.exits)

    # Routers: private mounts and daemons for the new ones.
    routers = {n: Router(spec, state.directory) for n, spec in topo.routers.items()}
    new_routers = [n for n in sorted(routers) if n not in state.routers or not _daemons_alive(state, routers[n])]
    result.kept = [n for n in sorted(routers) if n not in new_routers]
    say(f"starting {len(new_routers)} router(s)")

    def start(n: str) -> None:
        r = routers[n]
        if n in state.processes:  # a router whose daemons died: start afresh
            kill([tuple(p) for p in state.processes.pop(n)])
        if not r.mnt.exists() or not is_mountpoint(r.mnt):
            r.create(state)
        def record(procs):
            state.processes[n] = procs
            state.save()

        r.start(record)

    _parallel(start, new_routers)
    stale_vrfs: list[str] = []
    for n in result.kept:
        stale_vrfs += routers[n].sync_vrfs()
    if stale_vrfs:
        ip_batch([f"netns del {ns}" for ns in stale_vrfs], force=True)
        state.namespaces = [ns for ns in state.namespaces if ns not in stale_vrfs]
    ends: dict[str, set[str]] = {}  # namespace → its ends of the links
    for v in topo.veths:
        ends.setdefault(v.ns_a, set()).add(v.if_a)
        ends.setdefault(v.ns_b, set()).add(v.if_b)

    def adopted(n: str) -> None:  # zebra has taken up what this up() added under a running router
        routers[n].wait_adopted(set().union(*(ends.get(ns, set()) for ns in routers[n].spec.namespaces)), wait)

    _parallel(adopted, result.kept)
    state.routers = sorted(routers)
    state.save()
    result.added = new_routers
    ssh.write_client_config({n: (r.spec.netns, r.mnt, r.uts) for n, r in routers.items()})
    say("waiting for SSH on every router")
    _wait_reachable(ssh, new_routers, wait)
    result.seconds = time.monotonic() - t0
    return result


def down(name: str = "lab") -> list[str]:
    """Remove everything the lab recorded; returns what it removed. Works after a crash."""
    check_name(name)
    state = LabState.load(name)
    directory = lab_dir(name)
    removed: list[str] = []
    if state is None and not directory.exists():
        return removed
    state = state or LabState(name, prefix_for(name))
    for router, procs in state.processes.items():
        kill([tuple(p) for p in procs])
        removed.append(f"router {router}")
    for path in reversed(state.mounts):
        unmount(Path(path))
    # Recorded namespaces, plus any left with the lab's unique prefix (the prefix is ours alone),
    # and whatever still runs inside them (a daemon a crashed `up` started but never recorded).
    ours = set(state.namespaces) | {n for n in existing_netns() if n.startswith(state.prefix + "-")}
    stray = processes_in(ours)
    kill(stray)
    removed += [f"process {pid}" for pid, _ in stray]
    ip_batch([f"netns del {ns}" for ns in sorted(ours) if ns in existing_netns()], force=True)
    removed += [f"netns {ns}" for ns in sorted(ours)]
    unmount(directory)
    shutil.rmtree(directory, ignore_errors=True)
    if state.made_sshd_dir and not any(p.name != name for p in directory.parent.glob("*")):
        shutil.rmtree("/run/sshd", ignore_errors=True)
    try:
        directory.parent.rmdir()
    except OSError:
        pass
    return removed


@dataclass
class RouterStatus:
    name: str
    daemons: dict[str, bool]
    bgp: dict[str, str]  # peer → state


def status(name: str = "lab") -> tuple[LabState | None, list[RouterStatus]]:
    check_name(name)
    state = LabState.load(name)
    if state is None:
        return None, []
    from .topology import RouterSpec

    out = []
    for r in state.routers:
        router = Router(RouterSpec(r, f"{state.prefix}-{r}", (), ""), state.directory)
        daemons = router.running_daemons(state.processes.get(r, []))
        bgp: dict[str, str] = {}
        if daemons.get("bgpd"):
            p = router.exec("vtysh -c 'show bgp vrf all summary json'", check=False, timeout=15)
            bgp = bgp_states(p.stdout)
        out.append(RouterStatus(r, daemons, bgp))
    return state, out


def bgp_states(summary_json: str) -> dict[str, str]:
    """peer → BGP state, from `show bgp vrf all summary json` (empty if it is not JSON)."""
    out: dict[str, str] = {}
    try:
        for vrf in json.loads(summary_json or "{}").values():
            for fam in vrf.values() if isinstance(vrf, dict) else ():
                if isinstance(fam, dict):
                    out.update({peer: info.get("state", "?") for peer, info in fam.get("peers", {}).items()})
    except ValueError:
        pass
    return out


# ------------------------------------------------------------------ helpers


def _prepare_directory(state: LabState) -> None:
    """The lab directory, bind-mounted onto itself with private propagation: persistent
    mount-namespace files may only live on a private mount."""
    d = state.directory
    d.mkdir(parents=True, exist_ok=True)
    if not is_mountpoint(d):
        state.note_mount(d)
        run(["mount", "--bind", str(d), str(d)])
        run(["mount", "--make-private", str(d)])
    state.mounts.sort(key=lambda m: (m != str(d), m))  # the directory first: unmounted last
    if not Path("/run/sshd").is_dir():  # sshd's privilege-separation directory
        Path("/run/sshd").mkdir(mode=0o755)
        state.made_sshd_dir = True
    state.save()


def _remove_routers(state: LabState, names: list[str]) -> None:
    for n in names:
        kill([tuple(p) for p in state.processes.pop(n, [])])
        rdir = state.directory / "routers" / n
        for f in ("mnt", "uts"):
            unmount(rdir / f)
            if str(rdir / f) in state.mounts:
                state.mounts.remove(str(rdir / f))
        prefix = f"{state.prefix}-{n}"
        mine = [ns for ns in state.namespaces if ns == prefix or ns.startswith(prefix + ".")]
        ip_batch([f"netns del {ns}" for ns in mine], force=True)
        state.namespaces = [ns for ns in state.namespaces if ns not in mine]
        shutil.rmtree(rdir, ignore_errors=True)
    state.routers = [r for r in state.routers if r not in names]
    state.save()


def _daemons_alive(state: LabState, router: Router) -> bool:
    return all(router.running_daemons(state.processes.get(router.spec.name, [])).values())


def _links_by_namespace(namespaces: set[str]) -> dict[str, set[str]]:
    def links(ns):
        p = run(["ip", "-n", ns, "-o", "link", "show"], check=False)
        return ns, {line.split(":")[1].strip().split("@")[0] for line in p.stdout.splitlines() if ":" in line}

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(links, sorted(namespaces)))


def _parallel(fn, items, workers: int = 8) -> None:
    if not items:
        return
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        for _ in pool.map(fn, items):
            pass


def _wait_reachable(ssh: LabSsh, routers: list[str], timeout: float, workers: int = 8, per_try: float = 30) -> None:
    """Until each router answers `vtysh` over SSH (both designs; the guest's are slower per try)."""
    def wait(name: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            p = run(ssh.command(name, "vtysh -c 'show version'"), check=False, timeout=per_try)
            if p.returncode == 0 and "FRRouting" in p.stdout:
                return
            if time.monotonic() > deadline:
                raise LabError(f"{name}: not reachable over SSH after {timeout:.0f} s: {p.stderr.strip()[:300]}")
            time.sleep(0.5)

    _parallel(wait, routers, workers)


def topology_of(network: Network, name: str, scope: list[str] | None = None) -> Topology:
    return build_topology(network, prefix_for(name), scope)
