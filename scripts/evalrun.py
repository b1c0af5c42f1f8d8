"""What the evaluation scripts share: their common options, and a run of the pipeline on one
JSONL corpus into a fresh output folder."""
from __future__ import annotations

import argparse
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arguments(doc: str, out: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=os.path.join(ROOT, "configs", "default.yaml"))
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--out", default=out)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override, YAML value (e.g. dedup.paragraph_threshold=0.6)")
    ap.add_argument("--json", default=None, help="write the scorer's full report here")
    return ap


def run_on(corpus: str, args: argparse.Namespace):
    """Run the pipeline on ``corpus`` (a JSONL file) into ``args.out``, emptied first; its result."""
    import yaml
    sys.path.insert(0, ROOT)
    from pipeline import config as config_mod
    from pipeline.run.runner import run
    overrides = {"input.paths": [corpus], "output.path": args.out, "output.state": "", "executor.workers": args.workers}
    for kv in args.set:
        k, v = kv.split("=", 1)
        overrides[k] = yaml.safe_load(v)
    cfg = config_mod.load(args.config, overrides)
    shutil.rmtree(args.out, ignore_errors=True)
    return run(cfg, log=lambda m: print(m, file=sys.stderr))
