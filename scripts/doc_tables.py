#!/usr/bin/env python
"""The README's tables, generated from the registry (``pipeline/registry.py``): every configuration
key with its default and meaning, and every ledger reason with its stage and meaning.

    python scripts/doc_tables.py            # print both tables
    python scripts/doc_tables.py --write    # put them into README.md, between their markers

A test holds README.md equal to what this prints, so a new option or reason shows up there.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import typing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from pipeline.config import REASONS, Config  # noqa: E402


def _rows(cls, prefix=""):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default):
            yield from _rows(type(default), f"{prefix}{f.name}.")
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


def config_table() -> str:
    return "\n".join(["| key | default | meaning |", "|---|---|---|", *_rows(Config)])


def reasons_table() -> str:
    rows = [f"| `{r.name}` | {r.stage} | {r.meaning} |" for r in sorted(REASONS.values(), key=lambda r: (r.stage, r.name))]
    return "\n".join(["| reason | stage | meaning |", "|---|---|---|", *rows])


TABLES = {"config-table": config_table, "reasons-table": reasons_table}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace the tables in README.md")
    args = ap.parse_args()
    if not args.write:
        for make in TABLES.values():
            print(make() + "\n")
        return 0
    path = os.path.join(ROOT, "README.md")
    text = open(path, encoding="utf-8").read()
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- {name} -->\n).*?(\n<!-- /{name} -->)", re.S)
        if not pattern.search(text):
            sys.exit(f"README.md has no <!-- {name} --> ... <!-- /{name} --> markers")
        text = pattern.sub(lambda m: m.group(1) + make() + m.group(2), text)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
