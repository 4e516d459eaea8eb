"""The lab's record of what it created, on disk, so `lab down` can undo it after a crash.

Every namespace and mount is recorded *before* it is created, and every process right after
it starts (PID and start time, so a reused PID is never killed). `down` undoes what is
recorded and tolerates what never came to exist.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

_SAVE = threading.Lock()  # routers start in parallel threads and each records itself
ROOT = Path(os.environ.get("NETGEN_LAB_ROOT", "/run/netgen-lab"))  # tmpfs: gone on reboot, like namespaces


@dataclass
class LabState:
    name: str
    prefix: str  # every namespace name starts with it
    intent: str = ""  # the intent directory the lab was built from
    scope: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)  # innermost last: unmounted in reverse
    processes: dict[str, list[list[int]]] = field(default_factory=dict)  # router → [[pid, start time], …]
    routers: list[str] = field(default_factory=list)  # routers whose namespaces are set up
    veths: list[list[str]] = field(default_factory=list)  # [ns_a, if_a, ns_b, if_b]
    hosts: list[str] = field(default_factory=list)  # host namespaces configured
    made_sshd_dir: bool = False
    design: str = "lite"  # mpls: the production design (platform frr_mpls) | lite: VRF-lite (platform frr)
    where: str = "host"  # host: namespaces here | guest: inside the lab's QEMU guest (guest.py)

    @property
    def directory(self) -> Path:
        return lab_dir(self.name)

    @property
    def path(self) -> Path:
        return self.directory / "state.json"

    def save(self) -> None:
        with _SAVE:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self), indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)

    def note_namespaces(self, names: list[str]) -> None:
        new = [n for n in names if n not in self.namespaces]
        if new:
            self.namespaces += new
            self.save()

    def note_mount(self, path: Path | str) -> None:
        if str(path) not in self.mounts:
            self.mounts.append(str(path))
            self.save()

    @classmethod
    def load(cls, name: str) -> "LabState | None":
        path = lab_dir(name) / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: unreadable lab state ({exc}); remove namespaces `{prefix_for(name)}-*` "
                             "by hand") from exc
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def lab_dir(name: str) -> Path:
    return ROOT / name


def prefix_for(name: str) -> str:
    return f"ng{name}"


def all_labs() -> list[str]:
    try:
        return sorted(p.name for p in ROOT.iterdir() if (p / "state.json").exists())
    except FileNotFoundError:
        return []
