"""Secrets at deploy time: fill the placeholders configs carry, and mask them again in anything
netgen records or prints.

Builds never hold secrets: a key renders as `<<secret:NAME>>` or `<<env:VAR>>`. Deploy fills
them in only in the text handed to the driver, from the environment (`env:VAR`) or from a
secrets file outside the repository (`secret:NAME`: YAML `NAME: value`, path from `--secrets` or
$NETGEN_SECRETS). Everything deploy records — plan diffs and commands, the audit log, error
messages — passes through `mask()`, which turns every known value back into its placeholder.
Device credentials come the same way: $NETGEN_USERNAME / $NETGEN_PASSWORD, or the secrets
file's `device-username` / `device-password`.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER = re.compile(r"<<((?:secret|env):[A-Za-z0-9_.\-/]+)>>")


MIN_MASKED = 4  # shorter values would mask ordinary words; real keys are far longer


class SecretError(Exception):
    pass


@dataclass
class Secrets:
    values: dict[str, str] = field(default_factory=dict, repr=False)  # NAME → value (secret: refs)
    source: str = ""
    filled: dict[str, str] = field(default_factory=dict, repr=False)  # every ref handed out → value

    @classmethod
    def load(cls, path: str | Path | None = None, intent_dir: str | Path | None = None) -> "Secrets":
        """The secrets file at `path` (else $NETGEN_SECRETS; none: no secrets). It is read as
        strictly as the intent — no YAML 1.1 readings, tags, anchors or duplicate keys — and
        every value must be a non-empty string. Errors name the file and key, never a value."""
        path = path or os.environ.get("NETGEN_SECRETS")
        if not path:
            return cls()
        p = Path(path).expanduser().resolve()
        if intent_dir is not None and Path(intent_dir).resolve() in (p, *p.parents):
            raise SecretError(f"{p}: the secrets file is inside the intent directory; keep it outside the "
                              "repository (e.g. /etc/netgen/secrets.yaml) and point NETGEN_SECRETS at it")
        return cls(_parse(p, _read(p)), str(p))

    def value(self, ref: str) -> str:
        kind, _, name = ref.partition(":")
        if kind == "env":
            if name not in os.environ:
                raise SecretError(f"`{ref}`: environment variable {name} is not set")
            self.filled[ref] = os.environ[name]
            return os.environ[name]
        if name not in self.values:
            where = self.source or "no secrets file (set NETGEN_SECRETS or --secrets)"
            raise SecretError(f"`{ref}`: no `{name}` in {where}")
        return self.values[name]

    def fill(self, text: str) -> str:
        """The config with every placeholder replaced by its value (for the driver only)."""
        return PLACEHOLDER.sub(lambda m: self.value(m.group(1)), text)

    def mask(self, text: str) -> str:
        """Anything known to be secret turned back into its placeholder."""
        for ref, value in self._known():
            if len(value) >= MIN_MASKED:
                text = text.replace(value, f"<<{ref}>>")
        return text

    def _known(self):
        pairs = [(f"secret:{k}", v) for k, v in self.values.items()] + list(self.filled.items())
        if os.environ.get("NETGEN_PASSWORD"):
            pairs.append(("env:NETGEN_PASSWORD", os.environ["NETGEN_PASSWORD"]))
        return sorted(pairs, key=lambda kv: -len(kv[1]))  # longest first: no partial masking

    def credentials(self) -> tuple[str | None, str | None]:
        user = os.environ.get("NETGEN_USERNAME") or self.values.get("device-username")
        password = os.environ.get("NETGEN_PASSWORD") or self.values.get("device-password")
        return user, password


MAX_SECRETS_BYTES = 1024 * 1024


def _read(p: Path) -> str:
    """The secrets file's text, once it is known to be a private regular file."""
    try:
        with open(p, "rb") as fh:  # one open: what is checked is what is read
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise SecretError(f"{p}: the secrets file is not a regular file; point NETGEN_SECRETS at the file")
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise SecretError(f"{p}: the secrets file is readable by others; `chmod 600 {p}`")
            raw = fh.read(MAX_SECRETS_BYTES + 1)
    except OSError as exc:
        raise SecretError(f"{p}: cannot read the secrets file ({exc.strerror}); check the path and its "
                          "permissions") from None
    if len(raw) > MAX_SECRETS_BYTES:
        raise SecretError(f"{p}: the secrets file is larger than {MAX_SECRETS_BYTES} bytes; it holds names and keys")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SecretError(f"{p}:{line}: the secrets file is not UTF-8; save it as UTF-8") from None


def _parse(p: Path, text: str) -> dict[str, str]:
    """`NAME: value` pairs, refused as the intent loader refuses (first problem reported)."""
    from ..intent.tree import Map
    from ..intent.yamltree import build

    diags: list = []
    root, _ = build(text, str(p), diags, all_secret=True)
    if diags:
        d = min(diags, key=lambda d: (d.location.line, d.location.col))
        what = "YAML syntax error" if d.rule == "yaml.syntax" else d.message
        key = _key_at(root, d.location.line)
        named = f" (key `{key}`)" if key and f"`{key}`" not in what else ""
        raise SecretError(f"{p}:{d.location.line}: {what}{named}; {d.hint}")
    if root is None:
        raise SecretError(f"{p}: the secrets file is empty; write `NAME: value` lines, or unset NETGEN_SECRETS")
    if not isinstance(root, Map):
        raise SecretError(f"{p}: the secrets file must be a mapping of `NAME: value` lines")
    for name, value in root.items():
        line = root.where(name, of="key").line
        if value is None or value == "":
            raise SecretError(f"{p}:{line}: `{name}` has no value; fill it in or remove the line")
        if not isinstance(value, str):
            kind = "a list or mapping" if isinstance(value, (list, dict)) else \
                "a boolean" if isinstance(value, bool) else "a number"
            raise SecretError(f"{p}:{line}: the value of `{name}` is {kind}, not text; quote it ('...')")
    return dict(root)


def _key_at(root, line: int) -> str | None:
    """The top-level key written on `line` (for a message that must not show the value)."""
    from ..intent.tree import Map

    if not isinstance(root, Map) or not line:
        return None
    return next((k for k, loc in root.locs.items() if line in (loc[0], loc[2])), None)
