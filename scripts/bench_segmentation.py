#!/usr/bin/env python
"""Sentence splitting side by side on public gold (needs ../shared/eval/segmentation): the
project's splitter (pipeline.split_sentences) against plain sentencex, and pysbd and blingfire
where they are installed (pip install pysbd blingfire).

    python scripts/bench_segmentation.py [--splitters project,sentencex,pysbd,blingfire] [--json FILE]

Prints, per UD language, F1 (P / R) and R.punct for every splitter, the pySBD cases passed per set,
and each splitter's speed: MB of UD paragraph text per CPU-second (best of 3 passes, in this
process). The scores come from the scorer itself (score.py --json), run once per splitter.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.segmentation_splitters import MODULES, SPLITTERS  # noqa: E402


def _prf(u: dict) -> tuple[float, float, float, float]:
    tp, fp, fn = u["tp"], u["fp"], u["fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return 100 * p, 100 * r, 100 * f, 100 * u["tp_punct"] / u["gold_punct"] if u["gold_punct"] else 0.0


def _speed(fn, items: list[tuple[str, str]]) -> float:
    mb = sum(len(t.encode("utf-8")) for t, _ in items) / 1e6
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for text, lang in items:
            fn(text, lang)
        best = min(best, time.process_time() - t0)
    return mb / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "eval", "segmentation"))
    ap.add_argument("--splitters", default=",".join(SPLITTERS))
    ap.add_argument("--json", help="write every splitter's counts here")
    args = ap.parse_args()
    scorer = os.path.join(args.data, "score.py")
    if not os.path.isfile(scorer):
        sys.exit(f"no scorer at {scorer}: this benchmark needs ../shared/eval/segmentation")
    names = [n for n in args.splitters.split(",") if importlib.util.find_spec(MODULES[n]) is not None]
    missing = sorted(set(args.splitters.split(",")) - set(names))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "scores.json")
        cmd = [sys.executable, scorer, "--data", args.data, "--json", out]
        for n in names:
            cmd += ["--splitter", f"scripts.segmentation_splitters:{n}"]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as fh:
            report = json.load(fh)["splitters"]
    scores = {n: report[f"scripts.segmentation_splitters:{n}"] for n in names}
    items = []
    for path in sorted(glob.glob(os.path.join(args.data, "ud", "ud_*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                items.append((d["sep"].join(d["sentences"]), d["lang"]))

    langs = list(scores[names[0]]["ud"])
    print("UD sentence boundaries: F1 (P / R), R.punct; the best F1 of a language in bold\n")
    print("| lang | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for lang in langs + ["micro"]:
        cells = {n: _prf(scores[n]["micro"]["ud"] if lang == "micro" else scores[n]["ud"][lang]) for n in names}
        best = max(round(c[2], 1) for c in cells.values())
        row = []
        for n in names:
            p, r, f, rp = cells[n]
            f1 = f"{f:.1f}"
            row.append(f"{'**' + f1 + '**' if round(f, 1) == best else f1} ({p:.1f} / {r:.1f}), {rp:.1f}")
        print(f"| {lang} | " + " | ".join(row) + " |")
    print("\npySBD cases passed\n")
    print("| set | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    sets = sorted({s for n in names for g in scores[n]["pysbd"].values() for s in g["by_set"]})
    for s in sets:
        row = []
        for n in names:
            a = sum(g["by_set"].get(s, [0, 0])[0] for g in scores[n]["pysbd"].values())
            b = sum(g["by_set"].get(s, [0, 0])[1] for g in scores[n]["pysbd"].values())
            row.append(f"{a}/{b} ({100 * a / b:.1f}%)")
        print(f"| {s} | " + " | ".join(row) + " |")
    mb = sum(len(t.encode("utf-8")) for t, _ in items) / 1e6
    print(f"\nSpeed on the UD paragraphs ({mb:.2f} MB), MB per CPU-second, best of 3\n")
    print("| " + " | ".join(names) + " |")
    print("|" + "---:|" * len(names))
    print("| " + " | ".join(f"{_speed(SPLITTERS[n], items):.1f}" for n in names) + " |")
    if missing:
        print(f"\nnot installed: {', '.join(missing)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(scores, fh, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
