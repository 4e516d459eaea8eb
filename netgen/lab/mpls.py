"""`lab up|status|down` for the production design (MPLS L3VPN, kernel VRFs, 802.1q): see mpls_topology.py.

Runs directly on a host whose kernel has MPLS and VRF devices, else inside the lab's QEMU guest
(guest.py) — the same shell scripts either way, through a Runner. `up` reconciles: it records on
the host what it created (namespaces, links, hosts, routers) before creating it, creates what is
missing, removes what left the intent, restarts routers whose daemons died, and leaves running
routers and their config alone (plan/apply do the real work). In the guest, `down` is a power-off:
everything the lab made lives in the guest's memory.
"""
from __future__ import annotations

import hmac
import secrets
import shlex
import shutil
import time
from pathlib import Path

from ..model.types import Network
from . import ipsec
from .hosts import host_lines, internet_lines
from .mpls_topology import MplsRouter, MplsTopology, build_mpls_topology
from .router import MINIMAL_CONFIG
from .runner import GuestRunner, LocalRunner, Runner
from .ssh import LabSsh
from .state import LabState, lab_dir, prefix_for
from .system import FRR_LIBEXEC, LabError

# Kernel modules of the design (LAB-NOTES, guest half); absent ones are reported by preflight.
MODULES = ("mpls_router", "mpls_iptunnel", "vrf", "8021q", "veth")
# An unreachable default closes each VRF table (kernel Documentation/networking/vrf.rst: without
# it a lookup that misses falls through to the next rule, i.e. the main table).
VRF_DEFAULT_METRIC = 4278198272
SETTINGS = ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0", "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0", "net.mpls.platform_labels=100000")


def kernel_has_design(runner: Runner | None = None) -> bool:
    """True if this kernel (or the runner's) can run the design: MPLS routing and VRF devices."""
    runner = runner or LocalRunner()
    p = runner.run("modprobe -q -a " + " ".join(MODULES) + " 2>/dev/null; "
                   "test -e /proc/sys/net/mpls/platform_labels && ip link add ngvrfprobe type vrf table 4242 "
                   "&& ip link del ngvrfprobe", timeout=60)
    return p.returncode == 0


def runner_for(name: str, where: str, wait: float) -> Runner:
    """Where the lab runs: `host`, `guest`, or `auto` (the host if its kernel can, else the guest)."""
    if where == "auto":
        where = "host" if kernel_has_design() else "guest"
    if where == "host":
        if not kernel_has_design():
            raise LabError("this kernel has no MPLS routing or VRF devices (modules mpls_router, vrf): "
                           "use `--where guest` (a QEMU guest with Debian's kernel) or `--design lite`")
        return LocalRunner()
    from .guest import Guest

    g = Guest(name)
    g.up(timeout=max(wait, 180))
    return GuestRunner(g)


# ------------------------------------------------------------------ scripts (pure)


def q(s: str) -> str:
    return shlex.quote(s)


def batch(netns: str, lines: list[str], force: bool = False) -> str:
    """One `ip -batch` in a namespace, as a here-document. With `force`, on what exists already:
    every line is tried, and the ones that fail (`File exists`) are ignored."""
    tail = " 2>/dev/null || true" if force else ""
    return f"ip -n {q(netns)} {'-force ' if force else ''}-batch - <<'EOF'{tail}\n" + "\n".join(lines) + "\nEOF"


def router_lines(r: MplsRouter) -> list[str]:
    """`ip -batch` lines inside the router's namespace: VRF devices, LAN VLANs, ports up. Run with
    -force on a router that exists already (what exists fails harmlessly, `replace` is idempotent)."""
    lines = ["link set lo up"]
    for vrf, table in r.vrfs:
        lines += [f"link add {vrf} type vrf table {table}", f"link set {vrf} up",
                  f"route replace unreachable 0.0.0.0/0 table {table} metric {VRF_DEFAULT_METRIC}",
                  f"route replace unreachable ::/0 table {table} metric {VRF_DEFAULT_METRIC}"]
    lines += [f"link add {d} type dummy" for d in r.dummies]
    ports = dict.fromkeys([*r.core, *(v.parent for v in r.vlans), *(p for p, _ in r.in_vrf)])
    lines += [f"link set {p} up" for p in ports]
    for v in r.vlans:
        sub = f"{v.parent}.{v.vlan}"
        lines += [f"link add link {v.parent} name {sub} type vlan id {v.vlan}", f"link set {sub} master {v.vrf}",
                  f"link set {sub} up"]
    lines += [f"link set {p} master {vrf}" for p, vrf in r.in_vrf]
    return lines


def router_setup(r: MplsRouter, new: bool) -> str:
    # The local table's rule moves below the VRF (l3mdev) rule, or a LAN host reaches the PE's own
    # addresses (kernel vrf.rst); done once (`ip rule add` would add a duplicate).
    n = q(r.netns)
    out = [f"for f in -4 -6; do ip -n {n} $f rule show pref 32765 | grep -q local || "
           f"ip -n {n} $f rule add pref 32765 table local; ip -n {n} $f rule del pref 0 2>/dev/null || true; done",
           batch(r.netns, router_lines(r), force=not new)]
    # MPLS input per interface is the router's config (`mpls enable`, frr_mpls), not the lab's
    out.append(f"ip netns exec {q(r.netns)} sysctl -q -w " + " ".join(SETTINGS))
    return "\n".join(out)


def router_start(r: MplsRouter, directory: Path) -> str:
    """A router's own /etc/frr, /run/frr and /var/log/frr in a private mount namespace (plain
    `vtysh` and frr-reload.py then work inside, as on a real box), its host name in a UTS
    namespace, the daemons, and the saved (or minimal) config loaded."""
    d = directory / "routers" / r.name
    D = q(str(d))
    enter = f"nsenter --net=/run/netns/{q(r.netns)} --mount={D}/mnt --uts={D}/uts"
    lines = [f"mkdir -p {D}/etc {D}/run {D}/log /run/frr /var/log/frr",
             f"test -e {D}/etc/frr.conf || printf %s {q(MINIMAL_CONFIG.format(name=r.name))} > {D}/etc/frr.conf",
             f"echo 'service integrated-vtysh-config' > {D}/etc/vtysh.conf",
             f"chown -R frr:frr {D}/etc {D}/run {D}/log",
             f"if ! test -e {D}/mnt; then touch {D}/mnt {D}/uts && unshare --mount={D}/mnt --uts={D}/uts "
             f"--propagation private sh -c 'mount --bind {D}/etc /etc/frr && mount --bind {D}/run /run/frr && "
             f"mount --bind {D}/log /var/log/frr && hostname {q(r.name)}'; fi",
             f"rm -f {D}/run/*.pid"]
    lines += [f"{enter} {FRR_LIBEXEC}/{daemon} -d -F datacenter -P 0" for daemon in r.daemons]
    lines.append(f"{enter} vtysh -b >/dev/null")
    return "\n".join(lines)


def alive_check(routers: list[MplsRouter], directory: Path) -> str:
    """Prints `<router> ok` for each router whose daemons all run."""
    out = []
    for r in routers:
        d = q(str(directory / "routers" / r.name / "run"))
        checks = " && ".join(f"kill -0 $(cat {d}/{x}.pid 2>/dev/null) 2>/dev/null" for x in r.daemons)
        out.append(f"({checks}) && echo {q(r.name)} ok")
    return "\n".join(out) + "\ntrue"


def stop_router(netns: str, router_dir: Path) -> str:
    """Kill everything in the router's namespace (daemons, SSH sessions) and drop its mounts."""
    d = q(str(router_dir))
    return (f"ip netns pids {q(netns)} 2>/dev/null | xargs -r kill -9; "
            f"umount {d}/mnt {d}/uts 2>/dev/null; rm -rf {d}/mnt {d}/uts {d}/run/*.pid")


def exit_firewall(x) -> str:
    """The exit's NAT and stateful firewall (nftables, in the router's namespace). The Internet port
    is in a VRF, so packets meet the hooks twice (kernel vrf.rst: on the port and on the VRF
    device): the filter matches the port by name in prerouting, after conntrack (-200) and before
    NAT (-100), where the port is still the input device."""
    return f"""table inet netgen-exit
delete table inet netgen-exit
table inet netgen-exit {{
  chain prerouting {{
    type filter hook prerouting priority -150; policy accept;
    iifname "{x.ifname}" ct state established,related accept
    iifname "{x.ifname}" counter drop comment "default deny from the Internet"
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    oifname "{x.ifname}" ip saddr != {x.address.ip} snat ip to {x.nat_first}-{x.nat_last}
  }}
}}
"""


# ------------------------------------------------------------------ up / down / status


def up(network: Network, name: str, scope: list[str] | None, intent: str, progress=None, wait: float = 60.0,
       where: str = "auto"):
    from .lite import UpResult, _wait_reachable, check_name

    t0 = time.monotonic()
    say = progress or (lambda msg: None)
    check_name(name)
    try:
        topo = build_mpls_topology(network, prefix_for(name), scope)
    except ValueError as exc:
        raise LabError(str(exc)) from exc
    state = LabState.load(name) or LabState(name, prefix_for(name), design="mpls")  # the design: checked by lab.up
    if state.routers and where not in ("auto", state.where):
        raise LabError(f"lab `{name}` runs on the {state.where}: `netgen lab down --name {name}` to move it")
    state.intent, state.scope = intent, list(scope or [])
    state.directory.mkdir(parents=True, exist_ok=True)
    state.save()
    say("starting the lab guest (QEMU, Debian's kernel)" if where != "host" and not state.routers else "")
    runner = runner_for(name, state.where if state.routers else where, wait)
    state.where = runner.where
    state.save()
    d = state.directory
    result = UpResult()
    prelude = [f"mkdir -p {q(str(d))}/routers",
               f"mountpoint -q {q(str(d))} || {{ mount --bind {q(str(d))} {q(str(d))} && "
               f"mount --make-private {q(str(d))}; }}"]
    if runner.where == "host":
        state.note_mount(d)

    # What left the intent: routers (their namespace and everything in it), hosts, links.
    gone = [r for r in state.routers if r not in topo.routers]
    script = []
    for r in gone:
        script.append(stop_router(f"{state.prefix}-{r}", d / "routers" / r))
        script.append(f"ip netns del {q(state.prefix + '-' + r)} 2>/dev/null; rm -rf {q(str(d / 'routers' / r))}")
    host_ns = {h.netns for h in topo.hosts}
    script += [f"ip netns del {q(h)} 2>/dev/null" for h in state.hosts if h not in host_ns]
    wanted = {(v.ns_a, v.if_a) for v in topo.veths}
    script += [f"ip -n {q(a)} link del {q(i)} 2>/dev/null" for a, i, _, _ in state.veths if (a, i) not in wanted]
    if script:
        say(f"removing {len(gone)} router(s) and what else left the intent")
        runner.script("\n".join(script) + "\ntrue\n", timeout=120)
    result.removed = gone
    state.routers = [r for r in state.routers if r in topo.routers]
    state.hosts = [h for h in state.hosts if h in host_ns]

    # Namespaces (recorded first), links, router plumbing, hosts, the Internet.
    have = _existing(runner)
    new_ns = [ns for ns in topo.namespaces if ns not in have]
    state.note_namespaces(new_ns)  # recorded before they exist; links and hosts once made
    made = {tuple(v) for v in state.veths if v[0] in have and v[2] in have}
    new_veths = [v for v in topo.veths if (v.ns_a, v.if_a, v.ns_b, v.if_b) not in made]
    new_tunnels = [x for x in ipsec_links(network, topo, state)
                   if (x.a.netns, x.a.port, x.b.netns, x.b.port) not in made]
    new_routers = [n for n in sorted(topo.routers) if n not in state.routers]
    script = [*prelude, "set -e", *(f"ip netns add {q(ns)}" for ns in new_ns)]
    script += [f"ip link add {q(v.if_a)} netns {q(v.ns_a)} type veth peer name {q(v.if_b)} netns {q(v.ns_b)}"
               for v in new_veths]
    runner.script("\n".join(script) + "\n", timeout=600)
    if new_tunnels:  # the gretaps `eth<port>` must exist before the routers' plumbing brings them up
        say(f"bringing up IPsec on {len(new_tunnels)} Internet-carried link(s)")
        runner.script(ipsec.setup_script(new_tunnels), timeout=300)
    script = ["set -e", *(router_setup(r, r.netns in new_ns) for _, r in sorted(topo.routers.items()))]
    script += [batch(t.netns, ["link set lo up", f"link set {t.port} up"], force=t.netns not in new_ns)
               for t in topo.trunks]
    new_hosts = [h for h in topo.hosts if h.netns not in state.hosts or h.netns in new_ns]
    trunk_of = {netns: (t, vlan) for t in topo.trunks for vlan, netns in t.vlans.items()}
    for h in new_hosts:
        t, vlan = trunk_of[h.netns]
        sub = f"{t.port}.{vlan}"
        script += [f"ip -n {q(t.netns)} link add link {t.port} name {sub} type vlan id {vlan}",
                   f"ip -n {q(t.netns)} link set {sub} netns {q(h.netns)}",
                   f"ip -n {q(h.netns)} link set {sub} name eth0",
                   f"ip netns exec {q(h.netns)} sysctl -q -w net.ipv6.conf.all.accept_dad=0 "
                   "net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.eth0.accept_dad=0",
                   batch(h.netns, host_lines(h))]
    if topo.exits:
        lines, rules = internet_lines(topo)
        script += [batch(topo.internet_netns, lines),  # `ip rule add` is not idempotent: delete first
                   *(f"ip -n {q(topo.internet_netns)} {r.replace('rule add', 'rule del', 1)} 2>/dev/null || true"
                     for r in rules), batch(topo.internet_netns, rules)]
        script += [f"ip netns exec {q(x.vrf_netns)} nft -f - <<'EOF'\n{exit_firewall(x)}EOF" for x in topo.exits]
    say(f"creating {len(new_ns)} namespace(s), {len(new_veths)} link(s), {len(new_hosts)} host(s)")
    runner.script("\n".join(script) + "\n", timeout=600)
    state.hosts = [h.netns for h in topo.hosts]
    state.veths = [[v.ns_a, v.if_a, v.ns_b, v.if_b] for v in (*topo.veths, *topo.ipsec)]
    state.save()

    # Routers: new ones, and running ones whose daemons died, start (in parallel, a few at a time).
    kept = [n for n in state.routers if n in topo.routers]
    ok = set(runner.run(alive_check([topo.routers[n] for n in kept], d), timeout=120).stdout.split()[::2])
    restart = [n for n in kept if n not in ok]
    todo = sorted(new_routers + restart)
    say(f"starting {len(todo)} router(s)")
    if runner.where == "host":  # recorded before they exist, for down() after a crash
        for n in todo:
            state.note_mount(d / "routers" / n / "mnt")
            state.note_mount(d / "routers" / n / "uts")
    if todo:
        blocks = []
        for n in todo:
            r = topo.routers[n]
            log = q(str(d / "routers" / n / "start.log"))
            stop = stop_router(r.netns, d / "routers" / n) + "\n" if n in restart else ""
            blocks.append(f"( mkdir -p {q(str(d / 'routers' / n))} && ( set -e\n{stop}{router_start(r, d)}\n) "
                          f"> {log} 2>&1 || {{ echo FAILED {q(n)}; tail -5 {log}; }} ) &")
        chunks = [blocks[i:i + 6] for i in range(0, len(blocks), 6)]  # 2 vCPUs: a few routers at a time
        p = runner.run("\n".join("\n".join(c) + "\nwait" for c in chunks), timeout=900)
        if "FAILED" in p.stdout:
            raise LabError(f"routers did not start: {p.stdout.strip()[-800:]}")
    state.routers = sorted(topo.routers)
    state.save()
    result.added = [n for n in todo if n in new_routers]
    result.kept = [n for n in kept if n not in restart] + restart

    say("SSH into every router")
    ssh = _ssh(state, runner, topo)
    _wait_reachable(ssh, todo, wait, workers=4, per_try=120)  # 2 vCPUs; an SSH login ~1-5 s under TCG
    result.seconds = time.monotonic() - t0
    return result


def ipsec_links(network: Network, topo: MplsTopology, state: LabState) -> list[ipsec.IpsecLink]:
    """The topology's Internet-carried links as IPsec tunnels, each with its own pre-shared key
    derived from the lab's secret (made once, 0600, in the lab's directory; never printed)."""
    if not topo.ipsec:
        return []
    key_file = state.directory / "ipsec.key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    key = key_file.read_text().strip().encode()
    used = [i.ipv4.network for d in network.devices.values() for i in d.interfaces if i.ipv4]
    block = ipsec.underlay_block([*used, topo.internet_block])
    return [ipsec.IpsecLink(ipsec.End(v.ns_a, v.if_a), ipsec.End(v.ns_b, v.if_b), n, topo.internet_netns,
                            hmac.new(key, f"{v.ns_a} {v.if_a} {v.ns_b} {v.if_b}".encode(), "sha256").hexdigest(),
                            block) for n, v in enumerate(topo.ipsec)]


def _existing(runner: Runner) -> set[str]:
    out = runner.run("ip netns list", timeout=60).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _ssh(state: LabState, runner: Runner, topo: MplsTopology) -> LabSsh:
    """The lab's keys (on this host) and, where the routers are (host or guest), sshd's config.
    Each router is reached by `sshd -i` in its namespaces; through the guest, that runs over the
    guest's shared SSH connection: one channel per router session, no extra handshake."""
    ssh = LabSsh(state.directory)
    ssh.prepare()
    proxy: list[str] = []
    sshd_config = ssh.sshd_config
    if runner.where == "guest":
        g = runner.guest
        remote = state.directory / "ssh"  # the same path, in the guest's own /run
        for f in ("host_ed25519", "authorized_keys"):
            g.put(str(remote / f), (ssh.dir / f).read_bytes(), mode=0o600)
        g.put(str(remote / "sshd_config"), ssh.sshd_config.read_text())
        proxy = ["ssh", "-F", str(g.ssh_config), "guest"]
    routers = {n: (r.netns, state.directory / "routers" / n / "mnt", state.directory / "routers" / n / "uts")
               for n, r in topo.routers.items()}
    ssh.write_client_config(routers, proxy=proxy, sshd_config=sshd_config)
    return ssh


def down(name: str) -> list[str]:
    """Power the guest off (everything the lab made lives in it), or, on the host, undo what the
    state records as the VRF-lite lab's down does; then remove the lab's directory."""
    from . import lite as host_lab
    from .guest import Guest

    state = LabState.load(name)
    if state is not None and state.where == "host":
        return host_lab.down(name)
    g = Guest(name)
    removed = [f"guest {name}"] if g.dir.exists() else []
    g.down()
    directory = lab_dir(name)
    if directory.exists():
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(f"dir {directory}")
    return removed


def router_status(name: str) -> list[tuple[str, dict[str, bool], dict[str, str]]]:
    """(router, daemon → running, BGP peer → state) for each router of an MPLS lab."""
    from .handle import open_lab
    from .lite import bgp_states

    lab = open_lab(name)
    d = lab.state.directory
    script = []
    for r in lab.state.routers:
        run = q(str(d / "routers" / r / "run"))
        enter = (f"nsenter --net=/run/netns/{q(lab.state.prefix + '-' + r)} --mount={q(str(d / 'routers' / r))}/mnt "
                 f"--uts={q(str(d / 'routers' / r))}/uts")
        script.append(f"echo '### {r}'; for x in $(cd {run} 2>/dev/null && ls *.pid); do "
                      f"kill -0 $(cat {run}/$x) 2>/dev/null && echo \"up ${{x%.pid}}\" || echo \"down ${{x%.pid}}\"; done; "
                      f"{enter} vtysh -c 'show bgp vrf all summary json' 2>/dev/null | tr -d '\\n'; echo")
    out = lab.runner.run("\n".join(script) + "\ntrue", timeout=300).stdout
    result = []
    for chunk in out.split("### ")[1:]:
        head, *lines = chunk.splitlines()
        daemons = {ln.split()[1]: ln.startswith("up") for ln in lines if ln.startswith(("up ", "down "))}
        bgp = bgp_states(next((ln for ln in lines if ln.startswith("{")), ""))
        result.append((head.strip(), daemons, bgp))
    return result
