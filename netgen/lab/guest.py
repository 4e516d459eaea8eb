"""A QEMU guest running Debian's kernel, for the lab's production design (MPLS, VRF, 802.1q, ESP).

This host's kernel has none of those; Debian's kernel package has them all as modules. The guest
boots that kernel (TCG: nested KVM hangs) with a busybox initramfs, runs the host's own `/` shared
read-only over virtio-9p under a tmpfs overlay — so FRR, iproute2, sshd and strongSwan are the
host's — and offers nothing but sshd on a port forwarded from 127.0.0.1 (`restrict=on`: the guest
has no way out). See shared/LAB-NOTES.md, second half.

Boot files are prepared once into netgen's cache (`lab-guest/<kernel version>`), from the Debian
archive through apt only. The state directory records qemu's PID (and start time) before anything
waits on it, so `down()` works after a killed `up()` and kills nothing but what it started.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import initramfs
from .state import ROOT
from .system import LabError, alive, kill, proc_start_time, run as run_host

KERNEL_META = "linux-image-amd64"  # the metapackage names the kernel version Debian ships now
TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "busybox": "busybox-static", "apt-get": "apt",
         "dpkg-deb": "dpkg", "ssh": "openssh-client", "ssh-keygen": "openssh-client", "sshd": "openssh-server"}
# Never loaded in a lab guest; ~half of the package's 400 MB.
PRUNE = ["kernel/drivers/gpu", "kernel/drivers/media", "kernel/drivers/net/wireless", "kernel/drivers/infiniband",
         "kernel/drivers/staging", "kernel/sound", "kernel/drivers/iio", "kernel/drivers/scsi",
         "kernel/drivers/bluetooth", "kernel/net/bluetooth", "kernel/drivers/hid", "kernel/drivers/usb"]
HOST = "guest"  # the Host name in the guest's ssh_config


# ------------------------------------------------------------------ boot files


@dataclass
class BootFiles:
    version: str
    directory: Path

    @property
    def kernel(self) -> Path:
        return self.directory / "root" / "boot" / f"vmlinuz-{self.version}"

    @property
    def modules(self) -> Path:
        return self.directory / "root" / "lib" / "modules" / self.version

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.gz"

    def ready(self) -> bool:
        return self.kernel.exists() and self.initrd.exists() and (self.modules / "modules.dep").exists()


def cache_root() -> Path:
    """Where prepared kernels live: $NETGEN_CACHE_DIR/lab-guest, else ~/.cache/netgen/lab-guest
    (the content cache being turned off does not matter: this is not a cache of results)."""
    env = os.environ.get("NETGEN_CACHE_DIR", "")
    if env and env.lower() not in ("off", "0", "no", "false"):
        return Path(env) / "lab-guest"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "netgen" / "lab-guest"


def missing_tools() -> list[str]:
    """What the guest needs that this machine lacks, as Debian package names."""
    out = {pkg for tool, pkg in TOOLS.items() if not shutil.which(tool) and not Path("/usr/sbin", tool).exists()}
    bb = shutil.which("busybox")
    if bb and not _static(Path(bb)):
        out.add("busybox-static")
    return sorted(out)


def _static(path: Path) -> bool:
    """True if the ELF file has no program interpreter (the initramfs has no libc)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff, phentsize, phnum = (int.from_bytes(head[0x20:0x28], "little"),
                                   int.from_bytes(head[0x36:0x38], "little"), int.from_bytes(head[0x38:0x3a], "little"))
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(int.from_bytes(table[i * phentsize:i * phentsize + 4], "little") != 3 for i in range(phnum))


def kernel_version() -> str:
    """The version `linux-image-amd64` depends on now (from apt's lists, no network), else the
    newest one already prepared."""
    p = subprocess.run(["apt-cache", "depends", KERNEL_META], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        dep = line.split("Depends:")[-1].strip()
        if "Depends:" in line and dep.startswith("linux-image-") and dep.endswith("-amd64"):
            return dep[len("linux-image-"):]
    ready = sorted((d.name for d in cache_root().glob("*-amd64") if BootFiles(d.name, d).ready()), reverse=True)
    if ready:
        return ready[0]
    raise LabError(f"apt knows no `{KERNEL_META}`: run `apt-get update` as root (bash scripts/setup does it)")


def prepare(version: str | None = None) -> BootFiles:
    """The guest's kernel, modules and initramfs, made once into the cache (locked: parallel runs
    wait for the one that prepares)."""
    missing = missing_tools()
    if missing:
        raise LabError(f"the lab guest needs Debian packages {' '.join(missing)}: run `bash scripts/setup` as root")
    version = version or kernel_version()
    boot = BootFiles(version, cache_root() / version)
    if boot.ready():
        return boot
    cache_root().mkdir(parents=True, exist_ok=True)
    with open(cache_root() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if boot.ready():
            return boot
        work = cache_root() / f".{version}.{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(mode=0o755)
        try:
            _unpack_kernel(version, work)
            staged = BootFiles(version, work)
            initramfs.build(staged.modules, Path(shutil.which("busybox")), staged.initrd)
            shutil.rmtree(boot.directory, ignore_errors=True)
            work.rename(boot.directory)
        except (OSError, ValueError) as exc:
            raise LabError(f"{work}: preparing the guest's kernel {version} failed ({exc})") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return boot


def _unpack_kernel(version: str, work: Path) -> None:
    package = f"linux-image-{version}"
    p = subprocess.run(["apt-get", "download", "-q", package], cwd=work, capture_output=True, text=True)
    debs = list(work.glob(f"{package}_*.deb"))
    if p.returncode != 0 or not debs:
        raise LabError(f"`apt-get download {package}` failed: {(p.stderr or p.stdout).strip()[-300:]} — check the "
                       "Debian archive is reachable and run `apt-get update` as root")
    run_host(["dpkg-deb", "-x", str(debs[0]), str(work / "root")], timeout=300)
    debs[0].unlink()
    modules = work / "root" / "lib" / "modules" / version
    for sub in PRUNE:
        shutil.rmtree(modules / sub, ignore_errors=True)
    run_host(["busybox", "depmod", "-b", str(work / "root"), version], timeout=300)


# ------------------------------------------------------------------ the guest


@dataclass
class GuestState:
    port: int = 0
    version: str = ""
    qemu: list[int] = field(default_factory=list)  # [pid, start time]
    master: list[int] = field(default_factory=list)  # the ssh ControlMaster


class Guest:
    """One QEMU guest; its files (keys, ssh config, console log, state) in `directory`."""

    def __init__(self, name: str, directory: Path | None = None, memory_mb: int = 2048, smp: int = 2):
        self.name = name
        self.dir = Path(directory) if directory else ROOT / name / "guest"
        self.memory_mb, self.smp = memory_mb, smp
        self.state_file, self.console = self.dir / "guest.json", self.dir / "console.log"
        self.ssh_config, self.control = self.dir / "ssh_config", self.dir / "ctl"
        self.boot: BootFiles | None = None

    # ---------------------------------------------------------- state

    def _load(self) -> GuestState:
        try:
            data = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return GuestState()
        except (OSError, ValueError) as exc:
            raise LabError(f"{self.state_file}: unreadable guest state ({exc}); kill its qemu by hand "
                           f"(see {self.dir / 'qemu.pid'}) and remove {self.dir}") from exc
        return GuestState(**{k: v for k, v in data.items() if k in GuestState.__dataclass_fields__})

    def _save(self, st: GuestState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(st)) + "\n")
        os.replace(tmp, self.state_file)

    def alive(self) -> bool:
        st = self._load()
        return bool(st.qemu) and alive(*st.qemu)

    # ---------------------------------------------------------- up

    def up(self, timeout: float = 180) -> None:
        """Boot the guest and wait until a command runs in it over ssh (idempotent)."""
        if self.alive():
            if not self._master_ok():
                self._connect(self._load(), time.monotonic() + timeout)
            return
        self.down()
        self.boot = self.boot or prepare()
        if not shutil.which("qemu-system-x86_64"):
            raise LabError("the lab guest needs qemu-system-x86_64: run `bash scripts/setup` as root")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        st = GuestState(port=_free_port(), version=self.boot.version)
        self._save(st)  # recorded before anything is created
        self._keys()
        qemu = subprocess.Popen(self._qemu_command(st.port), stdin=subprocess.DEVNULL,
                                stdout=open(self.dir / "qemu.out", "wb"), stderr=subprocess.STDOUT)
        st.qemu = [qemu.pid, proc_start_time(qemu.pid) or 0]
        self._save(st)
        try:
            self._connect(st, time.monotonic() + timeout)
        except LabError:
            self.down()  # the error carries the console's last lines; a failed boot leaves nothing
            raise

    def _qemu_command(self, port: int) -> list[str]:
        boot = self.boot
        append = (f"console=ttyS0 quiet panic=-1 rdinit=/init netgen.state={self.dir} "
                  f"netgen.modules={boot.modules}")
        return ["qemu-system-x86_64", "-name", f"netgen-guest-{self.name}", "-nodefaults", "-no-user-config",
                "-accel", "tcg,thread=multi,tb-size=256", "-smp", str(self.smp), "-m", str(self.memory_mb),
                "-nographic", "-monitor", "none", "-serial", f"file:{self.console}", "-no-reboot",
                "-pidfile", str(self.dir / "qemu.pid"),
                "-kernel", str(boot.kernel), "-initrd", str(boot.initrd), "-append", append,
                "-virtfs", f"local,path=/,mount_tag={initramfs.MOUNT_TAG},security_model=none,readonly=on,"
                           "multidevs=remap",
                # restrict=on: no way out of the guest; only sshd, only from this host's loopback
                "-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
                "-device", "virtio-net-pci,netdev=n0,romfile="]  # no iPXE ROM: direct kernel boot

    def _keys(self) -> None:
        """Host and client keys, sshd_config (guest paths), ssh_config with connection sharing."""
        host_key, client_key = self.dir / "host_ed25519", self.dir / "id_ed25519"
        for key in (host_key, client_key):
            if not key.exists():
                run_host(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"netgen-guest {key.name}",
                          "-f", str(key)])
        (self.dir / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
        g = initramfs.GUEST_DIR
        (self.dir / "sshd_config").write_text("\n".join([
            f"HostKey {g}/host_ed25519", f"AuthorizedKeysFile {g}/authorized_keys", "ListenAddress 0.0.0.0:22",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "UseDNS no", "PidFile none", "MaxSessions 100", "MaxStartups 100",
            "Subsystem sftp internal-sftp", "LogLevel ERROR"]) + "\n")
        port = self._load().port
        (self.dir / "known_hosts").write_text(
            f"[127.0.0.1]:{port} {' '.join(host_key.with_suffix('.pub').read_text().split()[:2])}\n")
        self.ssh_config.write_text("\n".join([
            f"Host {HOST}", "  HostName 127.0.0.1", f"  Port {port}", "  User root",
            f"  IdentityFile {client_key}", "  IdentitiesOnly yes", f"  UserKnownHostsFile {self.dir / 'known_hosts'}",
            "  StrictHostKeyChecking yes", "  BatchMode yes", "  ConnectTimeout 10", "  LogLevel ERROR",
            # each command is a channel on one connection, not a handshake
            f"  ControlPath {self.control}", "  ControlMaster no", "  ServerAliveInterval 5",
            "  ServerAliveCountMax 3"]) + "\n")

    def _connect(self, st: GuestState, deadline: float) -> None:
        """Wait for the guest's sshd, then hold one master connection (its PID recorded)."""
        while True:
            if not alive(*st.qemu):
                raise LabError(f"the lab guest's qemu exited during boot: {self._tail()}")
            if time.monotonic() > deadline:
                raise LabError(f"the lab guest did not answer ssh on 127.0.0.1:{st.port} in time "
                               f"(slow or overloaded host? a longer timeout); its console: {self._tail()}")
            self.control.unlink(missing_ok=True)
            master = subprocess.Popen(["ssh", "-F", str(self.ssh_config), "-M", "-N", "-o", "ControlPersist=no",
                                       HOST], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            st.master = [master.pid, proc_start_time(master.pid) or 0]
            self._save(st)
            while master.poll() is None and not self.control.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.control.exists() and self._master_ok():
                return
            kill([tuple(st.master)])
            master.wait()
            time.sleep(0.5)

    def _master_ok(self) -> bool:
        p = subprocess.run(["ssh", "-F", str(self.ssh_config), "-O", "check", HOST], capture_output=True, timeout=10)
        return p.returncode == 0

    def _tail(self, lines: int = 12) -> str:
        text = ""
        for f in (self.console, self.dir / "qemu.out"):
            try:
                text += f.read_text(errors="replace")
            except OSError:
                pass
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc|[\x00-\x08\x0b-\x1f]", "", text)  # BIOS screen codes
        tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) or "(empty)"

    # ---------------------------------------------------------- use

    def command(self, cmd: str | list[str]) -> list[str]:
        """The ssh command line that runs `cmd` in the guest (over the shared connection)."""
        remote = cmd if isinstance(cmd, str) else shlex.join(cmd)
        return ["ssh", "-F", str(self.ssh_config), HOST, remote]

    def run(self, cmd: str | list[str], input: str | bytes | None = None, timeout: float = 60,
            check: bool = False) -> subprocess.CompletedProcess:
        """Run `cmd` (a shell command line, or an argv) in the guest as root."""
        text = not isinstance(input, bytes)
        try:
            p = subprocess.run(self.command(cmd), input=input, capture_output=True, text=text, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"guest {self.name}: `{cmd}` did not finish in {timeout:.0f} s") from exc
        if check and p.returncode != 0:
            err = p.stderr if text else p.stderr.decode(errors="replace")
            raise LabError(f"guest {self.name}: `{cmd}` failed ({p.returncode}): {err.strip()[:500]}")
        return p

    def put(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        """Write a file in the guest. Over ssh, not through the 9p share: with cache=loose, files
        the host makes after boot may not show up in the guest."""
        q = shlex.quote(path)
        self.run(f"mkdir -p $(dirname {q}) && cat > {q}.tmp && chmod {mode:o} {q}.tmp && mv {q}.tmp {q}",
                 input=data if isinstance(data, bytes) else data.encode(), check=True)

    # ---------------------------------------------------------- down

    def down(self) -> None:
        """Kill the ssh master and qemu (the PIDs recorded, nothing else) and remove every file."""
        st = self._load() if self.dir.exists() else GuestState()
        targets = [tuple(p) for p in (st.master, st.qemu) if p]
        pidfile = self._pidfile_qemu()  # qemu started, netgen killed before recording it
        if pidfile and all(pidfile != p for p, _ in targets):
            targets.append((pidfile, proc_start_time(pidfile)))
        kill(targets, grace=5)
        self.control.unlink(missing_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.dir.parent != ROOT and self.dir.parent.parent == ROOT:
            try:
                self.dir.parent.rmdir()  # the lab's directory, if the guest was all it held
            except OSError:
                pass

    def _pidfile_qemu(self) -> int | None:
        """qemu's own -pidfile, trusted only if that process is the qemu of this directory."""
        try:
            pid = int((self.dir / "qemu.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        return pid if f"file:{self.console}".encode() in cmdline else None

    def qemu_rss_mb(self) -> float | None:
        st = self._load()
        try:
            for line in Path(f"/proc/{st.qemu[0]}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (OSError, IndexError):
            pass
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
