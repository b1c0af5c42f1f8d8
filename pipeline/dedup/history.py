"""The cross-run history index in a state folder: what earlier runs emitted.

``STATE/index/`` holds one segment per run (``run-<id>.keys.parquet``, ``.sig.npy``,
``.bands.npy``, see ``keys.py``) and ``index.json``, which lists the segments in the order they were
appended and records the dedup settings the signatures were made with. Every file is written
atomically and ``index.json`` last, so a crash leaves either the old or the new index. A run
that is repeated replaces its own segment, and its rows inside a compacted segment (every row
records its run) are ignored, instead of being treated as history. ``compact`` merges
all segments into one, dropping exact repeats. Appending and merging copy the files in batches
(``write_segment``), so their memory does not grow with the run or the index. The barrier
memory-maps the segments, so reading the index costs a few small columns per item, not the
signatures.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from .. import faults
from ..errors import IndexError_
from ..io import atomic
from . import DedupConfig
from .keys import KEYS_SCHEMA, MissingKeys, Segment, require_keys
from .minhash import SCHEME, identity
from .store import npy_header


def _dir(state: str) -> str:
    return os.path.join(state, "index")


def read_index(state: str) -> dict:
    path = os.path.join(_dir(state), "index.json")
    if not os.path.exists(path):
        return {"identity": None, "segments": []}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# Indexes of version 0.3 named the backend that made their signatures; these made affine32's.
_SAME_SCHEME = {"numpy": SCHEME, "datasketch": SCHEME}


def _check_identity(idx: dict, cfg: DedupConfig, state: str) -> None:
    ident = identity(cfg)
    old = idx["identity"]
    if old is not None and "minhash_backend" in old:
        old = {**old, "minhash_backend": _SAME_SCHEME.get(old["minhash_backend"], old["minhash_backend"])}
    if old is not None and old != ident:
        hint = ""
        if old.get("minhash_backend") != ident["minhash_backend"]:
            hint = (f" (its signatures are {old.get('minhash_backend')}'s, which this version does not compute: "
                    "start a new state folder)")
        raise IndexError_(f"state {state}: its index was built with {idx['identity']}, but the config asks "
                          f"for {ident}; use another --state or the same dedup settings{hint}")


def check_files(state: str, segments: list[dict]) -> None:
    """Every one of these segments (entries of index.json) has its key files: a run that skipped
    one would keep copies of what its runs wrote."""
    try:
        require_keys([Segment(os.path.join(_dir(state), s["name"]), run=s["run"]) for s in segments])
    except MissingKeys as e:
        raise IndexError_(f"state {state}: {e}; restore it, or use another state folder (a run that skipped "
                          "the segment would keep copies of what its runs wrote)") from None


def segments(state: str, cfg: DedupConfig, exclude_run: str) -> list[Segment]:
    """History segments in append order, without the given run's own segment; all their files
    are there (``check_files``)."""
    idx = read_index(state)
    _check_identity(idx, cfg, state)
    used = [s for s in idx["segments"] if s["run"] != exclude_run]
    check_files(state, used)
    return [Segment(os.path.join(_dir(state), s["name"]), run=s["run"], exclude_run=exclude_run)
            for s in used]


def seen(state: str, exclude_run: str) -> list | None:
    """What a barrier run now would dedup against: the history segments (name, run, rows) without
    the given run's own, or None without a state folder. The barrier's marker records it, and a
    rerun whose history differs does not reuse that barrier (``run.workdir.WorkFolder.resume``)."""
    if not state:
        return None
    return [[s["name"], s["run"], s["rows"]] for s in read_index(state)["segments"] if s["run"] != exclude_run]


def _clear_temporaries(state: str) -> None:
    """Temporary files that an append or a compaction killed midway left in the index folder.
    The callers hold the state folder's lock (``io.lock.FolderLock``), so no one is writing them."""
    if os.path.isdir(_dir(state)):
        atomic.remove_temporaries(_dir(state))


def append(state: str, cfg: DedupConfig, run_id: str, parts: list[str]) -> dict:
    """Add this run's emitted keys (segment bases ``parts``) as one segment, streamed part by part
    (memory bounded by one part's chunk, not the run: holding the whole run's signatures took as
    much memory again as the barrier). The caller holds the state folder's lock."""
    idx = read_index(state)
    _check_identity(idx, cfg, state)
    _clear_temporaries(state)
    os.makedirs(_dir(state), exist_ok=True)
    name = f"run-{run_id}"
    rows = write_segment([(p, None) for p in parts],
                         os.path.join(_dir(state), name), cfg, run=run_id)
    faults.point("history-segment-written")
    segs = [s for s in idx["segments"] if s["run"] != run_id]
    segs.append({"name": name, "run": run_id, "rows": rows})
    new = {"identity": identity(cfg), "segments": segs}
    atomic.write_json(new, os.path.join(_dir(state), "index.json"))
    return new


def compact(state: str, cfg: DedupConfig, budget_items: int = 1 << 23) -> dict:
    """Merge every segment into one; rows whose exact hash and kind were already seen are dropped.
    Streamed: the first occurrences are found one hash range at a time (``first_occurrences``)
    and the kept rows copied segment by segment, so memory does not grow with the index. The
    caller holds the state folder's lock (``pipeline index --compact`` takes it)."""
    idx = read_index(state)
    _check_identity(idx, cfg, state)
    _clear_temporaries(state)
    check_files(state, idx["segments"])
    if len(idx["segments"]) <= 1:
        return idx
    bases = [os.path.join(_dir(state), s["name"]) for s in idx["segments"]]
    keep = first_occurrences(bases, budget_items)
    runs = [s["run"] for s in idx["segments"]]
    name = "compact-" + xxhash.xxh3_64_hexdigest(",".join(runs).encode())
    rows = write_segment(list(zip(bases, keep)), os.path.join(_dir(state), name), cfg)
    new = {"identity": idx["identity"],
           "segments": [{"name": name, "run": "compacted:" + ",".join(runs), "rows": rows, "runs": runs}]}
    atomic.write_json(new, os.path.join(_dir(state), "index.json"))
    for s in idx["segments"]:
        for suffix in (".keys.parquet", ".sig.npy", ".bands.npy"):
            p = os.path.join(_dir(state), s["name"] + suffix)
            if os.path.exists(p):
                os.remove(p)
    return new


# ------------------------------------------------------------------ streamed segment files
_BATCH = 1 << 16        # rows per read: 32 MB of 128-value signatures


def _npy_header(path: str) -> tuple[int, tuple]:
    with open(path, "rb") as fh:
        return npy_header(fh)


def _write_npy_header(fh, shape: tuple, dtype) -> None:
    """The header ``np.save`` writes for an array of this shape and dtype (the same bytes)."""
    np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                              "fortran_order": False, "shape": shape})


def _read_rows(fh, off: int, start: int, n: int, row_bytes: int, dtype, buf: np.ndarray) -> np.ndarray:
    out = buf[:n * row_bytes // buf.itemsize]
    fh.seek(off + start * row_bytes)
    if fh.readinto(memoryview(out).cast("B")) != out.nbytes:
        raise OSError(f"{fh.name}: shorter than its header says")
    return out.view(dtype)


def write_segment(sources: list[tuple[str, np.ndarray | None]], out_base: str, cfg: DedupConfig,
                  run: str | None = None) -> int:
    """Write one segment at ``out_base`` from the key files of ``sources`` (segment base, and a mask
    of the rows to keep or None for all), in order, reading at most ``_BATCH`` rows at a time: the
    same content as concatenating them in memory (``keys.Keys.concat``), signatures and band
    hashes byte for byte. ``run``: a ``run`` column with this value is added. Returns the rows."""
    src = []                                      # (base, mask, rows, sig (off, shape), bands (off, shape))
    for base, mask in sources:
        n = pq.ParquetFile(base + ".keys.parquet").metadata.num_rows
        if mask is not None and len(mask) != n:
            raise ValueError(f"{base}: a mask of {len(mask)} rows for {n}")
        sig, bands = _npy_header(base + ".sig.npy"), _npy_header(base + ".bands.npy")
        if sig[1][0] != n or bands[1][1] != n:
            raise ValueError(f"{base}: its key files disagree on the number of rows")
        if (n if mask is None else int(mask.sum())):
            src.append((base, mask, n, sig, bands))
    total = sum(n if m is None else int(m.sum()) for _b, m, n, _s, _bd in src)
    width = src[0][3][1][1] if src else cfg.num_perm
    nb = src[0][4][1][0] if src else cfg.bands
    most = max([s[2] for s in src] + [1])           # rows of the largest source: the read buffers' bound
    if any(s[3][1][1] != width or s[4][1][0] != nb for s in src):
        raise ValueError("segments made with different dedup settings cannot be merged")

    def rows_of(fh, off, n, row_bytes, dtype, mask, buf, start_of=lambda s: s):
        for s in range(0, n, _BATCH):
            e = min(n, s + _BATCH)
            block = _read_rows(fh, off, start_of(s), e - s, row_bytes, dtype, buf)
            yield block if mask is None else block.reshape(e - s, -1)[mask[s:e]]

    def fill_sig(fh):
        _write_npy_header(fh, (total, width), np.uint32)
        buf = np.empty(min(_BATCH, most) * width, np.uint32)
        for base, mask, n, (off, _), _b in src:
            with open(base + ".sig.npy", "rb") as f:
                for block in rows_of(f, off, n, 4 * width, np.uint32, mask, buf):
                    fh.write(np.ascontiguousarray(block).data)

    def fill_bands(fh):
        _write_npy_header(fh, (nb, total), np.uint64)
        buf = np.empty(min(_BATCH, most), np.uint64)
        for b in range(nb):                       # band-major: each band runs through every source
            for base, mask, n, _s, (off, _) in src:
                with open(base + ".bands.npy", "rb") as f:
                    for block in rows_of(f, off, n, 8, np.uint64, mask, buf, lambda s, b=b, n=n: b * n + s):
                        fh.write(np.ascontiguousarray(block).data)

    def fill_keys(fh):
        writer = None
        for base, mask, n, _s, _b in src:
            pf = pq.ParquetFile(base + ".keys.parquet")
            start = 0
            for batch in pf.iter_batches(batch_size=_BATCH):
                t = pa.Table.from_batches([batch])
                if mask is not None:
                    t = t.filter(pa.array(mask[start:start + t.num_rows]))
                start += batch.num_rows
                if not t.num_rows:
                    continue
                if run is not None:
                    t = t.append_column("run", pa.array([run] * t.num_rows, pa.string()))
                if writer is None:
                    schema = t.schema
                    writer = pq.ParquetWriter(fh, schema, compression="zstd")
                writer.write_table(t.cast(schema), row_group_size=64 * 1024)
        if writer is None:           # no rows: the sources' columns (a history segment's "run" too)
            schema = pq.read_schema(sources[0][0] + ".keys.parquet").remove_metadata() if sources else KEYS_SCHEMA
            if run is not None and "run" not in schema.names:
                schema = schema.append(pa.field("run", pa.string()))
            writer = pq.ParquetWriter(fh, schema, compression="zstd")
            writer.write_table(schema.empty_table())
        writer.close()

    atomic.write_with(fill_sig, out_base + ".sig.npy")
    atomic.write_with(fill_bands, out_base + ".bands.npy")
    atomic.write_with(fill_keys, out_base + ".keys.parquet")     # last: marks the segment complete
    return total


def first_occurrences(bases: list[str], budget_items: int = 1 << 23) -> list[np.ndarray]:
    """Per segment, a mask of the rows that are the first of their (kind, exact hash) in the
    segments' order. The rows are scattered by hash range into temporary files of about
    ``budget_items`` rows, and each range is resolved on its own (memory: ~60 bytes per row of
    one range, plus the masks' byte per row)."""
    sizes = [pq.ParquetFile(b + ".keys.parquet").metadata.num_rows for b in bases]
    keep = [np.zeros(n, bool) for n in sizes]
    total = sum(sizes)
    parts = max(1, -(-total // budget_items))
    if parts == 1:
        kinds, exacts = [], []
        for b in bases:
            t = atomic.read_table(b + ".keys.parquet", columns=["kind", "exact"])
            kinds.append(t.column("kind").to_numpy().astype(np.uint8))
            exacts.append(t.column("exact").to_numpy())
        _mark_first(np.concatenate(kinds) if kinds else np.zeros(0, np.uint8),
                    np.concatenate(exacts) if exacts else np.zeros(0, np.uint64),
                    np.arange(total, dtype=np.int64), sizes, keep)
        return keep
    folder = os.path.dirname(bases[0])
    paths = [os.path.join(folder, f"{atomic.TMP_MARK}{os.getpid()}-first-{p:05d}.bin") for p in range(parts)]
    rec = np.dtype([("exact", "<u8"), ("gid", "<i8"), ("kind", "u1")])
    files = [open(p, "wb") for p in paths]
    try:
        gid0 = 0
        for b in bases:
            for batch in pq.ParquetFile(b + ".keys.parquet").iter_batches(batch_size=1 << 20,
                                                                            columns=["kind", "exact"]):
                exact = batch.column(1).to_numpy()
                r = np.empty(len(exact), rec)
                r["exact"], r["kind"] = exact, batch.column(0).to_numpy().astype(np.uint8)
                r["gid"] = np.arange(gid0, gid0 + len(exact))
                gid0 += len(exact)
                part = ((exact >> np.uint64(32)) * np.uint64(parts)) >> np.uint64(32)   # hash range
                order = np.argsort(part, kind="stable")
                cuts = np.searchsorted(part[order], np.arange(parts + 1))
                for p in range(parts):
                    if cuts[p] < cuts[p + 1]:
                        files[p].write(r[order[cuts[p]:cuts[p + 1]]].tobytes())
        for f in files:
            f.close()
        for path in paths:
            r = np.fromfile(path, rec)
            _mark_first(r["kind"], r["exact"], r["gid"], sizes, keep)
            del r
    finally:
        for f in files:
            f.close()
        for path in paths:
            if os.path.exists(path):
                os.remove(path)
    return keep


def _mark_first(kind: np.ndarray, exact: np.ndarray, gid: np.ndarray, sizes: list[int], keep: list) -> None:
    """Marks in ``keep`` the smallest ``gid`` of each (kind, exact) group."""
    if not len(gid):
        return
    order = np.lexsort((gid, exact, kind))
    k, e = kind[order], exact[order]
    first = gid[order][np.r_[True, (k[1:] != k[:-1]) | (e[1:] != e[:-1])]]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    seg = np.searchsorted(offsets, first, side="right") - 1
    for i in np.unique(seg):
        keep[i][first[seg == i] - offsets[i]] = True
