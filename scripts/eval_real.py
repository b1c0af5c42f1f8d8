#!/usr/bin/env python
"""Run the pipeline on the hand-labelled real web pages (../shared/eval/real/dev) and print the
real-text scorer's table: good text removed by label and reason, precision of every removal
reason, recall of the junk classes (needs ../shared).

    python scripts/eval_real.py [--config configs/default.yaml] [--out /tmp/eval-real] [--workers 2]
                                [--set key=value ...] [--examples N] [--json report.json]
"""
from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evalrun import arguments, run_on  # noqa: E402


def main() -> int:
    ap = arguments(__doc__, "/tmp/eval-real")
    ap.add_argument("--examples", type=int, default=0, help="print N examples of each kind of error")
    args = ap.parse_args()
    gold = os.path.join(args.eval_dir, "real", "dev")
    scorer = os.path.join(args.eval_dir, "score_real.py")
    if not os.path.exists(os.path.join(gold, "docs.jsonl")) or not os.path.exists(scorer):
        print(f"no labelled real pages at {gold}: ../shared is not here, nothing to evaluate")
        return 0
    run_on(os.path.join(gold, "docs.jsonl"), args)
    cmd = [sys.executable, scorer, "--gold", gold, "--out", args.out]
    if args.examples:
        cmd += ["--examples", str(args.examples)]
    if args.json:
        cmd += ["--json", args.json]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
