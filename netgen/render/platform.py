"""Platform descriptors: what a platform is, as data (templates/<platform>/platform.yaml)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml


def templates_root() -> Path:
    """templates/ beside the package (an editable install), or $NETGEN_TEMPLATES."""
    env = os.environ.get("NETGEN_TEMPLATES")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class Platform:
    name: str
    napalm_driver: str  # the napalm driver deploy uses
    hier_config: str | None  # hier_config platform name for remediation (None: the driver diffs)
    comment: str  # comment leader in the config syntax
    suffix: str  # build file suffix
    loopback: str  # loopback interface name
    # physical port name: "{name}" is the port as the device model names it (its hardware
    # profile), "{port}" its place in the model's port list (the lab's eth<N>)
    port: str
    subinterface: str  # "{parent}" and "{vlan}": a zone's sub-interface on a port
    vrf_lite: bool  # carries zones as per-zone copies of each link (no MPLS)
    features: tuple[str, ...]  # feature templates, in CLI order
    directory: Path
    # napalm optional_args deploy connects with (timeouts, port, …); the target adds its own
    connection: tuple[tuple[str, object], ...] = ()

    def ifname(self, port: int, vlan: int | None = None, kind: str = "", port_name: str | None = None) -> str:
        if kind == "loopback" or port == 0:
            return self.loopback
        if port_name is None and "{name}" in self.port:
            raise ValueError(f"{self.name} names ports as the hardware does: the port's name is needed")
        name = self.port.format(port=port, name=port_name)
        return self.subinterface.format(parent=name, port=port, vlan=vlan) if vlan else name


class PlatformError(Exception):
    pass


@lru_cache(maxsize=None)
def load_platform(name: str) -> Platform:
    directory = templates_root() / name
    path = directory / "platform.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in templates_root().iterdir() if (p / "platform.yaml").is_file()))
        raise PlatformError(f"no templates for platform `{name}` (known: {known})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return Platform(
            name=name, napalm_driver=data["napalm_driver"], hier_config=data.get("hier_config"),
            comment=data["comment"], suffix=data.get("suffix", ".cfg"), loopback=data["interfaces"]["loopback"],
            port=data["interfaces"]["port"], subinterface=data["interfaces"]["subinterface"],
            vrf_lite=bool(data.get("vrf_lite", False)), features=tuple(data["features"]), directory=directory,
            connection=tuple(sorted((data.get("connection") or {}).items())),
        )
    except (KeyError, TypeError) as exc:
        raise PlatformError(f"{path}: missing or malformed key {exc}") from exc
