"""The frr driver's pure parts, without a router: frr-reload.py output → commands and human diff,
secret masking, running-config normalisation, SSH parameters from an ssh_config."""
from __future__ import annotations

from pathlib import Path

import pytest
from napalm.base.exceptions import ConnectionException

from netgen.deploy.drivers.frr_getters import normalise_running
from netgen.deploy.drivers.frr_reload import commands, human_diff, leftover_summary, mask, parse_test_output
from netgen.deploy.drivers.frr_ssh import resolve

# `frr-reload.py --test` stdout recorded on a lab router (FRR 8.4.4): jx-nc-ncx-pe1 running the
# rendered config + lab_setup.EXTRA, candidate = the rendered config with the loopback's
# description changed and one `ip ospf network point-to-point` removed.
RECORDED = (Path(__file__).parent / "frr_reload_test_output.txt").read_text(encoding="utf-8")


def test_entries_and_exact_commands():
    entries = parse_test_output(RECORDED)
    assert [e.delete for e in entries] == [True, True, True, True, False]
    assert entries[1].lines == ("no router bgp 4200360000 vrf ZW-PUB",)
    assert commands(entries) == [
        "router bgp 4200360000", " address-family ipv4 unicast", "  no neighbor 10.255.36.1 activate",
        "no router bgp 4200360000 vrf ZW-PUB",
        "interface lo", " no description router id",
        "interface e2v100 vrf ZW-PUB", " no ip ospf network point-to-point",
        "interface lo", " description loopback 0"]
    assert parse_test_output("") == [] and commands([]) == []


def test_human_diff_prints_each_context_once_with_signs():
    assert human_diff(parse_test_output(RECORDED)).splitlines() == [
        " router bgp 4200360000", "  address-family ipv4 unicast", "-  neighbor 10.255.36.1 activate",
        "-router bgp 4200360000 vrf ZW-PUB",
        " interface lo", "- description router id",
        " interface e2v100 vrf ZW-PUB", "- ip ospf network point-to-point",
        " interface lo", "+ description loopback 0"]
    assert human_diff([]) == ""


def test_added_context_is_not_repeated_and_no_form_is_inverted():
    out = "\nLines To Delete\n===============\nrouter bgp 1\n bgp default ipv4-unicast\n" \
          "\nLines To Add\n============\ninterface lo\ninterface lo\n ip address 10.0.0.1/32\n"
    assert human_diff(parse_test_output(out)).splitlines() == [
        " router bgp 1", "- no bgp default ipv4-unicast", "+interface lo", "+ ip address 10.0.0.1/32"]


@pytest.mark.parametrize("line, masked", [
    (" neighbor 10.0.0.1 password S3cret", " neighbor 10.0.0.1 password <removed>"),
    (" ip ospf authentication-key K3y", " ip ospf authentication-key <removed>"),
    (" ip ospf message-digest-key 1 md5 K3y", " ip ospf message-digest-key 1 md5 <removed>"),
    (" isis password md5 K3y", " isis password md5 <removed>"),
    (" area-password clear K3y", " area-password clear <removed>"),
    ("  key-string K3y", "  key-string <removed>"),
    (" description router id", " description router id"),
])
def test_mask(line, masked):
    assert mask(line) == masked


def test_leftover_summary_masks_and_shortens():
    out = "\nLines To Add\n============\n" + "".join(
        f"router bgp 1\n neighbor 10.0.0.{i} password S3cret\n" for i in range(20))
    text = leftover_summary(parse_test_output(out))
    assert "S3cret" not in text and "+ router bgp 1 / neighbor 10.0.0.0 password <removed>" in text
    assert text.endswith("… and 8 more")


def test_normalise_running_drops_header_and_empty_interface_stanzas():
    raw = ("Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\nhostname r1\n!\n"
           "interface lo\nexit\n!\ninterface eth1 vrf A\nexit\n!\ninterface eth2\n description x\nexit\n!\nend\n")
    assert normalise_running(raw) == "!\nfrr version 8.4.4\nhostname r1\n!\ninterface eth2\n description x\nexit\n!\nend\n"
    assert normalise_running(normalise_running(raw)) == normalise_running(raw)


def test_ssh_parameters_from_an_ssh_config(tmp_path):
    config = tmp_path / "ssh_config"
    config.write_text("Host r1\n  HostName 192.0.2.7\n  User ops\n  Port 2222\n  IdentityFile ~/k1\n"
                      "  IdentitiesOnly yes\n  UserKnownHostsFile /x/known_hosts\n  StrictHostKeyChecking no\n"
                      "  ProxyCommand nc %h %p\n", encoding="utf-8")
    p = resolve("r1", "", "pw", 30, {"ssh_config_file": str(config)})
    assert (p.hostname, p.port, p.username, p.password) == ("192.0.2.7", 2222, "ops", "pw")
    assert p.key_files == [str(Path("~/k1").expanduser())] and p.proxy_command == "nc 192.0.2.7 2222"
    assert p.known_hosts[0] == "/x/known_hosts" and p.strict is False
    assert (p.allow_agent, p.look_for_keys) == (False, False)  # IdentitiesOnly
    assert "pw" not in repr(p)

    q = resolve("r1", "admin", "", 30, {"ssh_config_file": str(config), "port": 22, "key_file": "/k0",
                                        "strict_host_key_checking": True, "known_hosts_file": "/kh",
                                        "use_keys": True, "timeout": 5})
    assert (q.username, q.port, q.key_files[0], q.strict, q.known_hosts[0], q.look_for_keys, q.timeout) == \
        ("admin", 22, "/k0", True, "/kh", True, 5.0)

    plain = resolve("r2", "u", "", 30, {})
    assert (plain.hostname, plain.port, plain.strict, plain.proxy_command) == ("r2", 22, True, None)
    with pytest.raises(ConnectionException, match="r1: cannot read ssh_config_file"):
        resolve("r1", "", "", 30, {"ssh_config_file": str(tmp_path / "missing")})


def test_napalm_finds_the_driver_as_netgen_frr():
    import napalm

    from netgen.deploy.drivers.frr import FrrDriver

    assert napalm.get_network_driver("netgen_frr") is FrrDriver


def test_last_flapped_is_the_age_of_the_last_link_change_on_the_router_clock():
    from netgen.deploy.drivers.frr_getters import interfaces

    text = ('{"eth1": {"administrativeStatus": "up", "operationalStatus": "down", "mtu": 1500, "speed": 1000,'
            ' "hardwareAddress": "aa:bb:cc:00:11:22", "linkUps": 1, "linkDowns": 2,'
            ' "lastLinkUp": "2026/11/29 03:39:50.00", "lastLinkDown": "2026/11/29 03:39:52.50"}}')
    eth1 = interfaces(text, "2026/11/29 03:40:02.500000000")["eth1"]
    assert eth1 == {"is_up": False, "is_enabled": True, "description": "", "last_flapped": 10.0, "mtu": 1500,
                    "speed": 1000.0, "mac_address": "AA:BB:CC:00:11:22"}
    assert interfaces(text.replace("lastLink", "x"), "2026/11/29 03:40:02.5")["eth1"]["last_flapped"] == -1.0
