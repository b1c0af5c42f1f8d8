#!/usr/bin/env python
"""Run the pipeline on ../shared/eval/dev and print the scorer's table (needs ../shared).

    python scripts/eval_dev.py [--config configs/default.yaml] [--out /tmp/eval-dev] [--workers 2]
                               [--set key=value ...] [--json report.json]
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evalrun import arguments, run_on  # noqa: E402


def main() -> int:
    args = arguments(__doc__, "/tmp/eval-dev").parse_args()
    dev = os.path.join(args.eval_dir, "dev")
    if not os.path.exists(os.path.join(dev, "docs.jsonl")):
        print(f"no dev corpus at {dev}: ../shared is not here, nothing to evaluate")
        return 0
    t0 = time.time()
    res = run_on(os.path.join(dev, "docs.jsonl"), args)
    wall = time.time() - t0
    t = res.stats["timing"]
    mb = res.stats["inputs"]["bytes"] / 1e6
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(f"\ninput {mb:.2f} MB; CPU {t['cpu_seconds_total']:.1f} s = {t['cpu_seconds_per_mb']:.3f} CPU s/MB "
          f"({mb / max(t['cpu_seconds_total'], 1e-9):.2f} MB/s per core); wall {wall:.1f} s; "
          f"peak RSS of one process {peak / 1024:.0f} MB")
    print("CPU s per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in t["cpu_seconds"].items()))
    cmd = [sys.executable, os.path.join(args.eval_dir, "score.py"), "--gold", dev,
           "--pred", os.path.join(args.out, "docs"), "--ledger", os.path.join(args.out, "ledger")]
    if args.json:
        cmd += ["--json", args.json]
    rc = subprocess.call(cmd)
    if rc == 0:
        recall_by_language(args.eval_dir, dev, os.path.join(args.out, "docs"))
    return rc


def recall_by_language(eval_dir: str, gold: str, pred: str) -> None:
    """Truncation and foreign-span recall per document language, with the scorer's own matching
    (its functions are imported from ../shared/eval/score.py; the scorer does not print these)."""
    from collections import defaultdict
    sys.path.insert(0, eval_dir)
    import score as sc
    docs, units_by_doc, _ = sc.load_gold(gold)
    pred_rows = defaultdict(list)
    for r in sc.read_table(pred, ["doc_id", "text", "lang"]):
        pred_rows[str(r["doc_id"])].append((r["lang"], r["text"]))
    status, dropped = {}, {}
    for did, d in docs.items():
        st, empty = sc.match_doc(units_by_doc.get(did, []), pred_rows.get(did, []), d["lang"])
        status.update(st)
        dropped[did] = did not in pred_rows or empty
    clusters = defaultdict(list)             # as the scorer: dropped copies of a kept document are excused
    for did, d in docs.items():
        if d.get("doc_cluster") and d.get("doc_expected") == "dedup":
            clusters[d["doc_cluster"]].append(did)
    excused = {m for ms in clusters.values() if any(not dropped[m] for m in ms) for m in ms if dropped[m]}
    units = [u for us in units_by_doc.values() for u in us if not u["doc_scope_only"] and u["expected"] != "ambiguous"]
    for name, pick, hit in (("truncated", lambda u: u["truncated"], sc.is_dropped),
                            ("foreign", lambda u: u["foreign"], sc.removed_from_main)):
        by = defaultdict(lambda: [0, 0])
        for u in units:
            if pick(u):
                by[u["doc_lang"]][0] += 1
                by[u["doc_lang"]][1] += bool(hit(status[u["unit_id"]]) or u["doc_id"] in excused)
        print(f"{name} recall by document language: "
              + ", ".join(f"{lang} {h / n:.2f} (n={n})" for lang, (n, h) in sorted(by.items())))


if __name__ == "__main__":
    raise SystemExit(main())
