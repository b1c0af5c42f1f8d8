"""A run, as a plan: check and lock the folders, plan the shards, phase 1 on every shard, the dedup
barrier, phase 2 on every shard, the history index, then stats, report and manifest.

Resumable: every shard's result and the barrier's decisions are committed in the work folder
(``workdir.py``) as they are made; a rerun of the same run reuses what is there. The run id is a
hash of the config (the parts that change the output), the version and the input files' bytes,
so the same run always has the same id and its output is byte-identical whatever the executor
and the worker count.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass

from .. import __version__, faults
from ..config import Config
from ..dedup import history
from ..dedup.keys import MissingKeys, Segment, require_keys
from ..errors import RunError
from ..io import atomic
from ..io.inputs import InputFile, plan
from ..io.lock import FolderLock
from ..io.readers import split_row_group
from ..report import write_reports
from ..text import kernels
from . import outdir
from .barrier import run_barrier
from .executors import make_executor
from .phases import clean_shard, finish_shard
from .stats import Counts, make_stats
from .workdir import WorkFolder


@dataclass
class RunResult:
    run_id: str
    output: str
    stats: dict
    skipped: bool = False      # the output was already complete


def compute_run_id(cfg: Config, files: list[InputFile]) -> str:
    blob = json.dumps({"config": cfg.fingerprint(), "version": __version__,
                       "inputs": [[f.rel, f.fmt, f.digest] for f in files]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run(cfg: Config, log=print, progress=None, setup=None) -> RunResult:
    """Run the pipeline as ``cfg`` says. ``log``: a function of one line; ``progress``: a
    ``progress.Progress`` for live status; ``setup``: a function each worker process of the
    local executor calls before its first task (the command line's ``tuning.apply``)."""
    wall0 = time.time()
    out = os.path.abspath(cfg.output.path)
    state = os.path.abspath(cfg.output.state) if cfg.output.state else ""
    outdir.check_apart(out, state, cfg.input.paths)        # before the output folder is made
    outdir.make_writable(out)
    files, shards = plan(list(cfg.input.paths), cfg.input)
    outdir.check_apart(out, state, (), files)
    run_id = compute_run_id(cfg, files)
    if state:
        try:
            os.makedirs(state, exist_ok=True)
        except OSError as e:
            raise RunError(f"state folder {state} cannot be created: {e.strerror}") from None
    with ExitStack() as locks:
        locks.enter_context(FolderLock(out, "output folder"))
        if state:
            locks.enter_context(FolderLock(state, "state folder"))
        if outdir.prepare(out, run_id, state if cfg.dedup.enabled else None):
            log(f"run {run_id}: output in {out} is already complete; nothing to do")
            if not cfg.output.keep_work:
                outdir.remove_work(out)
            return RunResult(run_id, out, atomic.read_json(os.path.join(out, "stats.json")), skipped=True)
        return _Run(cfg, files, shards, run_id, out, state, log, progress, wall0).go(setup)


class _Run:
    """One run's state while its plan goes (folders locked, output prepared)."""

    def __init__(self, cfg: Config, files, shards, run_id: str, out: str, state: str, log, progress, wall0: float):
        self.cfg, self.files, self.shards, self.run_id = cfg, files, shards, run_id
        self.out, self.state, self.log, self.progress, self.wall0 = out, state, log, progress, wall0
        self.work = WorkFolder(out, run_id)
        self.dedup = cfg.dedup.enabled
        self.cpu: Counter = Counter()
        self.marks: dict[str, float] = {}
        self.total_bytes = sum(f.size for f in files)

    def go(self, setup) -> RunResult:
        cfg = self.cfg
        self.work.make()
        self.log(f"run {self.run_id}: {len(self.files)} input file(s), {self.total_bytes / 1e6:.1f} MB, "
                 f"{len(self.shards)} shard(s)")
        if kernels.native is None:
            why = ("were built from another version of pipeline/text/_native.c (run `make install` to rebuild "
                   "them)" if kernels.stale else "were not built at install (reinstall with a C compiler to build them)")
            self.log(f"note: the compiled kernels {why}, so numpy computes the same values, slower (MinHash ~10x)")
        try:
            self.ex = make_executor(cfg.executor.name, cfg.executor.workers, cfg.executor.ray_address, setup)
        except RuntimeError as e:
            raise RunError(str(e)) from None
        try:
            with self.ex:
                # the index the barrier reads (its dedup settings checked before anything is redone)
                hist = history.segments(self.state, cfg.dedup, self.run_id) if self.state and self.dedup else []
                seen = history.seen(self.state, self.run_id) if self.dedup else None
                self.work.resume(self.shards, seen, self.dedup, bool(self.state), self.log)
                todo = self._split([s for s in self.shards if not self.work.phase1_done(s.shard_id)])
                if todo:
                    self.log(f"clean: {len(todo)} shard(s) with {self.ex.workers} worker(s)")
                self._phase("phase1", "clean", clean_shard, [(s, cfg, self.work) for s in todo])
                if self.dedup and not self.work.barrier_done():
                    run_barrier(self.work, self.shards, hist, seen, cfg, self.ex, self.log)
                self._phase("phase2", "write", finish_shard, [(s, cfg, self.work, self.out, self.run_id)
                                                              for s in self.shards if not self.work.phase2_done(s.shard_id)])
        except MissingKeys as e:         # checked at the start: removed by something else since
            if e.hist:
                raise RunError(f"state {self.state}: {e} (was the state folder changed during the run?)") from None
            raise RunError(f"{e} (was the work folder changed during the run?); run the same command again: that "
                           "shard's phase 1 runs again") from None
        except BrokenProcessPool:
            raise RunError("a worker process died (killed, or out of memory); run the same command again "
                           "to resume from the shards already committed") from None
        if self.state and self.dedup:
            self._append_history()
        return self._finish()

    def _phase(self, mark: str, name: str, fn, args: list) -> list:
        """``fn(*a)`` for every ``a`` of ``args`` on the executor, with a progress line ``name``."""
        self.marks[f"{mark}_start"] = time.time() - self.wall0
        phase = self.progress.phase(name, len(args)) if self.progress is not None and args else None
        try:
            results = self.ex.map(fn, args, on_done=phase.update if phase else None)
        finally:
            if phase:
                phase.close()
        self.marks[f"{mark}_end"] = time.time() - self.wall0
        return results

    def _split(self, todo: list) -> list:
        """The shards to run, those that are slices of a big Parquet row group with the Arrow file
        their rows are written to first, one task per row group (``readers.split_row_group``; its
        CPU counts as reading). A slice left without its file reads the Parquet file itself."""
        groups: dict = {}
        shards = []
        for s in todo:
            if s.rows is not None:
                s = dataclasses.replace(s, split=self.work.split(s.shard_id))
                groups.setdefault((s.files[0][0], s.start), []).append(s)
            shards.append(s)
        jobs = [(g,) for g in groups.values() if not all(os.path.exists(s.split) for s in g)]
        if jobs:
            os.makedirs(os.path.dirname(jobs[0][0][0].split), exist_ok=True)
            self.log(f"split: {len(jobs)} big Parquet row group(s) into slices of rows")
            for (group,), r in zip(jobs, self.ex.map(split_row_group, jobs)):
                self.cpu["read"] += r["cpu"]
                if r["error"]:
                    self.log(f"warning: {group[0].files[0][2]}: row group {group[0].start} could not be split "
                             f"({r['error']}); its slices not written read the Parquet file themselves, decoding the "
                             "rows before theirs")
        return shards

    def _append_history(self) -> None:
        """This run's emitted keys, appended to the history index (every shard's phase 2 wrote them)."""
        parts = [Segment(self.work.emitted(s.shard_id), shard=s.shard_id) for s in self.shards]
        try:
            require_keys(parts)
        except MissingKeys as e:
            raise RunError(f"{e} (was the work folder changed during the run?); run the same command again: "
                           "that shard is made again") from None
        history.append(self.state, self.cfg.dedup, self.run_id, [p.base for p in parts])

    def _finish(self) -> RunResult:
        """Stats, reports and the manifest (last), then the work folder goes."""
        w = self.work
        results = [w.result(w.phase1_marker(s.shard_id)) for s in self.shards] + \
                  [w.result(w.phase2_marker(s.shard_id)) for s in self.shards]
        counts = Counts()
        for r in results:
            counts.add(Counts.from_json(r["counts"]))
            self.cpu.update(r["cpu"])
        barrier = w.result(w.barrier_marker) if self.dedup else {"cpu": 0.0}
        self.cpu["dedup"] += barrier["cpu"]
        stats = make_stats(counts, self.cpu, self.total_bytes, len(self.files), len(self.shards),
                           time.time() - self.wall0, barrier)
        t = stats["timing"]
        t["peak_rss_mb_per_task"] = max([r.get("rss_mb", 0.0) for r in results] or [0.0])
        # Wall seconds from the start of the run to each phase's start and end: what lies between
        # phase 1's end and phase 2's start is the barrier.
        t["phase_marks"] = {k: round(v, 3) for k, v in self.marks.items()}
        t["barrier"] = barrier.get("mode", "memory") if self.dedup else "none"
        if barrier.get("largest_range") is not None:     # records of its largest hash range (ranges barrier)
            t["barrier_largest_range"] = barrier["largest_range"]
        atomic.write_json(stats, os.path.join(self.out, "stats.json"))
        reports = write_reports(self.out, stats, self.run_id)
        outputs = sorted({f for r in results[len(self.shards):] for f in r["files"]} | {"stats.json"} | set(reports))
        outdir.write_manifest(self.out, self.run_id, self.cfg.to_dict(), self.files, self.shards, outputs, self.state)
        faults.point("before-cleanup")
        if not self.cfg.output.keep_work:
            outdir.remove_work(self.out)
        self.log(f"done: {stats['documents']['out']} document row(s) kept, {stats['ledger']['rows']} ledger row(s) "
                 f"-> {self.out}")
        return RunResult(self.run_id, self.out, stats)
