"""The cross-run history index in a state folder: what earlier runs emitted.

``STATE/index/`` holds one segment per run (``run-<id>.keys.parquet``, ``.sig.npy``,
``.bands.npy``, see ``dedup``) and ``index.json``, which lists the segments in the order they were
appended and records the dedup settings the signatures were made with. Every file is written
atomically and ``index.json`` last, so a crash leaves either the old or the new index. A run
that is repeated replaces its own segment, and its rows inside a compacted segment (every row
records its run) are ignored, instead of being treated as history. ``compact`` merges
all segments into one, dropping exact repeats. The barrier memory-maps the segments, so reading
the index costs a few small columns per item, not the signatures.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa

from . import dedup, faults, write
from .config import DedupConfig


class IndexError_(Exception):
    """The state folder cannot be used with this config."""


def _dir(state: str) -> str:
    return os.path.join(state, "index")


def read_index(state: str) -> dict:
    path = os.path.join(_dir(state), "index.json")
    if not os.path.exists(path):
        return {"identity": None, "segments": []}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _check_identity(idx: dict, cfg: DedupConfig, state: str) -> None:
    ident = dedup.identity(cfg)
    old = idx["identity"]
    if old is not None and "minhash_backend" in old:      # older indexes name the backend, not its scheme
        old = {**old, "minhash_backend": dedup.minhash_scheme(old["minhash_backend"])}
    if old is not None and old != ident:
        hint = ""
        if old.get("minhash_backend") != ident["minhash_backend"]:
            hint = (f" (its signatures are {old.get('minhash_backend')}'s: set dedup.minhash_backend: "
                    f"{old.get('minhash_backend')} to keep using it)")
        raise IndexError_(f"state {state}: its index was built with {idx['identity']}, but the config asks "
                          f"for {ident}; use another --state or the same dedup settings{hint}")


def segments(state: str, cfg: DedupConfig, exclude_run: str) -> list[dedup.Segment]:
    """History segments in append order, without the given run's own segment."""
    idx = read_index(state)
    _check_identity(idx, cfg, state)
    return [dedup.Segment(os.path.join(_dir(state), s["name"]), run=s["run"], exclude_run=exclude_run)
            for s in idx["segments"] if s["run"] != exclude_run]


def append(state: str, cfg: DedupConfig, run_id: str, parts: list[str]) -> dict:
    """Add this run's emitted keys (segment bases ``parts``) as one segment."""
    idx = read_index(state)
    _check_identity(idx, cfg, state)
    os.makedirs(_dir(state), exist_ok=True)
    keys = dedup.Keys.concat([dedup.Keys.read(p) for p in parts if os.path.exists(p + ".keys.parquet")], cfg)
    keys.table = keys.table.append_column("run", pa.array([run_id] * keys.table.num_rows, pa.string()))
    name = f"run-{run_id}"
    keys.write(os.path.join(_dir(state), name))
    faults.point("history-segment-written")
    segs = [s for s in idx["segments"] if s["run"] != run_id]
    segs.append({"name": name, "run": run_id, "rows": keys.table.num_rows})
    new = {"identity": dedup.identity(cfg), "segments": segs}
    write.write_json(new, os.path.join(_dir(state), "index.json"))
    return new


def compact(state: str, cfg: DedupConfig) -> dict:
    """Merge every segment into one; rows whose exact hash and kind were already seen are dropped."""
    idx = read_index(state)
    _check_identity(idx, cfg, state)
    if len(idx["segments"]) <= 1:
        return idx
    parts = [dedup.Keys.read(os.path.join(_dir(state), s["name"])) for s in idx["segments"]]
    keys = dedup.Keys.concat(parts, cfg)
    kind = keys.table.column("kind").to_numpy(zero_copy_only=False).astype(np.uint64)
    exact = keys.table.column("exact").to_numpy(zero_copy_only=False)
    _, first = np.unique(np.stack([kind, exact], axis=1), axis=0, return_index=True)
    keep = np.zeros(len(kind), bool)
    keep[first] = True
    keys = keys.take(keep)
    runs = [s["run"] for s in idx["segments"]]
    name = "compact-" + dedup.xxhash.xxh3_64_hexdigest(",".join(runs).encode())
    keys.write(os.path.join(_dir(state), name))
    new = {"identity": idx["identity"],
           "segments": [{"name": name, "run": "compacted:" + ",".join(runs), "rows": keys.table.num_rows,
                         "runs": runs}]}
    write.write_json(new, os.path.join(_dir(state), "index.json"))
    for s in idx["segments"]:
        for suffix in (".keys.parquet", ".sig.npy", ".bands.npy"):
            p = os.path.join(_dir(state), s["name"] + suffix)
            if os.path.exists(p):
                os.remove(p)
    return new
