"""Command line: ``python -m pipeline run CONFIG [--input PATH ...] [--output DIR] [--state DIR]
[--workers N] [--executor local]``. Flags override the config file.

Exit codes: 0 success (also when records were rejected into the ledger); 2 configuration or input
error (one line naming the key or file); 1 unexpected failure.
"""
from __future__ import annotations

import argparse
import sys

from . import config as config_mod
from .history import IndexError_
from .read import InputError
from .runner import RunError, run


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
    r.add_argument("--quiet", action="store_true", help="print only errors")
    x = sub.add_parser("index", help="inspect or compact the history index of a state folder")
    x.add_argument("state", help="state folder (as given to --state)")
    x.add_argument("--config", default=None, help="config whose dedup settings the index must match")
    x.add_argument("--compact", action="store_true", help="merge all runs into one segment")
    return ap


def _index(args) -> int:
    import os
    from . import history
    if not os.path.isdir(os.path.join(args.state, "index")):
        raise IndexError_(f"state {args.state}: no history index here")
    cfg = config_mod.load(args.config) if args.config else config_mod.from_dict({})
    if args.compact:
        history.compact(args.state, cfg.dedup)
    idx = history.read_index(args.state)
    print(f"history index in {args.state}: {len(idx['segments'])} segment(s), "
          f"{sum(s['rows'] for s in idx['segments'])} keys; settings {idx['identity']}")
    for s in idx["segments"]:
        runs = s.get("runs", [s["run"]])
        print(f"  {s['name']}: {s['rows']} keys from run(s) {', '.join(runs)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "index":
        try:
            return _index(args)
        except (config_mod.ConfigError, IndexError_, OSError) as e:
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
    log = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        cfg = config_mod.load(args.config, overrides)
        run(cfg, log=log)
    except (config_mod.ConfigError, InputError, RunError, IndexError_) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2
    return 0
