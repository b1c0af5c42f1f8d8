"""Command line: ``python -m pipeline run CONFIG [--input PATH ...] [--output DIR] [--state DIR]
[--workers N] [--executor local]``. Flags override the config file.

Exit codes: 0 success (also when records were rejected into the ledger); 2 configuration or input
error (one line naming the key or file); 1 unexpected failure.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import config as config_mod
from .errors import PipelineError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m pipeline",
                                 description="Multilingual text cleaning and deduplication.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="clean a corpus")
    r.add_argument("config", help="YAML config, e.g. configs/default.yaml")
    r.add_argument("--input", nargs="+", action="extend", metavar="PATH",
                   help="files, folders or globs (override input.paths)")
    r.add_argument("--output", metavar="DIR", help="output folder (overrides output.path)")
    r.add_argument("--state", metavar="DIR", help="state folder with the history index (output.state)")
    r.add_argument("--workers", type=int, metavar="N", help="worker processes, 0 = one per core")
    r.add_argument("--executor", choices=["local", "ray"], help="executor (executor.name)")
    r.add_argument("--quiet", action="store_true", help="print only warnings and errors")
    r.add_argument("--verbose", action="store_true", help="a line per shard, also on a terminal")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. dedup.keep=longest (after the options above)")
    w = sub.add_parser("why", help="explain what happened to a document: kept text and ledger rows")
    w.add_argument("doc_id")
    w.add_argument("output", help="output folder of a run")
    g = sub.add_parser("report", help="rebuild report.md and report.html of an output folder")
    g.add_argument("output")
    c = sub.add_parser("config", help="validate a config and print it with every default filled in")
    c.add_argument("config")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. dedup.keep=longest")
    x = sub.add_parser("index", help="inspect or compact the history index of a state folder")
    x.add_argument("state", help="state folder (as given to --state)")
    x.add_argument("--config", default=None, help="config whose dedup settings the index must match")
    x.add_argument("--compact", action="store_true", help="merge all runs into one segment")
    return ap


def _index(args) -> int:
    from .dedup import history
    from .errors import IndexError_
    from .io.lock import FolderLock
    if not os.path.isdir(os.path.join(args.state, "index")):
        raise IndexError_(f"state {args.state}: no history index here")
    cfg = config_mod.load(args.config) if args.config else config_mod.from_dict({})
    if args.compact:
        with FolderLock(args.state, "state folder"):     # a run appending meanwhile would lose its segment
            history.compact(args.state, cfg.dedup)
    idx = history.read_index(args.state)
    print(f"history index in {args.state}: {len(idx['segments'])} segment(s), "
          f"{sum(s['rows'] for s in idx['segments'])} keys; settings {idx['identity']}")
    for s in idx["segments"]:
        runs = s.get("runs", [s["run"]])
        print(f"  {s['name']}: {s['rows']} keys from run(s) {', '.join(runs)}")
    history.check_files(args.state, idx["segments"])
    return 0


def _why(args) -> int:
    import json

    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from .errors import RunError
    out = args.output
    if not os.path.exists(os.path.join(out, "manifest.json")):
        raise RunError(f"{out} is not a complete pipeline output (no manifest.json)")
    flt = ds.field("doc_id") == args.doc_id
    kept = ds.dataset(os.path.join(out, "docs"), format="parquet").to_table(filter=flt) \
        if os.path.isdir(os.path.join(out, "docs")) else None
    led = pq.read_table(os.path.join(out, "ledger"), filters=[("doc_id", "=", args.doc_id)])
    if (kept is None or not kept.num_rows) and not led.num_rows:
        print(f"{args.doc_id}: not in this output (neither kept nor in the ledger)")
        return 1
    for r in (kept.to_pylist() if kept is not None else []):
        print(f"{args.doc_id}: kept in lang={r['lang']} ({len(r['text'])} characters, source {r['source']})")
    rows = sorted(led.to_pylist(), key=lambda r: (r["char_start"] if r["char_start"] is not None else -1))
    if not rows:
        print("  nothing was removed from it")
    for r in rows:
        where = ("whole document" if r["para_idx"] is None else
                 f"paragraph {r['para_idx']}" + (f", sentence {r['sent_idx']}" if r["sent_idx"] is not None else ""))
        text = r["text"] if len(r["text"]) <= 160 else r["text"][:157] + "..."
        print(f"  removed ({r['reason']}, {r['stage']}) at {where}, chars {r['char_start']}-{r['char_end']}: {text!r}")
        detail = json.loads(r["detail"] or "{}")
        if detail:
            print("    " + ", ".join(f"{k}={v}" for k, v in sorted(detail.items())))
    return 0


def _report(args) -> int:
    import json

    from .errors import RunError
    from .report import write_reports
    path = os.path.join(args.output, "stats.json")
    if not os.path.exists(path):
        raise RunError(f"{args.output} has no stats.json: not a complete pipeline output")
    with open(path, encoding="utf-8") as fh:
        stats = json.load(fh)
    with open(os.path.join(args.output, "manifest.json"), encoding="utf-8") as fh:
        run_id = json.load(fh)["run_id"]
    for name in write_reports(args.output, stats, run_id):
        print(os.path.join(args.output, name))
    return 0


def _overrides(pairs: list[str]) -> dict:
    import yaml
    overrides = {}
    for kv in pairs:
        if "=" not in kv:
            raise config_mod.ConfigError(f"config: --set needs KEY=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        overrides[k.strip()] = yaml.safe_load(v)
    return overrides


def _config(args) -> int:
    import yaml
    cfg = config_mod.load(args.config, _overrides(args.set))
    print(yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True), end="")
    return 0


def _several_shards_likely(cfg) -> bool:
    """Before planning: will the input make more than one shard (so a worker pool is used)?
    Plain files are judged by their size; a folder or a glob is assumed to."""
    total = 0
    for p in cfg.input.paths:
        if not os.path.isfile(p):
            return True
        total += os.path.getsize(p)
    return total > cfg.input.shard_size_mb * 1e6


def entry() -> int:
    """The command's entry point (``python -m pipeline`` and the ``clean-corpus`` script): this
    process exists only for the command, so it may tune itself and the workers it starts
    (``pipeline.tuning``); ``main`` called from a program changes nothing of that program's."""
    return main(own_process=True)


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"index": _index, "why": _why, "report": _report, "config": _config}
    if args.command in handlers:
        try:
            return handlers[args.command](args)
        except PipelineError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except OSError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    overrides = {}
    if args.input:
        overrides["input.paths"] = list(args.input)
    if args.output:
        overrides["output.path"] = args.output
    if args.state is not None:
        overrides["output.state"] = args.state
    if args.workers is not None:
        overrides["executor.workers"] = args.workers
    if args.executor:
        overrides["executor.name"] = args.executor
    from .run.progress import Progress
    progress = Progress("quiet" if args.quiet else "verbose" if args.verbose else "auto")
    try:
        overrides.update(_overrides(args.set))
        cfg = config_mod.load(args.config, overrides)
    except config_mod.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2
    setup = None
    if own_process:
        from . import tuning
        tuning.apply()
        setup = tuning.apply
    if cfg.executor.name == "local" and _several_shards_likely(cfg):
        from .run.executors import effective_workers, prestart
        if effective_workers(cfg.executor.workers) > 1:
            prestart()      # its workers' fork server warms up while this process imports and plans
    from .run.runner import run
    try:
        run(cfg, log=progress.log, progress=progress, setup=setup)
    except PipelineError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2
    return 0
