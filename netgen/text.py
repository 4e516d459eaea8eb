"""Text as a device takes it: shared by the templates (a filter) and the rules that warn of it."""
from __future__ import annotations


def ascii_text(text: str, drop: str = "") -> str:
    """The printable ASCII of `text` (and none of `drop`), spaces collapsed: what a CLI that takes
    no multi-byte text keeps of it (VRP `header`: see templates/huawei_vrp/security.j2)."""
    kept = "".join(c for c in text if " " <= c <= "~" and c not in drop)
    return " ".join(kept.split())
