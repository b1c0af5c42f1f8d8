"""The two per-shard map phases around the dedup barrier.

``clean_shard``: read -> repair -> language (document) -> segment -> language (sentences) ->
filters -> dedup keys. Writes the annotated documents and their keys to the work folder.

``finish_shard``: applies the barrier's decisions and writes the shard's documents (one file per
language) and ledger. Both are plain functions of (shard spec, config, folders): executors only
decide where they run.
"""
from __future__ import annotations

import gc
import json
import os
import time
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pyarrow.compute as pc

from . import dedup, faults, filters, langid, repair, segment, write
from .config import Config
from .model import Document
from .read import ShardReader, ShardSpec


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (the worker's, or the driver's with one worker)."""
    import resource
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Clock:
    def __init__(self):
        self.cpu: Counter = Counter()
        self._t = time.process_time()

    def lap(self, stage: str):
        now = time.process_time()
        self.cpu[stage] += now - self._t
        self._t = now


def _limit_length(d: Document, max_chars: int) -> None:
    """Cut a very long document at the last paragraph break before the limit (or hard at it)."""
    if len(d.text) <= max_chars:
        return
    cut = d.text.rfind("\n\n", 0, max_chars)
    if cut < max_chars // 2:
        cut = max_chars
    rest = d.text[cut:]
    d.extra_ledger.append({"reason": "too_long", "text": rest, "char_start": cut, "char_end": len(d.text),
                           "detail": json.dumps({"max_doc_chars": max_chars, "chars": len(d.text)})})
    d.text = d.text[:cut]


@contextmanager
def _no_cycle_collection():
    """The cyclic garbage collector off while a shard is processed. A shard makes hundreds of
    thousands of small objects (paragraphs, sentences, spans) that reference counting frees, and
    none of them form cycles; the collector would walk the growing heap again and again for
    nothing (4% of a shard's CPU). It runs again, as usual, after the shard."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_ALLOCATOR_TUNED = False


def tune_allocator() -> None:
    """Let glibc's malloc keep freed memory instead of handing it back to the kernel at once.

    By default it returns the top of its heap as soon as 128 KB there are free, and maps blocks
    over 128 KB on their own (a threshold it raises as it sees larger blocks freed, up to 32 MB), so
    the heap grows and shrinks again and again and the kernel faults in and zeroes the same pages
    each time: cld2 allocates and frees a large buffer in every call (in a fresh process 4 brk calls
    and 20 us of system time per call, against 4 us of its own work), and a worker's first shard
    spent 0.4-0.6 s in the kernel against 0.1 s for later ones. Keeping up to 256 MB free and
    mapping only blocks over 32 MB from the start took 8-11% off phase 1's CPU with 2 workers on the
    98 MB perf corpus. The settings are the process's (with Arrow's default memory pool, below):
    a program that calls ``runner.run`` keeps them.
    Once per process; where there is no glibc (no ``mallopt``) nothing changes."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return
    _ALLOCATOR_TUNED = True
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_TRIM_THRESHOLD, 256 << 20)
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    # Arrow's buffers from the same heap: its default pool (mimalloc) hands memory that has been
    # free for a moment back to the kernel, so a worker's first phase-2 task, after the idle
    # barrier, faulted its buffers in again (two shards, five runs each: 0.75 CPU s against 0.48
    # with this pool; phase 1 unchanged).
    import pyarrow as pa
    pa.set_memory_pool(pa.system_memory_pool())


@contextmanager
def no_huge_pages():
    """numpy asks the kernel for transparent huge pages (``madvise``) on every array of 4 MB or
    more. Where the kernel honours such requests with a synchronous compaction (THP ``defrag`` set
    to ``madvise``, a common default) and malloc keeps its heap (``tune_allocator``), the barrier's
    arrays cost far more in the kernel than in numpy: on the 98 MB perf corpus, in a fresh
    process, 0.77-1.11 CPU s (0.3-0.6 of it system time) against 0.50 without the requests. The
    shard tasks are left as they are (they ran ~4% faster with huge pages). A no-op where numpy
    has no such switch."""
    try:
        from numpy._core import multiarray
        set_ = multiarray._set_madvise_hugepage
    except (ImportError, AttributeError):
        yield
        return
    was = set_(False)
    try:
        yield
    finally:
        set_(was)


def clean_shard(spec: ShardSpec, cfg: Config, work: str) -> dict:
    """Map phase 1. Returns the shard's counters and CPU seconds per stage."""
    tune_allocator()
    with _no_cycle_collection():
        return _clean_shard(spec, cfg, work)


def _clean_shard(spec: ShardSpec, cfg: Config, work: str) -> dict:
    clock = _Clock()
    counts: Counter = Counter()
    docs = list(ShardReader(spec, cfg.input))
    n_bytes = sum(len(d.text) if d.text.isascii() else len(d.text.encode("utf-8", "surrogatepass")) for d in docs)
    clock.lap("read")
    faults.point("read")
    live = [d for d in docs if d.reason is None]
    for d in live:
        _limit_length(d, cfg.input.max_doc_chars)
    hints = repair.scan([d.text for d in live], cfg.repair) if cfg.repair.enabled else [None] * len(live)
    for d, hint in zip(live, hints):
        res = repair.repair_text(d.text, cfg.repair, hint)
        d.text = res.text
        counts.update(res.counts)
        if res.removed:
            chars = res.removed["chars"]
            d.extra_ledger.append({
                "reason": "removed_characters",
                "text": chars.encode("unicode_escape").decode("ascii"),
                "detail": json.dumps({"kinds": res.removed["kinds"], "count": len(chars)})})
        if not d.text.strip():
            d.reason = "empty"
            d.detail = json.dumps({"chars": len(d.text)})
    clock.lap("repair")
    text = langid.TextBatches([d for d in docs if d.reason is None])   # one pass, for both steps
    langid.detect_documents(docs, cfg.langid, text)
    clock.lap("langid")
    segment.segment_batch(docs, cfg.segment)
    clock.lap("segment")
    langid.detect_sentences(docs, cfg.langid, text)
    del text
    clock.lap("langid")
    for f in filters.build_filters(cfg.filters):
        f.apply(docs)
        counts.update(f.counts)
    clock.lap("filters")
    handoff = write.handoff(docs, cfg.langid.foreign_routing)
    clock.lap("write")
    keys = dedup.keys_for_documents(docs, cfg.dedup, handoff.kept) if cfg.dedup.enabled else None
    clock.lap("dedup")
    base = os.path.join(work, "stage1", f"{spec.shard_id:05d}")
    handoff.write(base)
    if keys is not None:
        keys.write(base)
    clock.lap("write")
    result = {"shard": spec.shard_id, "counts": dict(counts), "cpu": dict(clock.cpu), "docs": len(docs),
              "bytes": n_bytes, "rss_mb": _peak_rss_mb()}
    faults.point("stage1-written")
    write.write_json(result, base + ".done.json")      # last: marks the shard as done
    faults.point("stage1-done")
    if spec.split and os.path.exists(spec.split):       # read once (phase 1 run again splits again)
        os.remove(spec.split)
    return result


def finish_shard(spec: ShardSpec, cfg: Config, work: str, out: str, run_id: str) -> dict:
    """Map phase 2: apply dedup decisions, write documents, ledger and the emitted keys. A shard
    already committed returns its marker's result (a task run again, as Ray does when its worker
    died before answering, no longer finds the hand-off this task removes)."""
    done = os.path.join(work, "final", f"{spec.shard_id:05d}.done.json")
    if os.path.exists(done):
        with open(done, encoding="utf-8") as fh:
            return json.load(fh)
    tune_allocator()
    with _no_cycle_collection():
        return _finish_shard(spec, cfg, work, out, run_id, done)


def _finish_shard(spec: ShardSpec, cfg: Config, work: str, out: str, run_id: str, done: str) -> dict:
    clock = _Clock()
    base = os.path.join(work, "stage1", f"{spec.shard_id:05d}")
    handoff = write.Handoff.read(base)
    dec_path = os.path.join(work, "dedup", "decisions.parquet")
    decisions = None
    if os.path.exists(dec_path):
        decisions = write.read_decisions(dec_path, spec.shard_id)
    clock.lap("dedup")
    tables, ledger, counts = write.build_tables(handoff, decisions, run_id)
    name = f"part-{spec.shard_id:05d}.parquet"
    files = []
    for lang in sorted(tables):
        path = os.path.join(out, "docs", f"lang={lang}", name)
        write.write_table(tables[lang], path, cfg.output.compression)
        files.append(os.path.relpath(path, out))
    # This shard's files in the other languages' folders: an attempt whose barrier was redone
    # (runner._forget_barrier) or that was killed here may have written some.
    docs_dir = os.path.join(out, "docs")
    for folder in sorted(os.listdir(docs_dir)) if os.path.isdir(docs_dir) else ():
        old = os.path.join(docs_dir, folder, name)
        if folder[5:] not in tables and folder.startswith("lang=") and os.path.exists(old):
            os.remove(old)
    faults.point("finish-docs-written")
    path = os.path.join(out, "ledger", name)
    write.write_table(ledger, path, cfg.output.compression)
    files.append(os.path.relpath(path, out))
    if cfg.dedup.enabled and cfg.output.state:     # only a history index needs them
        dedup.require_keys([dedup.Segment(base, shard=spec.shard_id)])   # (never skipped: phase 1 made them)
        emitted_keys(base, decisions)
    clock.lap("write")
    result = {"shard": spec.shard_id, "counts": dict(counts), "cpu": dict(clock.cpu), "files": files,
              "docs": handoff.docs.num_rows,
              "bytes": pc.sum(pc.binary_length(handoff.docs.column("text"))).as_py() or 0,
              "rss_mb": _peak_rss_mb()}
    write.write_json(result, done)
    faults.point("finish-done")
    if not cfg.output.keep_work:
        # Only this task reads the shard's hand-off, keys, signatures and bands now (the barrier is
        # done), and the shard is committed to the output: removed here, on the workers, rather
        # than with the work folder at the end (which took 2.2 s after the manifest on the 1 GB
        # perf corpus). A rerun that needs them again runs phase 1 again (runner._phase1_done).
        # The emitted keys stay, for the history index.
        for suffix in (".docs.parquet", ".ledger.parquet", ".routed.parquet", ".keys.parquet", ".sig.npy",
                       ".bands.npy"):
            try:
                os.remove(base + suffix)
            except FileNotFoundError:
                pass
    return result


def emitted_keys(base: str, decisions) -> None:
    """Keys of what this shard emitted, for the history index of later runs."""
    keys = dedup.Keys.read(base)
    dropped = set()
    if decisions is not None:
        d = decisions.to_pydict()
        dropped = set(zip(d["file"], d["pos"], d["para"]))
    dropped_docs = {(f, p) for f, p, para in dropped if para < 0}
    k = keys.table.to_pydict()
    mask = np.array([(f, p, para) not in dropped and (f, p) not in dropped_docs
                     for f, p, para in zip(k["file"], k["pos"], k["para"])], dtype=bool)
    keys.take(mask).write(base + ".emitted")
