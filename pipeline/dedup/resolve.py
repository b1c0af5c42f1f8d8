"""The dedup barrier in one process's memory: a few small columns of every document and
paragraph of this run and of the history index (``BARRIER_BYTES_PER_ITEM``), one LSH band at a
time, the signatures read from the segments' files as needed. ``ranges.py`` makes the same
decisions by hash ranges on the workers when this would not fit."""
from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..io import atomic
from . import DUPLICATE_DOCUMENT, DUPLICATE_EXACT, DUPLICATE_NEAR, DedupConfig
from .decisions import doc_key, finish
from .graph import near_drops, runs_of_equal
from .keys import KIND_DOC, KIND_PARA, Segment, check_history_first, require_keys
from .store import SegmentReader, Workspace, task_cpu

class Corpus(SegmentReader):
    """The small per-item columns of all segments, in one global numbering, plus lazy access to
    signatures, bands and doc ids by segment."""

    def __init__(self, segments: list[Segment]):
        self.segments = require_keys(segments)
        check_history_first(self.segments)
        cols = ["kind", "file", "pos", "para", "length", "exact", "has_sig"]
        tabs = [atomic.read_table(s.base + ".keys.parquet", columns=cols) for s in self.segments]
        SegmentReader.__init__(self, [s.base for s in self.segments],
                             np.array([t.num_rows for t in tabs], dtype=np.int64))
        cat = lambda name, dt: (np.concatenate([np.asarray(t.column(name).to_numpy(zero_copy_only=False), dt)
                                                for t in tabs]) if tabs else np.zeros(0, dt))
        self.kind = cat("kind", np.int8)
        for i, seg in enumerate(self.segments):
            if seg.hist and seg.exclude_run:
                runs = atomic.read_table(seg.base + ".keys.parquet", columns=["run"]).column("run")
                mine = np.asarray(pc.equal(runs, seg.exclude_run).to_numpy(zero_copy_only=False), bool)
                self.kind[self.offsets[i]:self.offsets[i + 1]][mine] = -1
        self.file = cat("file", np.int64)
        self.pos = cat("pos", np.int64)
        self.para = cat("para", np.int64)
        self.length = cat("length", np.int64)
        self.exact = cat("exact", np.uint64)
        self.has_sig = cat("has_sig", bool)
        self.seg = np.repeat(np.arange(len(self.segments)), self.sizes)
        self.hist = np.repeat(np.array([s.hist for s in self.segments], bool), self.sizes)

    def col(self, name: str, idx: np.ndarray) -> np.ndarray:
        """Column ``name`` (file, pos, para, length, seg, hist) of the items ``idx``."""
        return getattr(self, name)[idx]


def _rank(c: "Corpus", idx: np.ndarray, keep: str) -> np.ndarray:
    """``idx`` (sorted) reordered best keeper first: history first, in the order it was appended,
    then the keep rule. Rows are numbered in input order (history segments first, then this run's
    shards in input order, each in the order its documents were read), so ``first`` is the
    numbering itself; ``longest`` puts the longest first within history's segments and within
    this run, ties in input order."""
    if keep == "longest":
        return idx[np.lexsort((idx, -c.length[idx], rank_group(c.hist[idx], c.seg[idx], len(c.segments))))]
    return idx


def rank_group(hist: np.ndarray, seg: np.ndarray, nsegs: int) -> np.ndarray:
    """What ranks before length under ``keep: longest``: each history segment's number (they come
    first, in append order), then one group for this run."""
    return np.where(hist, seg, nsegs).astype(np.int64)


# The barrier's peak memory per document or paragraph it reads (its per-item columns, ranks and
# sort buffers), as scripts/bench_dedup.py and the bench's largest corpus show it, rounded up.
BARRIER_BYTES_PER_ITEM = 360


def barrier_items(segments: list[Segment]) -> int:
    """How many documents and paragraphs the barrier reads from ``segments`` (the key files' footers)."""
    return sum(pq.ParquetFile(s.base + ".keys.parquet").metadata.num_rows for s in require_keys(segments))


# Smaller band passes are not worth shipping to workers (the file they read is written first).
PARALLEL_MIN_ITEMS = 50_000


def _band_edges(c, cand_sorted: np.ndarray, to_rank: np.ndarray, band_ids) -> np.ndarray:
    """Candidate pairs (head, member) as global ids from the LSH bands ``band_ids``."""
    in_rank = cand_sorted[to_rank]              # candidates, best first
    edges = [np.zeros((0, 2), np.int64)]
    ws = Workspace()
    for b in band_ids:
        band = c.band(b, cand_sorted, out=ws.get("band", len(cand_sorted), np.uint64))
        head, mem = runs_of_equal(np.take(band, to_rank, out=ws.get("ranked", len(to_rank), np.uint64)), ws)
        if len(mem):
            edges.append(np.stack([in_rank[head], in_rank[mem]], axis=1))
    return np.concatenate(edges)


def band_edges_task(bases: list[str], sizes: list[int], cand_path: str, band_ids: list[int], driver: str):
    """The band pass for some bands, in a worker process (``resolve(..., parallel_map=...)``).
    Returns (pairs, CPU seconds)."""
    t0 = time.process_time()
    c = SegmentReader(bases, np.array(sizes, np.int64))
    with np.load(cand_path) as z:
        edges = _band_edges(c, z["cand_sorted"], z["to_rank"], band_ids)
    return edges, task_cpu(t0, driver)


def _cluster(c: Corpus, ranked: np.ndarray, bands: int, threshold: float, parallel_map=None, tmp: str = ""):
    """Items ``ranked`` best first. Returns arrays (member, keeper, similarity, exact) of drops."""
    n = len(ranked)
    members, keepers, sims, exact = [], [], [], []
    if n == 0:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0), np.zeros(0, bool))
    # Exact: the best-ranked member of each hash group is kept.
    head, mem = runs_of_equal(c.exact[ranked])
    ex_member, ex_keeper = ranked[mem], ranked[head]
    members.append(ex_member), keepers.append(ex_keeper)
    sims.append(np.ones(len(ex_member))), exact.append(np.ones(len(ex_member), bool))
    # Near: candidates are items with a signature that are not exact copies.
    is_dup = np.zeros(len(c), bool)
    is_dup[ex_member] = True
    cand = ranked[c.has_sig[ranked] & ~is_dup[ranked]]          # still best first
    if len(cand) >= 2 and threshold <= 1.0:
        cand_sorted = np.sort(cand)                 # for contiguous reads
        rank = np.empty(len(c), dtype=np.int64)
        rank[ranked] = np.arange(n)
        to_rank = np.argsort(rank[cand_sorted], kind="stable")
        if parallel_map is not None and tmp and len(cand) >= PARALLEL_MIN_ITEMS:
            # One task per group of bands; the pairs come back and are merged in band order.
            groups = [(list(range(b, bands, 4)),) for b in range(min(4, bands))]
            e = np.concatenate(c.on_workers(parallel_map, tmp, "cand.npz",
                                            lambda path: np.savez(path, cand_sorted=cand_sorted, to_rank=to_rank),
                                            band_edges_task, groups))
        else:
            e = _band_edges(c, cand_sorted, to_rank, range(bands))
        mem, kee, j = near_drops(c, e, lambda nodes: (rank[nodes],), threshold, parallel_map, tmp)
        members.append(mem), keepers.append(kee), sims.append(j), exact.append(np.zeros(len(mem), bool))
    return (np.concatenate(members), np.concatenate(keepers), np.concatenate(sims), np.concatenate(exact))


def resolve(segments: list[Segment], cfg: DedupConfig, out: str, parallel_map=None, tmp: str = "",
            stats: dict | None = None) -> int:
    """Decisions for this run: one row per dropped document or paragraph of a current shard,
    written to the Parquet file ``out`` as they are made (``decisions.finish``); returns their
    number.

    ``parallel_map(fn, [args...])`` (an executor's map) spreads the LSH band pass of large inputs
    over workers; ``tmp`` is then a folder they all see, and ``stats["worker_cpu"]`` receives their
    CPU seconds. The decisions do not depend on it. ``stats["cluster_sizes"]``: how many kept copies
    have 2, 3, ... 10+ copies (this run's drops)."""
    c = Corpus(segments)
    if not len(c):
        return finish(c, [], stats, 0.0, out)
    results = []
    dropped_docs = np.zeros(0, np.int64)
    if cfg.documents:
        idx = np.flatnonzero(c.kind == KIND_DOC)
        mem, kee, sim, ex = _cluster(c, _rank(c, idx, cfg.keep), cfg.bands, cfg.document_threshold,
                                     parallel_map, tmp)
        live = ~c.hist[mem]
        results.append((mem[live], kee[live], sim[live], ex[live], DUPLICATE_DOCUMENT, DUPLICATE_DOCUMENT))
        dropped_docs = doc_key(c.file[mem[live]], c.pos[mem[live]])
    if cfg.paragraphs:
        idx = np.flatnonzero(c.kind == KIND_PARA)
        if len(dropped_docs):
            gone = np.isin(doc_key(c.file[idx], c.pos[idx]), dropped_docs) & ~c.hist[idx]
            idx = idx[~gone]
        mem, kee, sim, ex = _cluster(c, _rank(c, idx, cfg.keep), cfg.bands, cfg.paragraph_threshold,
                                     parallel_map, tmp)
        live = ~c.hist[mem]
        results.append((mem[live], kee[live], sim[live], ex[live], DUPLICATE_EXACT, DUPLICATE_NEAR))
    return finish(c, results, stats, c.worker_cpu, out)
