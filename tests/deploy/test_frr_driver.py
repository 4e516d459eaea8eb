"""The frr napalm driver's config lifecycle against real FRR 8.4 routers (a lab of Jiangxi).

Replace → compare → commit → idempotent re-compare; commit-confirm on the router (revert by
itself, confirm, rollback after confirm); rollback with a killed bgpd; an unreachable router;
no secret in logs or exception messages. Needs root and FRR (CI has both); skipped otherwise.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from napalm.base.exceptions import (CommitConfirmException, CommitError, ConnectAuthError, ConnectionException,
                                    ReplaceConfigException)

from netgen.deploy.drivers.frr import FrrDriver, RollbackIncomplete
from netgen.deploy.drivers.frr_getters import normalise_running

from .frr import lab_setup as L

pytestmark = L.requires_lab
LAB = "frt"  # + this process's PID (lab_setup.lab_name): parallel runs never collide
DUT = L.DUT  # jx-nc-ncx-pe1: its BGP sessions go to jx-pe1 and jx-pe2 through jx-nc-pe1
PATH_TO_REFLECTORS = ["jx-nc-pe1", "jx-pe1", "jx-pe2"]


@pytest.fixture(scope="module")
def jx():
    name = L.lab_name(LAB)
    try:
        name, net, routers = L.lab_up(LAB)
        yield name, L.rendered(net, routers, extra=False)
    finally:
        L.lab_down(name)


@pytest.fixture(scope="module")
def lab_name(jx) -> str:
    return jx[0]


@pytest.fixture(scope="module")
def lab(jx) -> dict[str, str]:
    """The rendered config of every router of the lab (without lab_setup.EXTRA)."""
    return jx[1]


@pytest.fixture
def connect(lab, lab_name):
    opened = []

    def make(router: str, **optional) -> FrrDriver:
        d = L.driver(lab_name, router, **optional)
        opened.append(d)
        return d

    yield make
    for d in opened:
        d.close()


def test_replace_compare_commit_then_nothing_to_change(lab, lab_name, connect):
    d = connect(DUT)
    before = d.get_config(retrieve="running")["running"]
    assert "router bgp" not in before  # the lab's minimal config
    d.load_replace_candidate(config=lab[DUT])

    diff = d.compare_config()
    assert "+ ip address 10.255.0.13/32" in diff.splitlines()
    assert "+router bgp 4200360000" in diff.splitlines()
    commands = d.candidate_commands()
    assert "router bgp 4200360000" in commands and " ip address 10.255.0.13/32" in commands
    assert d.get_config(retrieve="running")["running"] == before  # compare changes nothing

    d.commit_config()
    assert d.compare_config() == ""
    assert d.candidate_commands() == []
    first, second = (d.get_config(retrieve="running")["running"] for _ in range(2))
    assert first == second and "router bgp 4200360000" in first
    assert not d.has_pending_commit()

    # the DUT's way to its reflectors, configured too: its BGP sessions come up (checked later)
    L.apply_all(lab_name, {r: lab[r] for r in PATH_TO_REFLECTORS})


def test_revert_in_reverts_by_itself_even_when_netgen_dies_mid_commit(lab, lab_name, connect, tmp_path):
    router = "jx-gqc-pe1"
    d = connect(router)
    before = d.get_config()
    run = Path("/run/netgen-lab") / lab_name / "routers" / router / "run"  # the router's /run/frr
    candidate = tmp_path / "candidate.conf"
    candidate.write_text(lab[router], encoding="utf-8")
    code = ("from netgen.deploy.drivers.frr import FrrDriver\n"
            f"d = FrrDriver({router!r}, '', '', optional_args={{'ssh_config_file': {str(L.ssh_config(lab_name))!r}}})\n"
            f"d.open()\nd.load_replace_candidate(filename={str(candidate)!r})\nd.commit_config(revert_in=4)\n"
            "import time\ntime.sleep(600)\n")
    netgen = subprocess.Popen([sys.executable, "-c", code], cwd=L.REPO)
    try:  # netgen is killed as soon as the reload has started on the router
        L.wait_for(lambda: (run / "netgen-confirm.started").exists() or netgen.poll() is not None,
                   60, 0.02, "netgen to start the reload")
        assert netgen.poll() is None, "the committing process ended before the reload"
    finally:
        netgen.kill()
        netgen.wait()

    # the reload finishes without netgen; meanwhile the commit is pending and a reboot would revert
    L.wait_for(lambda: (run / "netgen-confirm.go").exists(), 30, 0.1, "the reload to finish")
    assert d.has_pending_commit()
    assert "router isis 1" in d.get_config(retrieve="running")["running"]
    assert normalise_running(d.get_config(retrieve="startup")["startup"]) == before["running"]

    L.wait_for(lambda: d.get_config(retrieve="running")["running"] == before["running"]
               and not d.has_pending_commit(), 20, 0.5, "the router to revert by itself")
    L.wait_for(lambda: not (run / "netgen-confirm.reverting").exists(), 10, 0.2, "the revert job to end")
    assert normalise_running(d.get_config(retrieve="startup")["startup"]) == before["running"]
    d.load_replace_candidate(config=lab[router])
    assert d.compare_config() != ""  # the candidate is not running any more
    with pytest.raises(CommitConfirmException, match="no commit is pending"):
        d.confirm_commit()


def test_confirmed_commit_stays_and_rollback_restores(lab, connect):
    d = connect("jx-nc-pe2")
    before = d.get_config(retrieve="running")["running"]
    d.load_replace_candidate(config=lab["jx-nc-pe2"])
    d.commit_config(revert_in=3)
    d.confirm_commit()
    assert not d.has_pending_commit()
    time.sleep(4)  # past the timer
    assert d.compare_config() == ""
    assert "router isis 1" in d.get_config(retrieve="startup")["startup"]

    d.rollback()
    assert d.get_config(retrieve="running")["running"] == before
    assert normalise_running(d.get_config(retrieve="startup")["startup"]) == before


def test_bgp_sessions_establish_once_neighbours_are_configured(lab, connect):
    d = connect(DUT)

    def established():
        peers = d.get_bgp_neighbors().get("global", {}).get("peers", {})
        return set(peers) == {"10.255.36.1", "10.255.0.16"} and all(p["is_up"] for p in peers.values()) and peers

    peers = L.wait_for(established, 60, 1, "the DUT's BGP sessions to jx-pe1 and jx-pe2")
    assert peers["10.255.36.1"]["description"] == "jx-pe1 (to-reflector)"
    assert set(peers["10.255.36.1"]["address_family"]) == {"vpnv4", "vpnv6"}
    out = d.cli(["show version", "show bgp vrf all summary json"], encoding="text")
    assert "FRRouting 8." in out["show version"] and '"ipv4Vpn"' in out["show bgp vrf all summary json"]
    summary = d.cli(["show bgp vrf all summary json"], encoding="json")["show bgp vrf all summary json"]
    assert summary["default"]["ipv4Vpn"]["peers"]["10.255.36.1"]["state"] == "Established"


def test_rollback_with_bgpd_killed_restores_the_rest_and_saves_its_config(lab, lab_name, connect):
    router = "jx-exit1"
    d = connect(router)
    d.load_replace_candidate(config=lab[router])
    d.commit_config()
    pre_change = d.get_config(retrieve="running")["running"]
    assert "router bgp" in pre_change
    d.load_replace_candidate(config=lab[router].replace("description router id", "description changed"))
    d.commit_config()

    pid = int((Path("/run/netgen-lab") / lab_name / "routers" / router / "run" / "bgpd.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    L.wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, 0.1, "bgpd to exit")

    with pytest.raises(RollbackIncomplete) as caught:
        d.rollback()
    assert caught.value.dead == ["bgpd"] and "bgpd" in str(caught.value) and router in str(caught.value)
    running = d.get_config(retrieve="running")["running"]
    assert "description router id" in running and "description changed" not in running
    # frr.conf holds the whole pre-change config, bgpd's part included: what a restart loads
    assert normalise_running(d.get_config(retrieve="startup")["startup"]) == pre_change

    # with a daemon down, a commit refuses before changing anything
    d.load_replace_candidate(config=lab[router])
    with pytest.raises(CommitError, match="bgpd not running"):
        d.commit_config()
    assert d.get_config(retrieve="running")["running"] == running


def test_unreachable_router_is_a_clean_connection_error(tmp_path):
    config = tmp_path / "ssh_config"
    config.write_text("Host ghost-pe1\n  ProxyCommand sh -c 'exit 255'\n"
                      "Host closed-pe1\n  HostName 127.0.0.1\n  Port 9\n", encoding="utf-8")
    for host in ("ghost-pe1", "closed-pe1"):
        d = FrrDriver(host, "root", "", timeout=5, optional_args={"ssh_config_file": str(config)})
        t0 = time.monotonic()
        with pytest.raises(ConnectionException) as caught:
            d.open()
        assert host in str(caught.value) and time.monotonic() - t0 < 10
        assert not d.is_alive()["is_alive"]


def test_no_secret_in_logs_or_errors(lab, lab_name, connect, caplog, tmp_path):
    caplog.set_level("DEBUG")
    password, secret = "Hunter2-login-pw", "S3cr3t-bgp-key"

    # a password login the router refuses (the lab allows keys only)
    lines = L.ssh_config(lab_name).read_text().split("\n\n")
    entry = next(b for b in lines if b.startswith("Host jx-nc-ncx-lt-ce1\n"))
    no_key = tmp_path / "ssh_config"
    no_key.write_text("\n".join(x for x in entry.splitlines() if "IdentityFile" not in x) + "\n", encoding="utf-8")
    d = FrrDriver("jx-nc-ncx-lt-ce1", "root", password, timeout=10,
                  optional_args={"ssh_config_file": str(no_key), "use_keys": False, "allow_agent": False})
    with pytest.raises(ConnectAuthError) as auth:
        d.open()
    assert password not in str(auth.value)

    # a candidate holding a secret on a line FRR refuses (no such neighbour)
    d = connect("jx-nc-ncx-lt-ce1")
    candidate = lab["jx-nc-ncx-lt-ce1"].replace(
        "\nend", f"\nrouter bgp 4200360000\n neighbor 10.9.9.9 password {secret}\nexit\n!\nend")
    d.load_replace_candidate(config=candidate)
    diff = d.compare_config()
    assert secret not in diff and "neighbor 10.9.9.9 password <removed>" in diff
    assert " neighbor 10.9.9.9 password <removed>" in d.candidate_commands()  # as the plan records it
    with pytest.raises(ReplaceConfigException) as failed:
        d.commit_config()
    assert "password <removed>" in str(failed.value) and secret not in str(failed.value)
    assert secret not in d.get_config(sanitized=True)["candidate"]
    d.rollback()
    assert d.compare_config() != ""

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert password not in logged and secret not in logged
