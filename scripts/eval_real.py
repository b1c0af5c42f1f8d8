#!/usr/bin/env python
"""Run the pipeline on the hand-labelled real web pages (../shared/eval/real/dev) and print the
real-text scorer's table: good text removed by label and reason, precision of every removal
reason, recall of the junk classes (needs ../shared).

    python scripts/eval_real.py [--config configs/default.yaml] [--out /tmp/eval-real] [--workers 2]
                                [--set key=value ...] [--examples N] [--json report.json]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=os.path.join(ROOT, "configs", "default.yaml"))
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "..", "shared", "eval"))
    ap.add_argument("--out", default="/tmp/eval-real")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override, YAML value (e.g. dedup.min_paragraph_chars=40)")
    ap.add_argument("--examples", type=int, default=0, help="print N examples of each kind of error")
    ap.add_argument("--json", default=None, help="write the scorer's full report here")
    args = ap.parse_args()
    gold = os.path.join(args.eval_dir, "real", "dev")
    scorer = os.path.join(args.eval_dir, "score_real.py")
    if not os.path.exists(os.path.join(gold, "docs.jsonl")) or not os.path.exists(scorer):
        print(f"no labelled real pages at {gold}: ../shared is not here, nothing to evaluate")
        return 0
    import yaml
    from pipeline import config as config_mod
    from pipeline.run.runner import run
    overrides = {"input.paths": [os.path.join(gold, "docs.jsonl")], "output.path": args.out,
                 "output.state": "", "executor.workers": args.workers}
    for kv in args.set:
        k, v = kv.split("=", 1)
        overrides[k] = yaml.safe_load(v)
    cfg = config_mod.load(args.config, overrides)
    shutil.rmtree(args.out, ignore_errors=True)
    run(cfg, log=lambda m: print(m, file=sys.stderr))
    cmd = [sys.executable, scorer, "--gold", gold, "--out", args.out]
    if args.examples:
        cmd += ["--examples", str(args.examples)]
    if args.json:
        cmd += ["--json", args.json]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
