"""netgen's napalm drivers for Huawei VRP and H3C Comware, against the CLI simulator over real
SSH (tests/deploy/cli_sim: a test double, not a router — see its docstring for what it does not
model). The configs are netgen's own: the example intent resolved and rendered for jx-pe1 (VRP)
and jx-nc-pe1 (Comware), with the secrets filled in as deploy would.

Each device starts from an *older* config: one bandwidth differs, one NTP server, the MPLS/LDP
sections and the IS-IS process are missing, and a stale BGP peer and a stale VPN instance are
present; the keys are the same (stored encrypted by the device).
"""
from __future__ import annotations

import dataclasses
import logging
import re
import time
from functools import lru_cache
from pathlib import Path

import napalm
import paramiko
import pytest
from napalm.base import models
from napalm.base.exceptions import CommitConfirmException, CommitError, ConnectAuthError, ReplaceConfigException
from napalm.base.test.helpers import test_model as napalm_model_ok

from netgen.deploy.drivers.cli import CommandRejected, RollbackError
from netgen.deploy.drivers.comware import ComwareDriver, normalise_comware
from netgen.deploy.drivers.vrp import VrpDriver
from netgen.deploy import remediation as rem
from netgen.deploy.remediation import diff, parse, redact, remediation, secret_key
from netgen.hardware import profile
from netgen.model import resolve
from netgen.render.build import render_device

from .cli_sim.lab import SimLab

REPO = Path(__file__).resolve().parents[2]
PLATFORMS = ("huawei_vrp", "h3c_comware")
DEVICE = {"huawei_vrp": "jx-pe1", "h3c_comware": "jx-nc-pe1"}
SECRETS = {"aaa-shared-key": "Tac@cs-Sh4red!", "snmp-auth": "Snmp-Auth-9x!", "snmp-priv": "Snmp-Priv-7y!"}
CIPHERTEXT = re.compile(r"%\^%#\S+%\^%#|\$c\$3\$\S+")

# ------------------------------------------------------------------------------ configs


@lru_cache(maxsize=None)
def _network():
    res = resolve(REPO / "inventory")
    assert res.ok, [str(d.message) for d in res.errors]
    return res.network


@lru_cache(maxsize=None)
def rendered(platform: str) -> str:
    """The device's config as netgen renders it (placeholders, no secret values)."""
    return render_device(_network().devices[DEVICE[platform]], _network())


def fill(text: str) -> str:
    for name, value in SECRETS.items():
        text = text.replace(f"<<secret:{name}>>", value)
    return text


def intended_config(platform: str) -> str:
    return fill(rendered(platform))


def _drop_block(text: str, header: str) -> str:
    start = text.index(f"\n{header}\n") + 1
    end = text.index("\n#\n", start) + 3
    return text[:start] + text[end:]


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _port_to(platform: str, peer: str) -> str:
    """The port of the example device of `platform` that links to `peer` (as the hardware names it)."""
    return next(i.port_name for i in _network().devices[DEVICE[platform]].interfaces if i.peer_device == peer)


def _bandwidth(text: str, port: str, old: str, new: str) -> str:
    """`text` with the `bandwidth` line of interface `port` changed from `old` to `new`."""
    head = f"\ninterface {port}\n"
    start = text.index(head) + len(head)
    end = text.index("\n#\n", start)
    block = text[start:end]
    assert block.count(f" bandwidth {old}\n") == 1, block
    return text[:start] + block.replace(f" bandwidth {old}\n", f" bandwidth {new}\n") + text[end:]


# the link each example device's older config had at another bandwidth (same port speed)
SLOWER = {"huawei_vrp": ("jx-pe2", "10000", "1000"), "h3c_comware": ("jx-nc-ncx-pe1", "1000000", "100000")}


def older_config(platform: str) -> str:
    text = intended_config(platform)
    text = _drop_block(text, "isis 1")
    text = _edit(text, "ntp-service unicast-server 10.253.0.12\n", "")
    text += "ip vpn-instance ZW-OLD\n description retired zone\n"
    peer, now, before = SLOWER[platform]
    text = _bandwidth(text, _port_to(platform, peer), now, before)
    if platform == "huawei_vrp":
        text = _drop_block(_drop_block(text, "mpls"), "mpls ldp")
        text = _edit(text, " peer 10.255.0.16 connect-interface LoopBack0\n",
                     " peer 10.255.0.16 connect-interface LoopBack0\n peer 10.255.0.99 as-number 4200360000\n")
        text = _edit(text, "  peer 10.255.0.16 enable\n #\n ipv6-family vpnv6",
                     "  peer 10.255.0.16 enable\n  peer 10.255.0.99 enable\n #\n ipv6-family vpnv6")
    else:
        text = _drop_block(text, "mpls ldp")
        text = _edit(text, " peer 10.255.0.16 connect-interface LoopBack0\n",
                     " peer 10.255.0.16 connect-interface LoopBack0\n peer 10.255.0.99 as-number 4200360000\n")
        text = _edit(text, "  peer 10.255.0.16 enable\n #\n address-family vpnv6",
                     "  peer 10.255.0.16 enable\n  peer 10.255.0.99 enable\n #\n address-family vpnv6")
    return text


def expected(platform: str) -> list[str]:
    """What a plan against older_config() sends, in order. A changed bandwidth is sent alone (a new
    value replaces the old: NE40E V8 / Comware 7 command references, bandwidth); a removed BGP
    peer is `undo peer X` alone, after the address families (NE8000 command reference, peer
    as-number: `undo peer ipv4-address` deletes every setting of the peer); the retired VPN
    instance last, after whatever refers to it (see netgen/deploy/rules/)."""
    peer, now, _ = SLOWER[platform]
    port = ["interface " + _port_to(platform, peer), " bandwidth " + now, " quit"]
    if platform == "huawei_vrp":
        return ["mpls", " quit", "mpls ldp", " quit",
                "isis 1", " is-level level-2", " cost-style wide", " network-entity 49.0036.0102.5503.6001.00",
                " ipv6 enable topology standard", " quit", *port,
                "bgp 4200360000", " undo peer 10.255.0.99", " quit",
                "ntp-service unicast-server 10.253.0.12", "undo ip vpn-instance ZW-OLD"]
    return ["mpls ldp", " quit",
            "isis 1", " is-level level-2", " cost-style wide", " network-entity 49.0036.0102.5500.0014.00",
            " address-family ipv6 unicast", "  quit",   # a view without children still gets its quit
            " quit", *port,
            "bgp 4200360000", " undo peer 10.255.0.99", " quit",
            "ntp-service unicast-server 10.253.0.12", "undo ip vpn-instance ZW-OLD"]


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def lab():
    lab = SimLab()
    yield lab
    lab.close()


@pytest.fixture(params=PLATFORMS)
def older(request, lab):
    """(platform, simulated device holding the older config, a driver connected to it)."""
    platform = request.param
    device, server = lab.device(platform, older_config(platform))
    return platform, device, lab.driver(platform, server)


def running(driver) -> str:
    return driver.get_config(retrieve="running")["running"]


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def masked_lines(platform: str, text: str) -> list[str]:
    tree = parse(platform, text)
    return sorted(" " * (c.depth() - 1) + secret_key(platform, c.text) for c in tree.all_children())

# ------------------------------------------------------------------------------ registration


def test_napalm_finds_the_drivers():
    assert napalm.get_network_driver("netgen_vrp") is VrpDriver
    assert napalm.get_network_driver("netgen_comware") is ComwareDriver
    assert VrpDriver.native_commit_confirm is False and ComwareDriver.native_commit_confirm is False

# ------------------------------------------------------------------------------ plan


def test_plan_against_an_older_config(older):
    platform, device, driver = older
    before = device.running_text()
    driver.load_replace_candidate(config=intended_config(platform))
    assert driver.candidate_commands() == expected(platform)
    shown = driver.compare_config()
    peer, now, before_ = SLOWER[platform]
    family = "ipv4-family vpnv4" if platform == "huawei_vrp" else "address-family vpnv4"
    assert f"  interface {_port_to(platform, peer)}\n-  bandwidth {before_}\n+  bandwidth {now}\n" in shown
    assert (f"  bgp 4200360000\n-  peer 10.255.0.99 as-number 4200360000\n   {family}\n"
            f"-   peer 10.255.0.99 enable\n") in shown
    assert "- ip vpn-instance ZW-OLD" in shown and "+ ntp-service unicast-server 10.253.0.12" in shown
    assert not any(v in shown for v in SECRETS.values())
    # planning never configures anything
    assert device.commands == [] and device.running_text() == before
    # a plan needs no secret values: on the rendered config (placeholders), the key lines match
    # the device's stored keys; only a commit needs the values
    driver.load_replace_candidate(config=rendered(platform))
    assert driver.candidate_commands() == expected(platform)
    device.root.children[:] = [c for c in device.root.children if "ZW-AAA" not in c.text]
    with pytest.raises(CommitError, match="unfilled secret references.*<<secret:aaa-shared-key>>"):
        driver.commit_config()
    assert device.commands == []
    driver.discard_config()
    with pytest.raises(ReplaceConfigException, match="no candidate"):
        driver.compare_config()

@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_router_has_only_its_models_ports(lab, platform):
    """The simulated router has the ports of the example device's model (its hardware profile):
    the rendered config loads onto it whole; a port it does not have — a 10G port named the other
    vendor's way — is refused as the device refuses an unknown interface, and the push is undone."""
    model = _network().devices[DEVICE[platform]].model
    device, server = lab.device(platform, "", ports=[p.name for p in profile(model).ports])
    driver = lab.driver(platform, server)
    intended = intended_config(platform)
    driver.load_replace_candidate(config=intended)
    driver.commit_config()
    assert remediation(platform, running(driver), intended) == []
    port = _port_to(platform, SLOWER[platform][0])
    alien = "Ten-GigabitEthernet9/0/9" if platform == "huawei_vrp" else "10GE9/0/9"
    before = running(driver)
    driver.load_replace_candidate(config=intended.replace(f"interface {port}\n", f"interface {alien}\n"))
    with pytest.raises(CommandRejected, match=f"rejected `interface {alien}`.*pre-change config is restored"):
        driver.commit_config()
    assert running(driver) == before


# ------------------------------------------------------------------------------ commit


def test_commit_makes_running_equal_intended(older):
    platform, device, driver = older
    intended = intended_config(platform)
    driver.load_replace_candidate(config=intended)
    driver.commit_config()
    # exactly the planned commands reached the device (`quit` moves between views only)
    assert device.commands == [c.strip() for c in expected(platform) if c.strip() != "quit"]
    after = running(driver)
    assert remediation(platform, after, intended) == [] and remediation(platform, intended, after) == []
    assert masked_lines(platform, after) == masked_lines(platform, intended)
    assert not any(v in device.running_text() for v in SECRETS.values())   # stored encrypted
    # saved, and a second plan is empty
    assert driver.get_config(retrieve="startup")["startup"] == after
    driver.load_replace_candidate(config=intended)
    assert driver.compare_config() == "" and driver.candidate_commands() == []
    assert not driver.has_pending_commit()


@pytest.mark.parametrize("older", ["huawei_vrp"], indirect=True)
def test_a_view_the_driver_does_not_know_is_left(older, monkeypatch, caplog):
    """If netgen's view table misses a view-opening command, the plan sends it as a leaf; the
    push sees the prompt change, sends `quit` and goes on (and says so)."""
    platform, device, driver = older
    rules = rem.load_rules(platform)
    forgetful = dataclasses.replace(rules, view_openers=tuple(
        (d, p) for d, p in rules.view_openers if not p.search("mpls ldp")))
    real = rem.load_rules
    monkeypatch.setattr(rem, "load_rules", lambda name: forgetful if name == platform else real(name))
    intended = intended_config(platform)
    driver.load_replace_candidate(config=intended)
    assert "mpls ldp" in driver.candidate_commands() and " quit" not in driver.candidate_commands()[:2]
    driver.commit_config()
    assert remediation(platform, running(driver), intended) == []
    assert any("`mpls ldp` opened" in r.getMessage() for r in caplog.records)


def test_unconfirmed_commit_reverts(older):
    platform, device, driver = older
    before = running(driver)
    driver.load_replace_candidate(config=intended_config(platform))
    driver.commit_config(revert_in=1)
    assert driver.has_pending_commit()
    assert "ntp-service unicast-server 10.253.0.12" in running(driver)
    wait_until(lambda: not driver.has_pending_commit())
    assert running(driver) == before                       # exactly the pre-change config
    assert driver.get_config(retrieve="startup")["startup"] == before   # nothing was saved
    assert "reverted" in driver.last_revert
    with pytest.raises(CommitConfirmException, match="reverted"):
        driver.confirm_commit()


def test_confirmed_commit_then_rollback(older):
    platform, device, driver = older
    before = running(driver)
    intended = intended_config(platform)
    driver.load_replace_candidate(config=intended)
    driver.commit_config(revert_in=60)
    driver.confirm_commit()
    assert not driver.has_pending_commit()
    saved = driver.get_config(retrieve="startup")["startup"]
    assert remediation(platform, saved, intended) == []
    # a rollback the device does not fully take says what is left and why
    device.reject(r"^undo ntp-service unicast-server 10\.253\.0\.12$", "The server is in use.")
    with pytest.raises(RollbackError) as caught:
        driver.rollback()
    assert "still to do:\nundo ntp-service unicast-server 10.253.0.12\n" in str(caught.value)
    assert "The server is in use." in str(caught.value)
    device.rejects.clear()
    driver.rollback()
    assert running(driver) == before
    assert driver.get_config(retrieve="startup")["startup"] == before   # the rollback is saved too
    if platform == "huawei_vrp":  # removing IS-IS asked [Y/N]; the driver answered it
        assert "undo isis 1" in device.commands and "\nisis 1\n" not in before


def test_rejected_command_stops_and_rolls_back(older):
    platform, device, driver = older
    before = running(driver)
    device.reject(r"^ntp-service unicast-server 10\.253\.0\.12$")
    driver.load_replace_candidate(config=intended_config(platform))
    with pytest.raises(CommandRejected) as caught:
        driver.commit_config()
    message = str(caught.value)
    error = "Error: Wrong parameter" if platform == "huawei_vrp" else "% Wrong parameter"
    assert f"rejected `ntp-service unicast-server 10.253.0.12`" in message and error in message
    assert "pre-change config is restored" in message
    assert caught.value.command == "ntp-service unicast-server 10.253.0.12"
    # the push stopped there: the stale VPN instance after it was never removed
    assert "undo ip vpn-instance ZW-OLD" not in device.commands
    assert running(driver) == before
    assert not driver.has_pending_commit()

# ------------------------------------------------------------------------------ secrets


def test_secrets_never_in_errors_or_logs(lab, caplog):
    """The AAA keys are new on this device and the device rejects the first key line: the
    error, the diff, the commands and every log record (netmiko's channel traffic included)
    hold no key."""
    caplog.set_level(logging.DEBUG)
    for platform in PLATFORMS:
        config = older_config(platform)
        header = "hwtacacs-server template ZW-AAA" if platform == "huawei_vrp" else "hwtacacs scheme ZW-AAA"
        device, server = lab.device(platform, _drop_block(config, header))
        device.reject(r"shared-key|key authentication", "The key is invalid.")
        driver = lab.driver(platform, server)
        driver.load_replace_candidate(config=intended_config(platform))
        texts = [driver.compare_config(), "\n".join(driver.candidate_commands())]
        with pytest.raises(CommandRejected) as caught:
            driver.commit_config()
        texts.append(str(caught.value))
        assert "The key is invalid." in str(caught.value) and "******" in str(caught.value)
        assert any(SECRETS["aaa-shared-key"] in c for c in device.commands)  # it did cross the channel
        assert running(driver) == driver.normalise_running(device.running_text())
    texts += [r.getMessage() for r in caplog.records]
    assert any(r.name == "netmiko" and "write_channel" in r.getMessage() for r in caplog.records)
    for text in texts:
        for value in SECRETS.values():
            assert value not in text


def test_unchanged_secret_lines_are_not_pushed_unless_asked(lab):
    for platform in PLATFORMS:
        intended = intended_config(platform)
        device, server = lab.device(platform, intended)
        stored = set(CIPHERTEXT.findall(device.running_text()))
        assert stored and not any(v in device.running_text() for v in SECRETS.values())
        driver = lab.driver(platform, server)
        driver.load_replace_candidate(config=intended)
        assert driver.compare_config() == "" and driver.candidate_commands() == []
        rotating = lab.driver(platform, server, push_secrets=True)
        rotating.load_replace_candidate(config=intended)
        commands = rotating.candidate_commands()
        if platform == "huawei_vrp":
            assert commands == [
                "hwtacacs-server template ZW-AAA", " hwtacacs-server shared-key cipher ******", " quit",
                "snmp-agent usm-user v3 netgen-nms authentication-mode sha2-256 cipher ******",
                "snmp-agent usm-user v3 netgen-nms privacy-mode aes128 cipher ******"]
        else:
            assert commands == [
                "hwtacacs scheme ZW-AAA", " key authentication simple ******", " key authorization simple ******",
                " key accounting simple ******", " quit",
                "snmp-agent usm-user v3 netgen-nms ZW-NMS simple authentication-mode sha ****** "
                "privacy-mode aes128 ******"]
        assert SECRETS["snmp-priv"] in rotating.candidate_commands(reveal_secrets=True)[-1]
        before = running(rotating)
        rotating.commit_config()
        now = set(CIPHERTEXT.findall(device.running_text()))
        assert len(now) == len(stored) and not now & stored      # every key re-set (fresh salt)
        driver.load_replace_candidate(config=intended)
        assert driver.candidate_commands() == []
        rotating.rollback()                                      # puts back the stored ciphertexts
        assert running(rotating) == before


def test_remediation_secret_rules():
    vrp = "hwtacacs-server template A\n hwtacacs-server shared-key cipher %^%#x1%^%#\n"
    assert remediation("huawei_vrp", vrp, vrp.replace("%^%#x1%^%#", "clear")) == []
    # anything else on the line differs: a real change (undo of the stored line, then the new one)
    snmp = "snmp-agent usm-user v3 u authentication-mode sha2-256 cipher %^%#x2%^%#\n"
    assert remediation("huawei_vrp", snmp, snmp.replace("sha2-256 cipher %^%#x2%^%#", "md5 cipher k")) == [
        "undo snmp-agent usm-user v3 u authentication-mode sha2-256 cipher %^%#x2%^%#",
        "snmp-agent usm-user v3 u authentication-mode md5 cipher k"]
    cw = "snmp-agent usm-user v3 u G cipher authentication-mode sha256 $c$3$a== privacy-mode aes128 $c$3$b==\n"
    assert remediation("h3c_comware", cw, "snmp-agent usm-user v3 u G simple authentication-mode sha256 A1 "
                                          "privacy-mode aes128 P1\n") == []
    assert redact("h3c_comware", "key accounting simple Pa ss") == "key accounting simple ****** ss"
    assert diff("huawei_vrp", vrp, vrp + "ntp-service unicast-server 1.1.1.1\n") == "+ ntp-service unicast-server 1.1.1.1\n"

# ------------------------------------------------------------------------------ reading


def test_running_config_is_normalised(lab):
    vrp_device, vrp_server = lab.device("huawei_vrp", intended_config("huawei_vrp"))
    vrp = lab.driver("huawei_vrp", vrp_server)
    raw = vrp.cli(["display current-configuration"])["display current-configuration"]
    assert raw.startswith("!Software Version V800R021C10SPC600\n!Last configuration was updated at ")
    first = running(vrp)
    assert not first.startswith("!") and first.startswith("#\nsysname jx-pe1\n")
    vrp_device.updated -= 3600   # the device's "last updated" time moves: the text does not
    assert vrp.cli(["display current-configuration"])["display current-configuration"] != raw
    assert running(vrp) == first
    assert remediation("huawei_vrp", first, intended_config("huawei_vrp")) == []

    cw_device, cw_server = lab.device("h3c_comware", intended_config("h3c_comware"))
    comware = lab.driver("h3c_comware", cw_server)
    raw = comware.cli(["display current-configuration"])["display current-configuration"]
    assert "\n version 7.1.070, Release 7585P05\n" in raw and "\n sysname jx-nc-pe1\n" in raw
    text = running(comware)
    assert "version 7.1" not in text and "\nsysname jx-nc-pe1\n" in text and "\nssh server enable\n" in text
    assert "\n quit\n" not in text and "\ninterface LoopBack0\n description router id\n" in text
    assert remediation("h3c_comware", text, intended_config("h3c_comware")) == []
    assert normalise_comware(raw) == text


def test_facts_and_bgp_neighbors(lab):
    for platform, vrf_block, vrf_peer, model in (
            ("huawei_vrp", " ipv4-family vpn-instance ZW-PUB\n", "10.36.1.2", "NE40E-X8A"),
            ("h3c_comware", " ip vpn-instance ZW-PUB\n", "10.36.16.130", "SR6608-X")):
        config = intended_config(platform)
        config = _edit(config, vrf_block, f"{vrf_block}  peer {vrf_peer} as-number 65001\n")
        device, server = lab.device(platform, config)
        device.bgp_state.update({"10.255.0.16": "Idle", vrf_peer: "Active"})
        driver = lab.driver(platform, server)
        facts = driver.get_facts()
        assert napalm_model_ok(models.FactsDict, facts)
        assert facts["hostname"] == DEVICE[platform] and facts["model"] == model
        assert facts["serial_number"] and facts["uptime"] > 0 and "LoopBack0" in facts["interface_list"]
        bgp = driver.get_bgp_neighbors()
        peers = bgp["global"]["peers"]
        for vrf in bgp.values():
            assert set(vrf) == set(models.BGPStateNeighborsPerVRFDict.__annotations__)
            for peer in vrf["peers"].values():
                assert set(peer) == set(models.BGPStateNeighborDict.__annotations__)
                assert all(set(af) == set(models.BGPStateAddressFamilyDict.__annotations__)
                           for af in peer["address_family"].values())
        assert peers["10.255.0.16"]["is_up"] is False and peers["10.255.0.16"]["remote_as"] == 4200360000
        up = [ip for ip, p in peers.items() if p["is_up"]]
        assert "10.255.36.1" in up or "10.255.0.1" in up
        assert bgp["ZW-PUB"]["peers"][vrf_peer]["is_up"] is False
        assert bgp["ZW-PUB"]["peers"][vrf_peer]["remote_as"] == 65001
        assert bgp["global"]["router_id"] == re.search(r"router-id (\S+)", config).group(1)

# ------------------------------------------------------------------------------ connection


def test_key_login_and_bad_password(lab, tmp_path):
    key = paramiko.ECDSAKey.generate()
    key_file = tmp_path / "id_ecdsa"
    key.write_private_key_file(str(key_file))
    device, server = lab.device("huawei_vrp", older_config("huawei_vrp"), server_args={"authorized_key": key})
    driver = lab.driver("huawei_vrp", server, password="not-the-password", key_file=str(key_file),
                        use_keys=True, allow_agent=False)
    assert driver.is_alive() == {"is_alive": True}
    assert running(driver).startswith("#\nsysname jx-pe1\n")
    with pytest.raises(ConnectAuthError) as caught:
        lab.driver("huawei_vrp", server, password="not-the-password")
    assert "not-the-password" not in str(caught.value)
    driver.close()
    assert driver.is_alive() == {"is_alive": False}
