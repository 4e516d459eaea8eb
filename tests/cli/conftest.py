"""The commands run with a cache of their own per test, never the user's."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    path = tmp_path_factory.mktemp("netgen-cache")
    monkeypatch.setenv("NETGEN_CACHE_DIR", str(path))
    return path
