"""Run the pipeline: plan shards, map phase 1, dedup barrier, map phase 2, history, manifest.

Resumable: every shard result and the barrier's decisions are committed atomically in
``OUT/_work/<run_id>/``; a rerun skips what is already there. ``run_id`` is a hash of the config
(the parts that change output) and the input files' bytes, so the same run always has the same
id and its output is byte-identical whatever the worker count.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from importlib import metadata

import xxhash
from concurrent.futures.process import BrokenProcessPool

from . import dedup, dedup_ranges, faults, history, read, write
from .config import Config
from .executors import make_executor
from .stages import clean_shard, finish_shard, no_huge_pages, tune_allocator

PIPELINE_VERSION = "0.3.2"    # part of the run id: a new version never resumes an older run's work
OUTPUT_ENTRIES = {"docs", "ledger", "_work", "stats.json", "manifest.json", "report.md", "report.html", ".lock"}


class RunError(Exception):
    """An I/O or setup problem that stops the run; the message names the path."""


@dataclass
class RunResult:
    run_id: str
    output: str
    stats: dict
    skipped: bool = False


class _Lock:
    """An exclusive lock on a folder; released by the OS if the process dies."""

    def __init__(self, folder: str, what: str):
        self.path = os.path.join(folder, ".lock")
        self.what = what
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            self.fh.close()
            raise RunError(f"{self.what} {os.path.dirname(self.path)} is in use by {holder}; "
                           "wait for it to finish") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()} on {platform.node()}\n")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        if self.fh:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()


def _versions() -> dict:
    out = {"python": platform.python_version(), "pipeline": PIPELINE_VERSION}
    for pkg in ("pyarrow", "ftfy", "pycld2", "fasttext-predict", "sentencex", "rensa", "datasketch",
                "langdetect", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def compute_run_id(cfg: Config, files: list[read.InputFile]) -> str:
    blob = json.dumps({"config": cfg.fingerprint(), "version": PIPELINE_VERSION,
                       "inputs": [[f.rel, f.fmt, f.digest] for f in files]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _same_folder(a: str | None, b: str | None) -> bool:
    return (not a and not b) or bool(a and b and os.path.realpath(a) == os.path.realpath(b))


def _prepare_output(out: str, run_id: str, state: str | None) -> bool:
    """Clear another run's output; return True if this run is already complete: the same run id
    and the same state folder (``state``; None: not used, without dedup). A complete output is not
    redone because later runs grew the index, but it is when a state folder is added, changed or
    left out: from scratch, as the work folder of a complete run may be half removed."""
    extra = sorted(n for n in set(os.listdir(out)) - OUTPUT_ENTRIES if not n.startswith(write.TMP_MARK))
    if extra:
        raise RunError(f"output folder {out} holds files this pipeline did not write ({', '.join(extra[:3])}); "
                       "choose an empty or earlier output folder")
    manifest = os.path.join(out, "manifest.json")
    if os.path.exists(manifest):
        try:
            with open(manifest, encoding="utf-8") as fh:
                m = json.load(fh)
        except (OSError, ValueError):
            m = {}
        if (m.get("run_id") == run_id and (state is None or _same_folder(m.get("state"), state))
                and all(os.path.exists(os.path.join(out, f["path"])) for f in m.get("outputs", []))):
            return True
        shutil.rmtree(os.path.join(out, "_work", run_id), ignore_errors=True)
        os.remove(manifest)
    work = os.path.join(out, "_work")
    if os.path.isdir(work):
        for name in os.listdir(work):
            if name != run_id:
                shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    if not os.path.isdir(os.path.join(work, run_id)):
        # Nothing of this run yet: whatever output is here belongs to another run.
        for name in ("docs", "ledger", "stats.json", "report.md", "report.html"):
            p = os.path.join(out, name)
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)
    write.remove_temporaries(out)
    return False


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_apart(out: str, state: str, paths, files=()) -> None:
    """No input inside the output or state folder, neither of them inside a folder given as input,
    and no state folder inside the output folder: a run clears its output folder of another run's
    files (an input there was deleted before it was read), and a folder given as input is read
    whole (a later run would read this run's output, or the history index's key files, as
    documents). An output folder inside the state folder is fine (the index is in its own
    ``index/``)."""
    for arg in paths:
        if os.path.isdir(arg):
            for what, folder in (("output", out), ("state", state)):
                if folder and _inside(folder, arg):
                    raise RunError(f"the {what} folder {folder} is inside the input folder {arg}: a later run "
                                   f"would read it as input; choose another {what} folder, outside the input")
    for f in files:
        for what, folder in (("output", out), ("state", state)):
            if folder and _inside(f.path, folder):
                raise RunError(f"input {f.path} is inside the {what} folder {folder}, which the run writes "
                               f"(and clears of other runs' files); move the input or choose another {what} folder")
    if state and _inside(state, out):
        raise RunError(f"the state folder {state} is the output folder {out} or inside it: a run clears its "
                       "output folder of files it did not write; choose a state folder outside it")


# ---------------------------------------------------------------------------------- run
def run(cfg: Config, log=print, progress=None) -> RunResult:
    wall0 = time.time()
    out = os.path.abspath(cfg.output.path)
    state = os.path.abspath(cfg.output.state) if cfg.output.state else ""
    _check_apart(out, state, cfg.input.paths)        # before the output folder is made
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, f"{write.TMP_MARK}probe")
        with open(probe, "w") as fh:
            fh.write("")
        os.remove(probe)
    except OSError as e:
        raise RunError(f"output folder {out} is not writable: {e.strerror}") from None
    files, shards = read.plan(list(cfg.input.paths), cfg.input)
    _check_apart(out, state, (), files)
    run_id = compute_run_id(cfg, files)
    if state:
        try:
            os.makedirs(state, exist_ok=True)
        except OSError as e:
            raise RunError(f"state folder {state} cannot be created: {e.strerror}") from None
    with _Lock(out, "output folder"):
        if state:
            with _Lock(state, "state folder"):
                return _run_locked(cfg, files, shards, run_id, out, state, log, wall0, progress)
        return _run_locked(cfg, files, shards, run_id, out, "", log, wall0, progress)


def _run_locked(cfg, files, shards, run_id, out, state, log, wall0, progress=None) -> RunResult:
    if _prepare_output(out, run_id, state if cfg.dedup.enabled else None):
        log(f"run {run_id}: output in {out} is already complete; nothing to do")
        if not cfg.output.keep_work:
            shutil.rmtree(os.path.join(out, "_work"), ignore_errors=True)
        with open(os.path.join(out, "stats.json"), encoding="utf-8") as fh:
            return RunResult(run_id, out, json.load(fh), skipped=True)
    work = os.path.join(out, "_work", run_id)
    for sub in ("stage1", "dedup", "final"):
        os.makedirs(os.path.join(work, sub), exist_ok=True)
    total_bytes = sum(f.size for f in files)
    log(f"run {run_id}: {len(files)} input file(s), {total_bytes / 1e6:.1f} MB, {len(shards)} shard(s)")
    if dedup._native is None:
        from .kernels import stale
        why = ("were built from another version of pipeline/_native.c (run `make install` to rebuild them)" if stale else
               "were not built at install (reinstall with a C compiler to build them)")
        log(f"note: the compiled kernels (pipeline/_native.c) {why}, so numpy computes the same values, slower "
            "(MinHash ~10x)")
    try:
        ex = make_executor(cfg.executor.name, cfg.executor.workers, cfg.executor.ray_address)
    except RuntimeError as e:
        raise RunError(str(e)) from None
    cpu: Counter = Counter()
    try:
        return _phases(cfg, shards, run_id, out, state, log, wall0, work, ex, cpu, files, total_bytes, progress)
    except BrokenProcessPool:
        raise RunError("a worker process died (killed, or out of memory); run the same command again "
                       "to resume from the shards already committed") from None


def _map(ex, fn, args, progress, name):
    if progress is None or not args:
        return ex.map(fn, args)
    phase = progress.phase(name, len(args))
    try:
        return ex.map(fn, args, on_done=phase.update)
    finally:
        phase.close()


class _Warmup:
    """Runs ``fn`` (returning its CPU seconds) in a thread of the driver while the workers run
    phase 1, so that the barrier does not start cold; its CPU is counted with the barrier's."""

    def __init__(self, fn):
        import threading
        self.cpu = 0.0
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn):
        self.cpu = fn()

    def join(self) -> float:
        self._thread.join()
        return self.cpu


def _barrier_mode(items: int, mode: str, avail: int | None, log) -> str:
    """How the dedup barrier runs: in this process's memory, which holds a few columns per document
    and paragraph of this run and of the history index (``items``; README, Deduplication at
    scale), or by hash ranges on the workers. ``auto`` takes the ranges when that memory would be
    more than half of what is available; ``memory`` warns when it may not fit (a process killed
    for memory says nothing of why). The decisions are the same either way."""
    need = items * dedup.BARRIER_BYTES_PER_ITEM
    if mode == "auto":
        mode = "ranges" if avail is not None and need > avail / 2 else "memory"
        if mode == "ranges":
            log(f"dedup: {items:,} documents and paragraphs (this run's and the history index's) would take about "
                f"{need / 1e9:.1f} GB in this process, with {avail / 1e9:.1f} GB available: the barrier runs by "
                "hash ranges on the workers")
    elif mode == "memory" and avail is not None and need > avail:
        log(f"warning: the dedup barrier will hold about {need / 1e9:.1f} GB in this process for {items:,} "
            f"documents and paragraphs (this run's and the history index's), and {avail / 1e9:.1f} GB of memory "
            "is available now: it may run out of memory (README: Deduplication at scale; executor.barrier: "
            "ranges or auto would not)")
    return mode


def _forget_barrier(shards, work: str, log) -> None:
    """An earlier attempt's barrier deduped against another history index than the one there is
    now (it ran without --state, with another state folder, or another run appended to it or
    compacted it since): its decisions, and what the shards it finished wrote with them, are not
    reused. The finished shards' markers go first, the barrier's last: a run killed in here does
    the same again. (Their document files are replaced or removed by phase 2, ``_finish_shard``;
    where their hand-off is gone, phase 1 runs again: ``_phase1_done``.)"""
    redo = 0
    for s in shards:
        final = os.path.join(work, "final", f"{s.shard_id:05d}.done.json")
        if os.path.exists(final):
            os.remove(final)
            redo += 1
            faults.point("barrier-forgetting")
    os.remove(os.path.join(work, "dedup", "done.json"))
    shutil.rmtree(os.path.join(work, "dedup"))
    os.makedirs(os.path.join(work, "dedup"))
    log(f"the earlier attempt's dedup barrier read another history index: redoing it, and phase 2 of {redo} "
        "shard(s)")


def _split_big_row_groups(todo: list, work: str, ex, log, cpu: Counter) -> list:
    """The shards to run, those that are slices of a Parquet row group with the Arrow file their
    rows are written to first, one task per row group (``read.split_row_group``; its CPU is
    counted as reading). A slice left without its file reads the Parquet file itself, slower."""
    import dataclasses
    groups: dict = {}
    out = []
    for s in todo:
        if s.rows is not None:
            s = dataclasses.replace(s, split=os.path.join(work, "split", f"{s.shard_id:05d}.arrow"))
            groups.setdefault((s.files[0][0], s.start), []).append(s)
        out.append(s)
    jobs = [(g,) for g in groups.values() if not all(os.path.exists(s.split) for s in g)]
    if jobs:
        os.makedirs(os.path.join(work, "split"), exist_ok=True)
        log(f"split: {len(jobs)} big Parquet row group(s) into slices of rows")
        for (group,), r in zip(jobs, _map(ex, read.split_row_group, jobs, None, "split")):
            cpu["read"] += r["cpu"]
            if r["error"]:
                log(f"warning: {group[0].files[0][2]}: row group {group[0].start} could not be split "
                    f"({r['error']}); its slices not written read the Parquet file themselves, decoding the "
                    "rows before theirs")
    return out


def _emitted_lost(work: str, s) -> bool:
    """Has a finished shard lost the emitted keys the run appends to the history index? (Without
    them the index would miss what the shard wrote: its phase 2 is done again.)"""
    return (os.path.exists(os.path.join(work, "final", f"{s.shard_id:05d}.done.json"))
            and not dedup.has_keys(os.path.join(work, "stage1", f"{s.shard_id:05d}.emitted")))


def _phase1_done(work: str, s, barrier_done: bool, dedup_on: bool) -> bool:
    """Is the shard's phase 1 committed and still usable? Phase 2 removes a shard's hand-off and
    keys once the shard is committed, so a shard whose phase 2 must be done (again) needs them
    back; a work folder left half removed (a run killed while removing it) has markers without
    their files."""
    base = os.path.join(work, "stage1", f"{s.shard_id:05d}")
    if not os.path.exists(base + ".done.json"):
        return False
    if barrier_done and os.path.exists(os.path.join(work, "final", f"{s.shard_id:05d}.done.json")):
        return True
    return os.path.exists(base + ".docs.parquet") and (not dedup_on or dedup.has_keys(base))


def _phases(cfg, shards, run_id, out, state, log, wall0, work, ex, cpu, files, total_bytes, progress=None) -> RunResult:
    try:
        # the index this run's barrier reads (its dedup settings checked before anything is redone)
        segs = history.segments(state, cfg.dedup, run_id) if state and cfg.dedup.enabled else []
        seen = history.seen(state, run_id) if cfg.dedup.enabled else None
        marker = os.path.join(work, "dedup", "done.json")
        if cfg.dedup.enabled and os.path.exists(marker) and _read_json(marker).get("history") != seen:
            _forget_barrier(shards, work, log)
        barrier_done = not cfg.dedup.enabled or os.path.exists(marker)
        for s in shards:
            if state and cfg.dedup.enabled and _emitted_lost(work, s):
                os.remove(os.path.join(work, "final", f"{s.shard_id:05d}.done.json"))
            if not _phase1_done(work, s, barrier_done, cfg.dedup.enabled):
                for sub in ("final", "stage1"):        # phase 2 after phase 1, whatever was there
                    path = os.path.join(work, sub, f"{s.shard_id:05d}.done.json")
                    if os.path.exists(path):
                        os.remove(path)
        # Phase 1 -------------------------------------------------------------------
        todo = [s for s in shards if not os.path.exists(os.path.join(work, "stage1", f"{s.shard_id:05d}.done.json"))]
        todo = _split_big_row_groups(todo, work, ex, log, cpu)
        if todo:
            log(f"clean: {len(todo)} shard(s) with {ex.workers} worker(s)")
        warm = _Warmup(dedup.warm_up) if todo and cfg.dedup.enabled and ex.workers > 1 else None
        marks = {"phase1_start": time.time() - wall0}
        _map(ex, clean_shard, [(s, cfg, work) for s in todo], progress, "clean")
        marks["phase1_end"] = time.time() - wall0
        warm_cpu = warm.join() if warm else 0.0
        stage1 = [_read_json(os.path.join(work, "stage1", f"{s.shard_id:05d}.done.json")) for s in shards]
        # Barrier -------------------------------------------------------------------
        dec_path = os.path.join(work, "dedup", "decisions.parquet")
        if cfg.dedup.enabled and not os.path.exists(marker):
            faults.point("barrier-start")
            tune_allocator()       # its arrays would otherwise be faulted in afresh at every pass
            t0 = time.process_time()
            hist_rows = sum(rows for _name, _run, rows in seen or ())     # as index.json records them
            current = [dedup.Segment(os.path.join(work, "stage1", f"{s.shard_id:05d}"), shard=s.shard_id)
                       for s in shards]
            avail = dedup.available_memory()
            mode = _barrier_mode(hist_rows + dedup.barrier_items(current), cfg.executor.barrier, avail, log)
            segs += current
            barrier_stats: dict = {}
            resolve, extra = dedup.resolve, {}
            if mode == "ranges":
                resolve, extra = dedup_ranges.resolve, {"range_records": dedup_ranges.range_size(avail, ex.workers)}
            with no_huge_pages():      # the decisions are written to dec_path as they are made
                n_decisions = resolve(segs, cfg.dedup, parallel_map=ex.map, tmp=os.path.join(work, "dedup"),
                                      stats=barrier_stats, out=dec_path, **extra)
            faults.point("barrier-written")
            write.write_json({"cpu": time.process_time() - t0 + barrier_stats.get("worker_cpu", 0.0) + warm_cpu,
                              "decisions": n_decisions, "cluster_sizes": barrier_stats.get("cluster_sizes", {}),
                              "history_rows": hist_rows, "history": seen, "mode": mode,
                              "largest_range": barrier_stats.get("largest_range")}, marker)
            log(f"dedup: {n_decisions} duplicate(s) across {len(shards)} shard(s)")
        barrier = _read_json(marker) if cfg.dedup.enabled else {"cpu": 0.0}
        # Phase 2 -------------------------------------------------------------------
        marks["phase2_start"] = time.time() - wall0
        todo = [s for s in shards if not os.path.exists(os.path.join(work, "final", f"{s.shard_id:05d}.done.json"))]
        _map(ex, finish_shard, [(s, cfg, work, out, run_id) for s in todo], progress, "write")
        marks["phase2_end"] = time.time() - wall0
        final = [_read_json(os.path.join(work, "final", f"{s.shard_id:05d}.done.json")) for s in shards]
    except dedup.MissingKeys as e:         # checked at the start: removed by something else since
        if e.hist:
            raise RunError(f"state {state}: {e} (was the state folder changed during the run?)") from None
        raise RunError(f"{e} (was the work folder changed during the run?); run the same command again: that "
                       "shard's phase 1 runs again") from None
    finally:
        ex.close()
    if state and cfg.dedup.enabled:
        # every shard's phase 2 wrote them: a barrier made without --state is not reused with it
        parts = [dedup.Segment(os.path.join(work, "stage1", f"{s.shard_id:05d}.emitted"), shard=s.shard_id)
                 for s in shards]
        try:
            dedup.require_keys(parts)
        except dedup.MissingKeys as e:
            raise RunError(f"{e} (was the work folder changed during the run?); run the same command again: "
                           "that shard is made again") from None
        history.append(state, cfg.dedup, run_id, [p.base for p in parts])
    # Stats, report, manifest ---------------------------------------------------------
    counts: Counter = Counter()
    for r in stage1 + final:
        counts.update(r["counts"])
        cpu.update(r["cpu"])
    cpu["dedup"] += barrier["cpu"]
    stats = _stats(counts, cpu, total_bytes, len(files), len(shards), time.time() - wall0, barrier)
    stats["timing"]["peak_rss_mb_per_task"] = max([r.get("rss_mb", 0.0) for r in stage1 + final] or [0.0])
    # Wall seconds from the start of the run (after the command's imports) to each phase's start
    # and end: what lies between phase 1's end and phase 2's start is the barrier.
    stats["timing"]["phase_marks"] = {k: round(v, 3) for k, v in marks.items()}
    # memory or ranges (how, not what; a barrier of an earlier version ran in memory)
    stats["timing"]["barrier"] = barrier.get("mode", "memory") if cfg.dedup.enabled else "none"
    if barrier.get("largest_range") is not None:     # records of its largest hash range (ranges barrier)
        stats["timing"]["barrier_largest_range"] = barrier["largest_range"]
    write.write_json(stats, os.path.join(out, "stats.json"))
    from .report import write_reports
    reports = write_reports(out, stats, run_id)
    outputs = sorted({f for r in final for f in r["files"]} | {"stats.json"} | set(reports))
    manifest = {
        "run_id": run_id, "config": cfg.to_dict(), "versions": _versions(),
        "inputs": [{"path": f.rel, "format": f.fmt, "bytes": f.size, "xxh3_128": f.digest} for f in files],
        "shards": [s.to_dict() | {"files": [[i, rel] for i, _p, rel in s.files]} for s in shards],
        "outputs": [{"path": p, "bytes": os.path.getsize(os.path.join(out, p)),
                     "xxh3_128": _digest(os.path.join(out, p))} for p in outputs],
        "state": state or None,
    }
    faults.point("before-manifest")
    write.write_json(manifest, os.path.join(out, "manifest.json"))
    faults.point("before-cleanup")
    if not cfg.output.keep_work:
        shutil.rmtree(os.path.join(out, "_work"), ignore_errors=True)
    log(f"done: {stats['documents']['out']} document row(s) kept, {stats['ledger']['rows']} ledger row(s) "
        f"-> {out}")
    return RunResult(run_id, out, stats)


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _digest(path: str) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stats(counts: Counter, cpu: Counter, total_bytes: int, n_files: int, n_shards: int,
           wall: float, barrier: dict) -> dict:
    by_lang_docs = {k[len("out-docs-"):]: v for k, v in counts.items() if k.startswith("out-docs-") and k != "out-docs-emptied"}
    by_lang_chars = {k[len("out-chars-"):]: v for k, v in counts.items() if k.startswith("out-chars-")}
    in_docs = {k[len("inlang-docs-"):]: v for k, v in counts.items() if k.startswith("inlang-docs-")}
    in_chars = {k[len("inlang-chars-"):]: v for k, v in counts.items() if k.startswith("inlang-chars-")}
    reasons = {}
    for k, v in counts.items():
        if k.startswith("ledger-") and not k.startswith("ledger-chars-"):
            parts = k[len("ledger-"):].split("-", 1)
            r = reasons.setdefault(parts[0], {"rows": 0, "chars": 0, "by_lang": {}})
            if len(parts) == 1:
                r["rows"] += v
            else:
                r["by_lang"][parts[1]] = v
    for k, v in counts.items():
        if k.startswith("ledger-chars-"):
            reasons.setdefault(k[len("ledger-chars-"):], {"rows": 0, "chars": 0, "by_lang": {}})["chars"] = v
    stage_counts = {k: v for k, v in counts.items() if k.startswith(("repair-", "filter-"))}
    total_cpu = sum(cpu.values())
    return {
        "documents": {"in": counts["in-docs"], "in_chars": counts["in-chars"],
                      "out": sum(by_lang_docs.values()), "emptied": counts["out-docs-emptied"],
                      "out_by_lang": dict(sorted(by_lang_docs.items())),
                      "out_chars_by_lang": dict(sorted(by_lang_chars.items())),
                      "in_by_lang": dict(sorted(in_docs.items())), "in_chars_by_lang": dict(sorted(in_chars.items()))},
        "ledger": {"rows": sum(r["rows"] for r in reasons.values()),
                   "by_reason": dict(sorted(reasons.items()))},
        "stages": dict(sorted(stage_counts.items())),
        "dedup": {"decisions": barrier.get("decisions", 0), "history_rows": barrier.get("history_rows", 0),
                  "cluster_sizes": barrier.get("cluster_sizes", {})},
        "inputs": {"files": n_files, "bytes": total_bytes, "shards": n_shards},
        # Timing is the only part of the output that differs between identical runs.
        "timing": {"cpu_seconds": {k: round(v, 3) for k, v in sorted(cpu.items())},
                   "cpu_seconds_total": round(total_cpu, 3), "wall_seconds": round(wall, 3),
                   "cpu_seconds_per_mb": round(total_cpu / max(total_bytes / 1e6, 1e-9), 4)},
    }
