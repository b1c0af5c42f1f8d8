"""The barrier's decisions: one row per dropped document or paragraph of this run (shard,
position, paragraph or -1 for the whole document, reason, and which copy was kept, as JSON), in a
Parquet file sorted by position that phase 2 reads a shard at a time (``read_decisions``)."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..io import atomic
from .graph import unique

# The barrier's decisions (OUT/_work/<run>/dedup/decisions.parquet): a dropped item by shard,
# position and paragraph (-1: the whole document), why, and which copy was kept (JSON).
DECISIONS_SCHEMA = pa.schema([("shard", pa.int32()), ("file", pa.int64()), ("pos", pa.int64()),
                              ("para", pa.int32()), ("reason", pa.string()), ("detail", pa.string())])

# Drops per piece of the decisions when they are written as they are made: the driver never holds
# all of them at once (with millions of drops they would outweigh the components, ``near_drops``).
DECISION_PIECE = 1 << 18


def finish(c, results: list, stats: dict | None, worker_cpu: float, out: str) -> int:
    """The decisions of ``results`` [(member, keeper, similarity, exact, reason if exact, reason if
    near)], sorted by position, written to the Parquet file ``out`` a piece at a time (the drops
    of consecutive shards, about ``DECISION_PIECE`` of them); returns their number. ``stats``:
    the workers' CPU and the cluster sizes."""
    if stats is not None:
        stats["worker_cpu"] = worker_cpu
        # Copies per kept copy (the kept one included; 10 = 10 or more), for the report.
        sizes: dict[int, int] = {}
        for mem, kee, *_ in results:
            _, n = np.unique(kee, return_counts=True)
            for size, count in zip(*np.unique(np.minimum(n + 1, 10), return_counts=True)):
                sizes[int(size)] = sizes.get(int(size), 0) + int(count)
        stats["cluster_sizes"] = {str(k): v for k, v in sorted(sizes.items())}
    atomic.write_tables(_decision_pieces(c, results), out, DECISIONS_SCHEMA)
    return sum(len(r[0]) for r in results)


def _decision_pieces(c, results: list):
    """The decisions tables of the drops of consecutive shards, about ``DECISION_PIECE`` drops
    each, each sorted by position. Shards cover consecutive positions (``io.inputs.plan``), and a
    shard's drops are all in one piece, so the pieces in turn are sorted too."""
    segs = [np.asarray(c.col("seg", r[0]), np.int64) for r in results]
    if not sum(len(s) for s in segs):
        return
    orders = [np.argsort(s, kind="stable") for s in segs]
    ranked = [s[o] for s, o in zip(segs, orders)]
    counts = np.cumsum(sum(np.bincount(s, minlength=len(c.segments)) for s in segs))
    start = 0
    while start < len(c.segments):
        before = counts[start - 1] if start else 0
        end = int(np.searchsorted(counts, before + DECISION_PIECE, side="left")) + 1
        end = min(max(end, start + 1), len(c.segments))
        parts = []
        for r, o, sr in zip(results, orders, ranked):
            lo, hi = np.searchsorted(sr, [start, end])
            if hi > lo:
                sel = o[lo:hi]
                parts.append(_decisions(c, r[0][sel], r[1][sel], r[2][sel], r[3][sel], r[4], r[5]))
        if parts:
            t = pa.concat_tables(parts)
            yield t.take(pa.array(np.lexsort((t.column("para").to_numpy(), t.column("pos").to_numpy(),
                                              t.column("file").to_numpy()))))
        start = end


def _json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal, as ``json.dumps(v, ensure_ascii=False)`` writes it."""
    plain = pc.binary_join_element_wise('"', values, '"', "")
    odd = np.flatnonzero(_bools(pc.match_substring_regex(values, r'["\\\x00-\x1f]')))
    if not len(odd):
        return plain
    fixed = plain.to_pylist()
    for i in odd.tolist():
        fixed[i] = json.dumps(values[i].as_py(), ensure_ascii=False)
    return pa.array(fixed, pa.string())


def _bools(arr) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), bool)


def _decisions(c, mem, kee, sim, ex, reason_exact, reason_near) -> pa.Table:
    """Decision rows for drops ``mem`` of keepers ``kee``, with their detail as JSON (sorted keys),
    built column by column, not a string per row in Python (millions of drops on a large night)."""
    uk = unique(kee)
    names = c.doc_ids_array(uk)
    quoted = _json_strings(names).take(pa.array(np.searchsorted(uk, kee)))
    kept_in = pa.array([json.dumps(f"run {seg.run}" if seg.hist else "this run") for seg in c.segments],
                       pa.string()).take(pa.array(c.col("seg", kee)))
    kp = c.col("para", kee)
    para = pc.if_else(pa.array(kp >= 0), pc.binary_join_element_wise(
        '"kept_para_idx": ', pc.cast(pa.array(kp), pa.string()), ", ", ""), "")
    w = c.sig_width() or 1
    counts = np.rint(sim * w).astype(np.int64)
    table = np.array([round(k / w, 4) for k in range(w + 1)])
    if len(sim) and (counts.min() < 0 or counts.max() > w or not np.array_equal(counts / w, sim)):
        sims = pa.array([repr(round(x, 4)) for x in sim.tolist()], pa.string())    # not count / width
    else:
        sims = pa.array([repr(x) for x in table.tolist()], pa.string()).take(pa.array(counts))
    match = pc.if_else(pa.array(ex), '"match": "exact", "similarity": ', '"match": "near", "similarity": ')
    detail = pc.binary_join_element_wise('{"kept_doc_id": ', quoted, ', "kept_in": ', kept_in, ", ", para, match,
                                         sims, "}", "")
    shard_of = np.array([seg.shard for seg in c.segments], np.int64)
    return _decisions_table({"shard": shard_of[c.col("seg", mem)], "file": c.col("file", mem), "pos": c.col("pos", mem),
                             "para": c.col("para", mem),
                             "reason": pc.if_else(pa.array(ex), reason_exact.name, reason_near.name),
                             "detail": detail})


def doc_key(file: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (file.astype(np.int64) << 42) | pos.astype(np.int64)


def _decisions_table(out: dict) -> pa.Table:
    return pa.table({f.name: out[f.name].cast(f.type) if isinstance(out[f.name], pa.Array)
                     else pa.array(out[f.name], f.type) for f in DECISIONS_SCHEMA}, schema=DECISIONS_SCHEMA)


def read_decisions(path: str, shard: int) -> pa.Table:
    """The barrier's decisions for one shard: only the row groups whose statistics can hold it
    are read (decisions are sorted by position, so a shard's rows are in one or two groups)."""
    f = pq.ParquetFile(path)
    col = f.schema_arrow.get_field_index("shard")
    groups = []
    for g in range(f.metadata.num_row_groups):
        st = f.metadata.row_group(g).column(col).statistics
        if st is None or not st.has_min_max or st.min <= shard <= st.max:
            groups.append(g)
    t = f.read_row_groups(groups) if groups else f.schema_arrow.empty_table()
    return t.filter(pc.equal(t.column("shard"), shard))
