"""The two per-shard tasks around the dedup barrier, as the executors run them.

``clean_shard`` (phase 1): read -> the cleaning steps (``pipeline.steps.build``) -> hand-off ->
dedup keys, written to the work folder. ``finish_shard`` (phase 2): the barrier's decisions
applied to the hand-off, written as the shard's documents (one file per language) and ledger.
Both are plain functions of (shard, config, folders): executors only decide where they run.
"""
from __future__ import annotations

import os
import resource
import time
from collections import Counter

import numpy as np
import pyarrow.compute as pc

from .. import faults, steps
from ..config import Config
from ..dedup.decisions import read_decisions
from ..dedup.keys import Keys, Segment, keys_for_documents, require_keys
from ..io import atomic
from ..io.inputs import ShardSpec
from ..io.readers import ShardReader
from . import outdir
from .handoff import Handoff, handoff
from .stats import Counts
from .tables import build_tables
from .workdir import WorkFolder


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (the worker's, or the driver's with one worker)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Clock:
    """CPU seconds per stage of one task."""

    def __init__(self):
        self.cpu: Counter = Counter()
        self._t = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        self.cpu[stage] += now - self._t
        self._t = now


def clean_shard(spec: ShardSpec, cfg: Config, work: WorkFolder) -> dict:
    """Phase 1 of one shard. Returns (and commits as its marker) the shard's counts and CPU
    seconds per stage."""
    clock = _Clock()
    counts = Counts()
    docs = list(ShardReader(spec, cfg.input))
    n_bytes = sum(len(d.text) if d.text.isascii() else len(d.text.encode("utf-8", "surrogatepass")) for d in docs)
    clock.lap("read")
    faults.point("read")
    for step in steps.build(cfg):
        step(docs)
        counts.rules.update(step.counts)
        clock.lap(step.stage)
    out = handoff(docs, cfg.langid.foreign_routing)
    clock.lap("write")
    keys = keys_for_documents(docs, cfg.dedup, out.kept) if cfg.dedup.enabled else None
    clock.lap("dedup")
    base = work.shard(spec.shard_id)
    out.write(base)
    if keys is not None:
        keys.write(base)
    clock.lap("write")
    result = {"shard": spec.shard_id, "counts": counts.to_json(), "cpu": dict(clock.cpu), "docs": len(docs),
              "bytes": n_bytes, "rss_mb": _peak_rss_mb()}
    faults.point("stage1-written")
    atomic.write_json(result, work.phase1_marker(spec.shard_id))      # last: marks the shard as done
    faults.point("stage1-done")
    if spec.split and os.path.exists(spec.split):    # read once (a phase 1 run again splits again)
        os.remove(spec.split)
    return result


def finish_shard(spec: ShardSpec, cfg: Config, work: WorkFolder, out: str, run_id: str) -> dict:
    """Phase 2 of one shard: its documents and ledger in the output folder, and the keys of what
    it emitted (for the history index). A shard already committed returns its marker's result (a
    task run again, as Ray does when its worker died before answering, no longer finds the
    hand-off this task removes)."""
    sid = spec.shard_id
    if work.phase2_done(sid):
        return work.result(work.phase2_marker(sid))
    clock = _Clock()
    base = work.shard(sid)
    h = Handoff.read(base)
    decisions = read_decisions(work.decisions, sid) if os.path.exists(work.decisions) else None
    clock.lap("dedup")
    tables, ledger, counts = build_tables(h, decisions, run_id)
    files = []
    for lang in sorted(tables):
        path = outdir.docs_file(out, lang, sid)
        atomic.write_table(tables[lang], path, cfg.output.compression)
        files.append(path)
    outdir.remove_other_languages(out, sid, tables)
    faults.point("finish-docs-written")
    path = outdir.ledger_file(out, sid)
    atomic.write_table(ledger, path, cfg.output.compression)
    files.append(path)
    if cfg.dedup.enabled and cfg.output.state:     # only a history index needs them
        require_keys([Segment(base, shard=sid)])   # (never skipped: phase 1 made them)
        _write_emitted_keys(base, work.emitted(sid), decisions)
    clock.lap("write")
    result = {"shard": sid, "counts": counts.to_json(), "cpu": dict(clock.cpu),
              "files": [os.path.relpath(f, out) for f in files], "docs": h.docs.num_rows,
              "bytes": pc.sum(pc.binary_length(h.docs.column("text"))).as_py() or 0, "rss_mb": _peak_rss_mb()}
    atomic.write_json(result, work.phase2_marker(sid))
    faults.point("finish-done")
    if not cfg.output.keep_work:
        work.release_shard(sid)
    return result


def _write_emitted_keys(base: str, emitted: str, decisions) -> None:
    """The keys of what the shard emitted: its keys but those of what the decisions dropped."""
    keys = Keys.read(base)
    dropped = set()
    if decisions is not None:
        d = decisions.to_pydict()
        dropped = set(zip(d["file"], d["pos"], d["para"]))
    dropped_docs = {(f, p) for f, p, para in dropped if para < 0}
    k = keys.table.to_pydict()
    mask = np.array([(f, p, para) not in dropped and (f, p) not in dropped_docs
                     for f, p, para in zip(k["file"], k["pos"], k["para"])], dtype=bool)
    keys.take(mask).write(emitted)
