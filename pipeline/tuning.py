"""Process-wide settings for the command's own processes (placeholder, filled after measuring)."""
from __future__ import annotations


def apply() -> None:
    pass
