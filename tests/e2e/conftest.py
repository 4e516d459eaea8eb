"""What every deploy story needs: lab secrets outside the intent and an audit log of its own."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.yaml"  # outside the intent; FRR configs reference no secret
    secrets.write_text("aaa-shared-key: lab-aaa-key\nsnmp-auth: lab-auth-key\nsnmp-priv: lab-priv-key\n")
    secrets.chmod(0o600)
    monkeypatch.setenv("NETGEN_SECRETS", str(secrets))
    monkeypatch.setenv("NETGEN_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
