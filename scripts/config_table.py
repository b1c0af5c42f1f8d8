#!/usr/bin/env python
"""Print every config key with its default and meaning as a Markdown table (for the README)."""
import dataclasses
import os
import sys
import typing

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pipeline.config import Config  # noqa: E402


def rows(cls, prefix=""):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default):
            yield from rows(type(default), f"{prefix}{f.name}.")
            continue
        meta = f.metadata
        rng = []
        if meta.get("lo") is not None:
            rng.append(f">= {meta['lo']}")
        if meta.get("hi") is not None:
            rng.append(f"<= {meta['hi']}")
        tp = hints[f.name]
        allowed = typing.get_args(tp) if typing.get_origin(tp) is typing.Literal else None
        doc = meta.get("doc", "")
        if allowed:
            doc = (doc + "; " if doc else "") + "one of " + ", ".join(f"`{a}`" for a in allowed)
        if rng:
            doc = (doc + "; " if doc else "") + ", ".join(rng)
        value = list(default) if isinstance(default, tuple) else default
        yield f"| `{prefix}{f.name}` | `{value!r}` | {doc} |"


print("| key | default | meaning |")
print("|---|---|---|")
for line in rows(Config):
    print(line)
