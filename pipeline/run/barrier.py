"""The dedup barrier of a run, between the two phases: it reads every shard's keys (and the history
index's), decides what is a duplicate, and commits the decisions and then its marker."""
from __future__ import annotations

import time

from .. import faults
from ..dedup import ranges, resolve
from ..dedup.keys import Segment
from ..io import atomic
from .memory import available_memory
from .workdir import WorkFolder


def choose_mode(items: int, mode: str, avail: int | None, log) -> str:
    """How the barrier runs: in this process's memory, which holds a few columns per document
    and paragraph of this run and of the history index (``items``), or by hash ranges on the
    workers. ``auto`` takes the ranges when that memory would be more than half of what is
    available; ``memory`` warns when it may not fit (a process killed for memory says nothing of
    why). The decisions are the same either way."""
    need = items * resolve.BARRIER_BYTES_PER_ITEM
    if mode == "auto":
        mode = "ranges" if avail is not None and need > avail / 2 else "memory"
        if mode == "ranges":
            log(f"dedup: {items:,} documents and paragraphs (this run's and the history index's) would take about "
                f"{need / 1e9:.1f} GB in this process, with {avail / 1e9:.1f} GB available: the barrier runs by "
                "hash ranges on the workers")
    elif mode == "memory" and avail is not None and need > avail:
        log(f"warning: the dedup barrier will hold about {need / 1e9:.1f} GB in this process for {items:,} "
            f"documents and paragraphs (this run's and the history index's), and {avail / 1e9:.1f} GB of memory "
            "is available now: it may run out of memory (docs/operations.md: Deduplication at scale; "
            "executor.barrier: ranges or auto would not)")
    return mode


def run_barrier(work: WorkFolder, shards, history: list[Segment], seen, cfg, ex, log) -> None:
    """Decide, write ``work.decisions`` and then the marker, which records the barrier's figures
    and the history index it read (``seen``: a rerun whose index differs does not reuse it)."""
    faults.point("barrier-start")
    t0 = time.process_time()
    hist_rows = sum(rows for _name, _run, rows in seen or ())     # as index.json records them
    current = [Segment(work.shard(s.shard_id), shard=s.shard_id) for s in shards]
    avail = available_memory()
    mode = choose_mode(hist_rows + resolve.barrier_items(current), cfg.executor.barrier, avail, log)
    stats: dict = {}
    common = dict(parallel_map=ex.map, tmp=work.barrier_folder, stats=stats)
    if mode == "ranges":
        n = ranges.resolve(history + current, cfg.dedup, work.decisions,
                           range_records=ranges.range_size(avail, ex.workers), **common)
    else:
        n = resolve.resolve(history + current, cfg.dedup, work.decisions, **common)
    faults.point("barrier-written")
    atomic.write_json({"cpu": time.process_time() - t0 + stats.get("worker_cpu", 0.0), "decisions": n,
                       "cluster_sizes": stats.get("cluster_sizes", {}), "history_rows": hist_rows, "history": seen,
                       "mode": mode, "largest_range": stats.get("largest_range")}, work.barrier_marker)
    log(f"dedup: {n} duplicate(s) across {len(shards)} shard(s)")
