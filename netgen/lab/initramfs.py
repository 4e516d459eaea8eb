"""The lab guest's initramfs: busybox-static, the few modules that reach the root, and /init.

Built in Python (a gzip'd cpio "newc" archive) so no cpio tool and no privileges are needed. The
/init script (stage 1) loads virtio, 9p and overlay, mounts the host's `/` read-only over virtio-9p
under a tmpfs overlay, copies the guest's ssh files in, and switches to busybox init in that root;
stage 2 (run by init) loads the production design's modules and starts sshd — nothing else.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

# What reaches the root, in the order the notes measured (dependencies first anyway, see order()).
ROOT_MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
                "netfs", "fscache", "9pnet", "9pnet_virtio", "9p", "overlay"]
# The production design's kernel features (+ IPsec: xfrm_user esp4 ip_gre), loaded in stage 2.
GUEST_MODULES = ["virtio_net", "mpls_router", "mpls_iptunnel", "vrf", "8021q", "veth", "xfrm_user", "esp4",
                 "ip_gre"]
MOUNT_TAG = "hostroot"
GUEST_DIR = "/etc/netgen-guest"  # in the guest's tmpfs overlay: its busybox, ssh files, boot script
SSH_FILES = ("sshd_config", "host_ed25519", "authorized_keys")

STAGE1 = r"""#!/bin/busybox sh
# netgen lab guest, stage 1: reach the host's root and switch to it.
/bin/busybox mkdir -p /proc /sys /dev /host /rw /newroot
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "netgen-guest: $*"; sleep 2; poweroff -f; }
mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev || fail "early mounts"
for m in @MODULES@; do insmod /lib/modules/$m.ko || fail "insmod $m"; done
arg() { for a in $(cat /proc/cmdline); do case "$a" in "$1="*) echo "${a#*=}";; esac; done; }
STATE=$(arg netgen.state); MODDIR=$(arg netgen.modules); V=$(uname -r)
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose @TAG@ /host || fail "9p mount"
mount -t tmpfs -o mode=0755 rw /rw && mkdir /rw/upper /rw/work || fail "tmpfs"
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "overlay"
G=/newroot@GUEST_DIR@
mkdir -p "$G" "/newroot/lib/modules/$V" && mount --bind "/newroot$MODDIR" "/newroot/lib/modules/$V" || fail "modules"
for f in @SSH_FILES@; do cp "/newroot$STATE/$f" "$G/$f" || fail "no $STATE/$f"; done
chmod 600 "$G/host_ed25519"
cp /bin/busybox /stage2 "$G/" && mv "$G/stage2" "$G/boot"
printf '::sysinit:@GUEST_DIR@/boot\n::respawn:/usr/sbin/sshd -D -e -f @GUEST_DIR@/sshd_config\n' > /newroot/etc/inittab
for d in proc sys dev; do mount --move /$d /newroot/$d; done
exec switch_root /newroot @GUEST_DIR@/busybox init
"""

STAGE2 = r"""#!@GUEST_DIR@/busybox sh
# netgen lab guest, stage 2 (busybox init's sysinit): modules, /run, loopback, the NIC, root's shell.
BB=@GUEST_DIR@/busybox
$BB mount -t tmpfs -o mode=0755 run /run
$BB mount -t tmpfs -o mode=1777 tmp /tmp
$BB mkdir -p /dev/pts /dev/shm /run/sshd /run/netns
$BB mount -t devpts -o ptmxmode=0666 devpts /dev/pts
$BB mount -t tmpfs shm /dev/shm
$BB modprobe -a @GUEST_MODULES@ || echo "netgen-guest: some modules did not load"
# on-demand module loading (crypto for ESP, nf_tables ...): the kernel runs this path
printf '#!%s sh\nexec %s modprobe "$@"\n' $BB $BB > @GUEST_DIR@/modprobe
$BB chmod 755 @GUEST_DIR@/modprobe
echo @GUEST_DIR@/modprobe > /proc/sys/kernel/modprobe
$BB hostname netgen-guest
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
# a plain shell for root: the host's .bashrc (pyenv) costs seconds per command under TCG
$BB sed -i 's|^\(root:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*\):.*$|\1:/bin/sh|' /etc/passwd
echo "netgen-guest: ready"
"""


def module_paths(modules_dir: Path) -> dict[str, list[str]]:
    """modules.dep as module name → [its path, then the paths it depends on]."""
    out = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        path, _, deps = line.partition(":")
        out[Path(path).name.split(".ko")[0].replace("-", "_")] = [path, *deps.split()]
    return out


def order(wanted: list[str], deps: dict[str, list[str]]) -> list[str]:
    """`wanted` and everything they need, each after its dependencies (module paths)."""
    by_path = {v[0]: v for v in deps.values()}
    out: list[str] = []

    def visit(path: str) -> None:
        if path in out:
            return
        for d in by_path[path][1:]:
            visit(d)
        out.append(path)

    for name in wanted:
        visit(deps[name][0])
    return out


def build(modules_dir: Path, busybox: Path, target: Path) -> None:
    """Write the initramfs for the kernel whose modules (with modules.dep) are in `modules_dir`."""
    deps = module_paths(modules_dir)
    builtin = (modules_dir / "modules.builtin").read_text()
    missing = [m for m in ROOT_MODULES + GUEST_MODULES if m not in deps and f"/{m}.ko" not in builtin]
    if missing:
        raise ValueError(f"{modules_dir}: the kernel lacks modules {', '.join(missing)}")
    paths = order([m for m in ROOT_MODULES if m in deps], deps)
    names = [Path(p).name[:-3] for p in paths]
    archive = _Cpio()
    for d in ("bin", "dev", "lib", "lib/modules"):
        archive.dir(d)
    archive.node("dev/console", 0o020600, 5, 1)  # the kernel opens it for /init's output
    archive.file("bin/busybox", busybox.read_bytes(), 0o755)
    for p, n in zip(paths, names):
        archive.file(f"lib/modules/{n}.ko", (modules_dir / p).read_bytes(), 0o644)
    subst = {"@MODULES@": " ".join(names), "@TAG@": MOUNT_TAG, "@GUEST_DIR@": GUEST_DIR,
             "@SSH_FILES@": " ".join(SSH_FILES), "@GUEST_MODULES@": " ".join(GUEST_MODULES)}
    archive.file("init", _fill(STAGE1, subst).encode(), 0o755)
    archive.file("stage2", _fill(STAGE2, subst).encode(), 0o755)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(archive.close(), compresslevel=6))
    tmp.replace(target)


def _fill(text: str, subst: dict[str, str]) -> str:
    for k, v in subst.items():
        text = text.replace(k, v)
    return text


class _Cpio:
    """A minimal writer of the "newc" format the kernel unpacks."""

    def __init__(self) -> None:
        self.buf, self.ino = io.BytesIO(), 1

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        self.buf.write(b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0")
        self._pad()
        self.buf.write(data)
        self._pad()

    def _pad(self) -> None:
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def dir(self, name: str) -> None:
        self._entry(name, 0o040755)

    def file(self, name: str, data: bytes, perm: int) -> None:
        self._entry(name, 0o100000 | perm, data)

    def node(self, name: str, mode: int, major: int, minor: int) -> None:
        self._entry(name, mode, rdev=(major, minor))

    def close(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()
