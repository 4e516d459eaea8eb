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

import yaml

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
        path = path or os.environ.get("NETGEN_SECRETS")
        if not path:
            return cls()
        p = Path(path).expanduser().resolve()
        if intent_dir is not None and Path(intent_dir).resolve() in (p, *p.parents):
            raise SecretError(f"{p}: the secrets file is inside the intent directory; keep it outside the "
                              "repository (e.g. /etc/netgen/secrets.yaml) and point NETGEN_SECRETS at it")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise SecretError(f"{p}: cannot read the secrets file ({type(exc).__name__})") from None
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise SecretError(f"{p}: the secrets file must be a mapping `NAME: value`")
        if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretError(f"{p}: the secrets file is readable by others; `chmod 600 {p}`")
        return cls({k: str(v) for k, v in data.items()}, str(p))

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
