"""The nornir inventory plugin: hosts and groups from the model, connection options per platform
and target, credentials from the environment — never from intent."""
from __future__ import annotations

from pathlib import Path

import pytest
from nornir import InitNornir

from netgen.deploy.inventory import NetgenInventory, select
from netgen.model import resolve

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory"


def nornir(**options):
    return InitNornir(inventory={"plugin": "NetgenInventory", "options": {"intent": str(EXAMPLE), **options}},
                      logging={"enabled": False})


def test_the_plugin_is_registered_and_builds_every_device_with_its_groups():
    nr = nornir()
    net = resolve(EXAMPLE).network
    assert sorted(nr.inventory.hosts) == sorted(net.devices)
    h = nr.inventory.hosts["jx-nc-ncx-pe1"]
    assert {g.name for g in h.groups} == {"level:county", "role:pe", "platform:h3c_comware", "site:jx-nc-ncx",
                                         "site:jx-nc", "site:jx", "site:central", "province:jx"}
    assert h.platform == "netgen_comware" and h.data["site"] == "jx-nc-ncx"
    assert nr.inventory.hosts["jx-pe1"].platform == "netgen_vrp"
    # Production: the management address where the intent pins one, else the host name.
    assert nr.inventory.hosts["central-pe1"].hostname == "10.253.0.101"
    assert len(nr.filter(filter_func=lambda h: "province:gx" in h.groups).inventory.hosts) == 7


def test_credentials_come_from_the_environment_or_the_secrets_file(monkeypatch, tmp_path):
    monkeypatch.setenv("NETGEN_USERNAME", "netops")
    monkeypatch.setenv("NETGEN_PASSWORD", "pw-from-env")
    h = nornir().inventory.hosts["jx-pe1"]
    assert (h.username, h.password) == ("netops", "pw-from-env")
    monkeypatch.delenv("NETGEN_USERNAME")
    monkeypatch.delenv("NETGEN_PASSWORD")
    f = tmp_path / "secrets.yaml"
    f.write_text("device-username: ops2\ndevice-password: pw-from-file\n")
    f.chmod(0o600)
    h = nornir(secrets=str(f)).inventory.hosts["jx-pe1"]
    assert (h.username, h.password) == ("ops2", "pw-from-file")


def test_a_lab_target_reaches_every_router_by_name_through_the_labs_ssh_config():
    inv = NetgenInventory(str(EXAMPLE), lab="x1").load()
    for h in inv.hosts.values():
        assert h.platform == "netgen_frr" and h.hostname == h.name and h.username == "root"
        args = h.connection_options["napalm"].extras["optional_args"]
        assert args["ssh_config_file"].endswith("/x1/ssh/ssh_config")
        assert h.data["production_platform"] in ("huawei_vrp", "h3c_comware")


def test_limit_terms():
    net = resolve(EXAMPLE).network
    assert select(net, ["jx-nc-ncx"]) == ["jx-nc-ncx-lt-ce1", "jx-nc-ncx-pe1"]
    assert set(select(net, ["role:exit"])) == {"central-exit1", "jx-exit1", "gx-nn-samr-fw1"}
    assert set(select(net, ["central-pe1", "level:township"])) == {"central-pe1", "jx-nc-ncx-lt-ce1", "gx-nn-la-cx-ce1"}
    with pytest.raises(ValueError, match="matches no device"):
        select(net, ["level:hamlet"])
    assert len(NetgenInventory(str(EXAMPLE), limit=["province:jx"]).load().hosts) == 8


def test_connection_options_come_from_the_platform_descriptor_and_the_target(monkeypatch, tmp_path):
    h = nornir().inventory.hosts["jx-pe1"]
    args = h.connection_options["napalm"].extras["optional_args"]
    assert args["read_timeout"] == 120 and "ssh_config_file" not in args
    jump = tmp_path / "ssh_config"
    jump.write_text("Host *\n  ProxyJump bastion.example.gov.cn\n")
    monkeypatch.setenv("NETGEN_SSH_CONFIG", str(jump))
    args = nornir().inventory.hosts["jx-pe1"].connection_options["napalm"].extras["optional_args"]
    assert args["ssh_config_file"] == str(jump)
    lab = NetgenInventory(str(EXAMPLE), lab="x1").load().hosts["jx-pe1"]
    assert lab.connection_options["napalm"].extras["optional_args"] == {
        "timeout": 30, "ssh_config_file": lab.connection_options["napalm"].extras["optional_args"]["ssh_config_file"]}
