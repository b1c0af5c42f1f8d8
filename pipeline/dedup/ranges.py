"""The dedup barrier by hash ranges, for inputs too large for one process's memory.

``resolve.resolve`` holds a few columns of every document and paragraph in one process (235-360
bytes each at its peak). Here the same decisions are made with memory that grows with the
duplicates found, not with the corpus:

1. *Scatter* (one task per segment, on the executor's workers): every eligible item's exact hash,
   and later each of its LSH band hashes, goes with its rank key and global id into a record
   (three uint64, 24 bytes); the records are written in chunk files sorted by hash range, with
   the offset of every range. Items of the segment that share a hash (in a band) are first
   reduced to the best-ranked one (``_reduce``); the others are paired with it in a file.
2. *Ranges* (one task per range, on the workers): the records of a range are sorted by (band,
   hash, rank); in every run of equal hashes the first is the best-ranked. Exact: the others are
   dropped. Bands: each other member is paired with it.
3. The driver joins what the ranges return: the exact drops, then the candidate pairs of every
   range and the segments' own pairs, whose head takes the head the ranges found for it (merged
   a few files at a time), verified, joined into components and kept or dropped as in
   ``graph.near_drops``; the columns of the decisions are read only for the items they name.

The driver's memory grows with the duplicates found (pairs and drops), not with the corpus; a
range task's with its range (~70 bytes per record), which is bounded by ``RANGE_RECORDS``: a hash
shared by many items sends one record per shard (per 65,536 rows of a larger segment), so the same
text in every document, or a template repeated with small changes in millions of documents, does
not fill one range.

Items rank by their numbering (history first; ``resolve._rank``), and under ``keep: longest`` by
(group, -length) before it, which a record carries as one int64: so a range sees exactly the order
the in-memory barrier uses, and the decisions are the same (``tests/dedup/test_ranges.py``).
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..io import atomic
from . import DUPLICATE_DOCUMENT, DUPLICATE_EXACT, DUPLICATE_NEAR, DedupConfig
from .decisions import doc_key, finish
from .graph import MAX_ITEMS, near_drops, repeat_candidates, run_pairs, runs_of_equal, unique
from .keys import KIND_DOC, KIND_PARA, Segment, check_history_first, require_keys
from .store import SegmentReader, Workspace, npy_header, process_token, task_cpu

# Records per range: a range task holds its records (24 bytes) and their sort (~70 bytes a record
# in all), ~600 MB at 8 million.
RANGE_RECORDS = 8_000_000
CHUNK_RECORDS = 4_000_000     # a scatter task writes its records in sorted chunks of about this many
# A record is three uint64: hash, rank key, global id | head << 53 | band << 54 (ids below 2^53,
# bands below 1024: the config allows 512). ``head``: the item stands for others of its segment
# that share this hash (``_reduce``), whose pairs are composed with its own head afterwards.
_W = 3
_B_SHIFT = np.uint64(54)
_HEAD = np.uint64(1 << 53)
_GID_MASK = np.uint64((1 << 53) - 1)
_LEN_BITS = 40
_BATCH = 1 << 16


def range_size(available: int | None, workers: int) -> int:
    """Records per range for ``workers`` range tasks at once in ``available`` bytes: a quarter of
    each one's share at ~70 bytes a record, between 250,000 and ``RANGE_RECORDS`` (the decisions
    do not depend on it)."""
    if available is None:
        return RANGE_RECORDS
    return int(min(RANGE_RECORDS, max(250_000, available // (4 * max(1, workers) * 70))))


def _range_of(h: np.ndarray, ranges: int) -> np.ndarray:
    """The hash range (0 .. ranges-1) of 64-bit hashes, after a mixing step (cheap insurance: the
    ranges must not depend on how uniform the high bits of each kind of hash are)."""
    with np.errstate(over="ignore"):
        x = h ^ (h >> np.uint64(31))
        x = x * np.uint64(0x7FB5D329728EA185)
        x ^= x >> np.uint64(27)
    return (((x >> np.uint64(32)) * np.uint64(ranges)) >> np.uint64(32)).astype(np.int64)


def _token(driver: str) -> str:
    """The part of the temporary files' names that says which barrier made them."""
    return driver.rsplit(":", 1)[-1]


def _member(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.isin(x, sorted_values)`` for sorted unique ``sorted_values``, by binary search (isin
    sorts both sides at every call)."""
    if not len(sorted_values):
        return np.zeros(len(x), bool)
    i = np.searchsorted(sorted_values, x)
    np.minimum(i, len(sorted_values) - 1, out=i)
    return sorted_values[i] == x


def rank_keys(length: np.ndarray, group: np.ndarray, keep: str) -> np.ndarray:
    """The part of the rank that comes before the numbering: 0 under ``first``; (group, -length)
    packed under ``longest``."""
    if keep != "longest":
        return np.zeros(len(length), np.int64)
    top = (1 << _LEN_BITS) - 1
    return (group.astype(np.int64) << _LEN_BITS) | (top - np.minimum(length.astype(np.int64), top))


def scatter_task(base: str, seg: int, gid0: int, hist: bool, group: int, exclude_run: str, kind: int,
                 stage: str, ranges: int, folder: str, keep: str, bands: int, doc_drops: str, exact_drops: str,
                 driver: str):
    """One segment's records of ``kind`` for ``stage`` ("exact" or "bands"), sorted by hash range
    into files of about ``CHUNK_RECORDS`` records. ``doc_drops``: a .npy of dropped documents'
    keys (this run's paragraphs of those documents take no part); ``exact_drops``: a .npy of the
    global ids dropped as exact copies (they are no band candidates). Returns (chunks: [(path,
    offsets of each range)], band candidates (exact stage), the file of the segment's own pairs
    (``_reduce``) or "", CPU seconds)."""
    t0 = time.process_time()
    if bands >= 1 << (64 - int(_B_SHIFT)):
        raise ValueError(f"{bands} bands do not fit in a record")
    gone_docs = np.load(doc_drops) if doc_drops and not hist else None
    gone = None
    if exact_drops:                    # this segment's part of the sorted exact drops
        allg = np.load(exact_drops, mmap_mode="r")
        with pq.ParquetFile(base + ".keys.parquet") as f:
            rows = f.metadata.num_rows
        gone = np.array(allg[np.searchsorted(allg, gid0):np.searchsorted(allg, gid0 + rows)])
        del allg
    cols = ["kind", "file", "pos", "length", "exact", "has_sig"] + (["run"] if hist and exclude_run else [])
    chunks, pending, npending, cands = [], [], 0, 0
    local = []                   # exact hashes of this run's shard, reduced once all are read
    sink = _Sink(os.path.join(folder, f"{atomic.TMP_MARK}{_token(driver)}-local-{stage}-{kind}-{seg:06d}.bin"))
    ws = Workspace()

    def flush():
        nonlocal pending, npending
        if not npending:
            return
        rec = np.concatenate(pending)
        r = _range_of(rec[:, 0], ranges)
        order = np.argsort(r.astype(np.uint16) if ranges <= 1 << 16 else r, kind="stable")   # radix sort
        path = os.path.join(folder, f"{atomic.TMP_MARK}{_token(driver)}-{stage}-{kind}-{seg:06d}-{len(chunks):04d}.bin")
        np.take(rec, order, axis=0).tofile(path)
        chunks.append((path, np.searchsorted(r[order], np.arange(ranges + 1)).astype(np.int64)))
        pending, npending = [], 0

    def add(h, rk, gid, b, head=None):
        nonlocal npending
        rec = np.empty((len(h), _W), np.uint64)
        rec[:, 0], rec[:, 1], rec[:, 2] = h, rk.view(np.uint64), gid.view(np.uint64) | (np.uint64(b) << _B_SHIFT)
        if head is not None:
            rec[head, 2] |= _HEAD
        pending.append(rec)
        npending += len(rec)
        if npending >= CHUNK_RECORDS:
            flush()

    with contextlib.ExitStack() as stack:
        keys = stack.enter_context(pq.ParquetFile(base + ".keys.parquet"))
        if stage == "bands":
            band_file = stack.enter_context(open(base + ".bands.npy", "rb"))
            boff, bshape = npy_header(band_file)
        stack.callback(sink.close)
        r0 = 0
        for batch in keys.iter_batches(batch_size=_BATCH, columns=cols):
            n = batch.num_rows
            col = lambda name: batch.column(cols.index(name)).to_numpy(zero_copy_only=False)
            ok = col("kind") == kind
            if hist and exclude_run:
                ok &= ~np.asarray(pc.equal(batch.column(cols.index("run")), exclude_run)
                                  .to_numpy(zero_copy_only=False), bool)
            if gone_docs is not None and len(gone_docs):
                ok &= ~_member(gone_docs, doc_key(col("file"), col("pos")))
            gid = np.arange(gid0 + r0, gid0 + r0 + n, dtype=np.int64)
            if stage == "exact":
                cands += int(np.count_nonzero(ok & col("has_sig")))
            else:
                ok &= col("has_sig")
                if gone is not None and len(gone):
                    ok &= ~_member(gone, gid)
            sel = np.flatnonzero(ok)
            if len(sel):
                rk = rank_keys(col("length")[sel], np.full(len(sel), group), keep)
                g = gid[sel]
                if stage == "exact" and not hist:
                    local.append((col("exact")[sel], rk, g))
                elif stage == "exact":            # the history index holds no two copies
                    add(col("exact")[sel], rk, g, 0)
                else:
                    ro = np.lexsort((g, rk))         # rank order
                    sel, rk, g = sel[ro], rk[ro], g[ro]
                    row = np.empty(n, np.uint64)
                    for b in range(bands):
                        band_file.seek(boff + (b * bshape[1] + r0) * 8)
                        if band_file.readinto(memoryview(row).cast("B")) != n * 8:
                            raise OSError(f"{base}.bands.npy: band {b} is incomplete")
                        _reduce(row[sel], rk, g, b, add, sink, ws)
            r0 += n
        if local:
            h, rk, g = (np.concatenate([p[i] for p in local]) for i in range(3))
            ro = np.lexsort((g, rk))
            _reduce(h[ro], rk[ro], g[ro], 0, add, sink, ws)
        flush()
    return chunks, cands, sink.path if sink.written else "", task_cpu(t0, driver)


def _reduce(h: np.ndarray, rk: np.ndarray, gid: np.ndarray, b: int, add, sink: "_Sink", ws) -> None:
    """Records of some items of one segment, in rank order, for band ``b`` (0 for the exact
    hashes), reduced to the best-ranked item of each hash before they are scattered (``add``):
    a hash that a million items of the segment share then sends one record to its range, not a
    million. The others go to ``sink`` as (band, local head, member), and the local head's record
    is flagged, so that the range reports its own head, which the driver gives them
    (``_pair_arrays``)."""
    head, mem = runs_of_equal(h, ws)
    if not len(mem):
        add(h, rk, gid, b)
        return
    kept = np.ones(len(h), bool)
    kept[mem] = False
    flag = np.zeros(len(h), bool)
    flag[head] = True
    add(h[kept], rk[kept], gid[kept], b, flag[kept])
    sink.write(b, gid[head], gid[mem])


class _Sink:
    """(band, local head, member) triples of int64 appended to a file, created at the first."""

    def __init__(self, path: str):
        self.path, self._fh = path, None

    def write(self, b: int, head: np.ndarray, mem: np.ndarray) -> None:
        if self._fh is None:
            self._fh = open(self.path, "wb")
        t = np.empty((len(mem), 3), np.int64)
        t[:, 0], t[:, 1], t[:, 2] = b, head, mem
        t.tofile(self._fh)

    @property
    def written(self) -> bool:
        return self._fh is not None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


# Head rows (band, head, local head) the driver joins at once: when the ranges report more, the
# join runs in rounds of bands, reading the segments' local pairs once per round. A head row
# comes per band, so close copies within a shard and elsewhere give up to one per band per copy.
HEAD_ROWS = 1 << 23


def _pair_arrays(pair_paths: list[str], head_paths: list[str], local_paths: list[str], made: list[str],
                 items: int):
    """The ranges' pairs, then the segments' local pairs with their local head replaced by that
    head's own head in its band when the ranges found one (files removed once read)."""
    for p in pair_paths:
        yield _take(p, made, np.load(p))
    n_heads = sum(np.load(p, mmap_mode="r").shape[0] for p in head_paths)
    rounds = max(1, -(-n_heads // HEAD_ROWS))
    width = np.int64(max(1, items))
    for r in range(rounds):                    # the bands b with b % rounds == r
        parts = []
        for p in head_paths:
            h = np.load(p)
            parts.append(h[h[:, 0] % rounds == r] if rounds > 1 else h)
        heads = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
        del parts
        key = heads[:, 0] * width + heads[:, 2]
        order = np.argsort(key)
        key, best = key[order], heads[order, 1]
        del heads, order
        for p in local_paths:
            with open(p, "rb") as fh:
                while True:
                    t = np.fromfile(fh, np.int64, 3 << 20).reshape(-1, 3)
                    if not len(t):
                        break
                    if rounds > 1:
                        t = t[t[:, 0] % rounds == r]
                    keeper = t[:, 1].copy()
                    if len(key):
                        k = t[:, 0] * width + t[:, 1]
                        i = np.minimum(np.searchsorted(key, k), len(key) - 1)
                        found = key[i] == k
                        keeper[found] = best[i[found]]
                    yield np.stack([keeper, t[:, 2]], axis=1)
    for p in head_paths + local_paths:
        _take(p, made, None)


def _take(path: str, made: list[str], value):
    os.remove(path)
    made.remove(path)
    return value


def range_task(stage: str, index: str, rng: int, driver: str, out: str):
    """The pairs (first, other) of the runs of equal (band, hash) among the records of range
    ``rng``, in rank order: exact drops and their keepers, or band candidates and their heads
    (each pair once), saved as ``out`` (a pair of near copies comes from every band they share,
    so the driver merges the ranges' pairs a few files at a time instead of holding them all);
    and (band, first, other) where the other is a segment's local head (``_reduce``), saved as
    ``_heads_path(out)`` when there are any.
    ``index``: the chunk files (``index``.json) and the offsets of every range in each
    (``index``.npy, chunks x (ranges + 1)), so that a task's arguments do not grow with the number
    of chunks. Returns (out, the heads' path or "", the range's records, CPU seconds)."""
    t0 = time.process_time()
    with open(index + ".json", encoding="utf-8") as fh:
        paths = json.load(fh)
    offs = np.load(index + ".npy", mmap_mode="r")
    lo, hi = np.array(offs[:, rng]), np.array(offs[:, rng + 1])
    del offs
    some = np.flatnonzero(hi > lo)
    records = int((hi - lo).sum())
    pairs, heads = _range_pairs(stage, [(paths[i], int(lo[i]), int(hi[i])) for i in some.tolist()])
    np.save(out, pairs)
    if len(heads):
        np.save(_heads_path(out), heads)
    return out, _heads_path(out) if len(heads) else "", records, task_cpu(t0, driver)


def _heads_path(out: str) -> str:
    return out[:-len(".npy")] + "-heads.npy"


def _range_pairs(stage: str, slices: list[tuple[str, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    for path, lo, hi in slices:
        with open(path, "rb") as fh:
            fh.seek(lo * _W * 8)
            parts.append(np.fromfile(fh, np.uint64, (hi - lo) * _W).reshape(-1, _W))
    rec = np.concatenate(parts) if parts else np.zeros((0, _W), np.uint64)
    none = np.zeros((0, 2), np.int64), np.zeros((0, 3), np.int64)
    if not len(rec):
        return none
    # Only records whose hash another record may share (a small part) need the full order.
    rec = np.take(rec, repeat_candidates(np.ascontiguousarray(rec[:, 0])), axis=0)
    h, rk, b = rec[:, 0], rec[:, 1].view(np.int64), rec[:, 2] >> _B_SHIFT
    gid = (rec[:, 2] & _GID_MASK).astype(np.int64)
    order = np.lexsort((gid, rk, h, b))
    h, b, gid, flag = h[order], b[order], gid[order], (rec[order, 2] & _HEAD) != 0
    if not len(h):
        return none
    head, other = run_pairs(np.r_[True, (h[1:] != h[:-1]) | (b[1:] != b[:-1])], np.arange(len(h)))
    fl = flag[other]
    heads = np.stack([b[other[fl]].astype(np.int64), gid[head[fl]], gid[other[fl]]], axis=1)
    pairs = np.stack([gid[head], gid[other]], axis=1)
    if stage == "bands" and len(pairs):
        w = np.int64(gid.max() + 1)
        u = unique(pairs[:, 0] * w + pairs[:, 1])
        pairs = np.stack([u // w, u % w], axis=1)
    return pairs, heads


def _merge_pairs(arrays, items: int) -> np.ndarray:
    """The distinct pairs of ``arrays`` (an iterable of m x 2 arrays), merged a few arrays at a
    time so that memory holds about twice the distinct pairs, not every band's copy of them. A
    pair is packed as one int64 (first x ``items`` + second; ``graph.MAX_ITEMS``)."""
    acc = np.zeros(0, np.int64)
    pending: list[np.ndarray] = []
    width = np.int64(max(1, items))
    for e in arrays:
        if not len(e):
            continue
        pending.append(e)
        if sum(len(x) for x in pending) > max(len(acc), 1 << 20):
            acc, pending = _merge(acc, pending, width), []
    acc = _merge(acc, pending, width)
    return np.stack([acc // width, acc % width], axis=1)


def _merge(acc: np.ndarray, pending: list[np.ndarray], width: np.int64) -> np.ndarray:
    if not pending:
        return acc
    e = np.concatenate(pending)
    return unique(np.concatenate([acc, e[:, 0] * width + e[:, 1]]))


class _Lazy(SegmentReader):
    """The segments' files by global id, with the columns of chosen items read on demand (the row
    groups that hold them), never a column of the whole corpus."""

    def __init__(self, segments: list[Segment]):
        self.segments = require_keys(segments)
        check_history_first(self.segments)
        self._starts = []          # first row of each row group, per segment (no file stays open)
        for s in self.segments:
            with pq.ParquetFile(s.base + ".keys.parquet") as f:
                md = f.metadata
                self._starts.append(np.cumsum([0] + [md.row_group(g).num_rows for g in range(md.num_row_groups)]))
        super().__init__([s.base for s in self.segments], np.array([st[-1] for st in self._starts], np.int64))
        self.hist_of = np.array([s.hist for s in self.segments], bool)

    def seg_of(self, gid: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, gid, side="right") - 1

    def _rows(self, name: str, u: np.ndarray) -> list[pa.Array]:
        """Column ``name`` of the items ``u`` (sorted, unique), read from the row groups that hold
        them, as arrays in that order."""
        out = []
        for i, lo, hi in self._runs(u):
            rows = u[lo:hi] - self.offsets[i]
            starts = self._starts[i]
            rg = np.searchsorted(starts, rows, side="right") - 1
            cut = np.flatnonzero(np.r_[True, rg[1:] != rg[:-1], True])
            with pq.ParquetFile(self.bases[i] + ".keys.parquet") as f:
                for a, z in zip(cut[:-1], cut[1:]):
                    g = int(rg[a])
                    part = f.read_row_group(g, columns=[name]).column(0)
                    out.append(part.take(pa.array(rows[a:z] - starts[g])).combine_chunks())
        return out

    def col(self, name: str, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, np.int64)
        if name == "seg":
            return self.seg_of(idx)
        if name == "hist":
            return self.hist_of[self.seg_of(idx)]
        u = unique(idx)
        parts = [np.asarray(a.to_numpy(zero_copy_only=False), np.int64) for a in self._rows(name, u)]
        vals = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return vals[np.searchsorted(u, idx)]

    def doc_ids_array(self, idx: np.ndarray) -> pa.Array:
        """Document ids of the items ``idx`` (sorted, unique), in that order."""
        return pa.concat_arrays([pa.array([], pa.string())] + [a.cast(pa.string()) for a in self._rows("doc_id", idx)])


def resolve(segments: list[Segment], cfg: DedupConfig, out: str, parallel_map=None, tmp: str = "",
            stats: dict | None = None, range_records: int | None = None) -> int:
    """The same decisions as ``resolve.resolve``, made by hash ranges (module docstring), written
    to ``out`` a piece at a time; returns their number.
    ``parallel_map(fn, [args...])``: the executor's map (None: in this process); ``tmp``: a folder
    the workers see, for the range files (removed at the end); ``stats["largest_range"]``: the
    records of the largest range."""
    per_range = range_records or RANGE_RECORDS
    run_map = parallel_map or (lambda fn, args: [fn(*a) for a in args])
    c = _Lazy(segments)
    if len(c) > MAX_ITEMS:
        raise ValueError(f"{len(c):,} documents and paragraphs: more than the barrier's {MAX_ITEMS:,}")
    own_tmp = not tmp
    tmp = tmp or tempfile.mkdtemp(prefix="dedup-ranges-")
    me = process_token()
    nsegs = len(c.segments)
    groups = np.array([i if s.hist else nsegs for i, s in enumerate(c.segments)], np.int64)
    cpu = 0.0
    largest = [0]                 # records of the largest range
    os.makedirs(tmp, exist_ok=True)
    made: list[str] = []

    def save(name, arr):
        path = os.path.join(tmp, f"{atomic.TMP_MARK}{_token(me)}-{name}.npy")
        np.save(path, arr)
        made.append(path)
        return path

    def pairs_of(kind, stage, ranges, doc_drops="", exact_drops=""):
        nonlocal cpu
        args = [(s.base, i, int(c.offsets[i]), s.hist, int(groups[i]), s.exclude_run, kind, stage, ranges, tmp,
                 cfg.keep, cfg.bands, doc_drops, exact_drops, me) for i, s in enumerate(c.segments)]
        out = run_map(scatter_task, args)
        cpu += sum(t for *_, t in out)
        local_paths = [lp for _, _, lp, _ in out if lp]
        made.extend(local_paths)
        chunks = [ch for chs, *_ in out for ch in chs]
        made.extend(p for p, _ in chunks)
        index = os.path.join(tmp, f"{atomic.TMP_MARK}{_token(me)}-index-{stage}-{kind}")
        offs = np.stack([off for _, off in chunks]) if chunks else np.zeros((0, ranges + 1), np.int64)
        np.save(index + ".npy", offs)
        with open(index + ".json", "w", encoding="utf-8") as fh:
            json.dump([p for p, _ in chunks], fh)
        made.extend([index + ".npy", index + ".json"])
        filled = np.flatnonzero((offs[:, 1:] - offs[:, :-1]).sum(axis=0) > 0) if len(offs) else []
        del offs
        jobs = [(stage, index, r, me, os.path.join(tmp, f"{atomic.TMP_MARK}{_token(me)}-pairs-{stage}-{kind}-{r:05d}.npy"))
                for r in filled]
        made.extend(j[4] for j in jobs)
        res = run_map(range_task, jobs)
        cpu += sum(t for *_, t in res)
        head_paths = [hp for _, hp, _, _ in res if hp]
        largest[0] = max([largest[0]] + [n for _, _, n, _ in res])
        made.extend(head_paths)
        for p in [p for p, _ in chunks] + [index + ".npy", index + ".json"]:
            os.remove(p)
            made.remove(p)
        pairs = _merge_pairs(_pair_arrays([p for p, *_ in res], head_paths, local_paths, made, len(c)), len(c))
        return pairs, sum(n for _, n, _, _ in out)

    def order_keys(nodes):
        if cfg.keep != "longest":
            return (nodes,)
        return (nodes, rank_keys(c.col("length", nodes), groups[c.seg_of(nodes)], cfg.keep))

    results, doc_drops = [], ""
    kinds = [(KIND_DOC, cfg.document_threshold, DUPLICATE_DOCUMENT, DUPLICATE_DOCUMENT)] * cfg.documents
    kinds += [(KIND_PARA, cfg.paragraph_threshold, DUPLICATE_EXACT, DUPLICATE_NEAR)] * cfg.paragraphs
    try:
        for kind, threshold, r_exact, r_near in kinds:
            ranges = max(1, -(-len(c) // per_range))
            ex, cands = pairs_of(kind, "exact", ranges, doc_drops)
            mem, kee, sim, exact = [ex[:, 1]], [ex[:, 0]], [np.ones(len(ex))], [np.ones(len(ex), bool)]
            if threshold <= 1.0 and cands >= 2:
                gone = save(f"exact-{kind}", np.sort(ex[:, 1]))
                e, _ = pairs_of(kind, "bands", max(1, -(-cands * cfg.bands // per_range)), doc_drops, gone)
                nm, nk, ns = near_drops(c, e, order_keys, threshold, parallel_map, tmp)
                mem.append(nm), kee.append(nk), sim.append(ns), exact.append(np.zeros(len(nm), bool))
            mem, kee, sim, exact = (np.concatenate(x) for x in (mem, kee, sim, exact))
            live = ~c.col("hist", mem)
            mem, kee, sim, exact = mem[live], kee[live], sim[live], exact[live]
            results.append((mem, kee, sim, exact, r_exact, r_near))
            if kind == KIND_DOC and len(mem):
                doc_drops = save("doc-drops", unique(doc_key(c.col("file", mem), c.col("pos", mem))))
    finally:
        # every file of this barrier, also those of a task that failed before saying their names
        for p in set(made) | set(glob.glob(os.path.join(tmp, f"{atomic.TMP_MARK}{_token(me)}-*"))):
            if os.path.exists(p):
                os.remove(p)
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if stats is not None:
        stats["largest_range"] = largest[0]
    return finish(c, results, stats, worker_cpu=cpu + c.worker_cpu, out=out)
