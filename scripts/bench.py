#!/usr/bin/env python
"""Speed benchmark: MB/s of input per core (CPU time), wall time, peak memory, each stage's share.

Builds a perf corpus with ../shared/eval/make_corpus.py --perf when ../shared is there, otherwise
generates one from tests/data. With --peer (a datatrove virtualenv, see ../shared/bench/README.md)
it also runs the datatrove peer on the first --peer-mb MB of the same input (it is far slower)
and prints the ratio of MB/s per core against our 1-worker run.

    python scripts/bench.py [--docs 20000] [--workers 1] [--peer /tmp/peer-venv/bin/python] [--peer-mb 5]
                            [--scale 10 [--scale-workers 1 2]] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")


def build_corpus(n: int, out: str) -> str:
    path = os.path.join(out, "docs.jsonl")
    if os.path.exists(path):
        return path
    maker = os.path.join(SHARED, "eval", "make_corpus.py")
    pool = os.path.join(SHARED, "eval", "sources", "dev_pool.jsonl.gz")
    if os.path.exists(maker) and os.path.exists(pool):
        subprocess.run([sys.executable, maker, "--pool", pool, "--n", str(n), "--seed", "7", "--perf",
                        "--out", out], check=True, stdout=subprocess.DEVNULL)
        return path
    # Fallback: recombine the sentences of the test corpus into n documents.
    import random
    rng = random.Random(7)
    sents = []
    with open(os.path.join(ROOT, "tests", "data", "corpus.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            try:
                t = json.loads(line).get("text")
            except ValueError:
                continue
            if isinstance(t, str):
                sents += [s.strip() + "." for p in t.split("\n\n") for s in p.split(". ") if len(s) > 20]
    os.makedirs(out, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            paras = ["\n".join(" ".join(rng.choice(sents) for _ in range(rng.randint(2, 5)))
                               for _ in range(1)) for _ in range(rng.randint(3, 8))]
            fh.write(json.dumps({"id": f"perf-{i}", "text": "\n\n".join(paras)}, ensure_ascii=False) + "\n")
    return path


# Runs a command and prints its wall time, and the CPU and peak RSS of all its descendants, as
# JSON. The local executor's workers are children of its fork server, which outlives the command
# by a moment: ``/usr/bin/time`` would count neither. This helper becomes a child subreaper
# (Linux), so that the orphaned fork server is reparented to it and reaped with all it reaped;
# it runs in a fresh process because a process's children's peak RSS only ever grows.
_MEASURE = r"""
import ctypes, json, os, resource, subprocess, sys, time
try:
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)          # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):
    pass
t0 = time.time()
res = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)
wall = time.time() - t0
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": res.returncode, "stderr": res.stderr[-5000:], "wall": wall,
                  "cpu": u.ru_utime + u.ru_stime, "rss_mb": u.ru_maxrss / 1024}))
"""


def run_ours(corpus: str, workers: int, out: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "pipeline", "run", os.path.join(ROOT, "configs", "default.yaml"),
           "--input", corpus, "--output", out, "--workers", str(workers), "--quiet"]
    res = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd)], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    m = json.loads(res.stdout)
    if m["rc"]:
        sys.exit(m["stderr"])
    wall, cpu, rss = m["wall"], m["cpu"], m["rss_mb"]
    with open(os.path.join(out, "stats.json"), encoding="utf-8") as fh:
        stats = json.load(fh)
    return {"wall": wall, "stats": stats, "peak_rss_mb": rss, "command_cpu": cpu,
            "task_rss_mb": stats["timing"].get("peak_rss_mb_per_task")}


def _walls(r: dict) -> str:
    """Where a run's wall time went: the two map phases, the dedup barrier between them, and the
    rest of the command (start-up and imports before phase 1, planning, the reports, the manifest,
    the work folder's removal and exit), the part that no worker count shortens."""
    m = r["stats"]["timing"].get("phase_marks")
    if not m:
        return ""
    p1, bar, p2 = m["phase1_end"] - m["phase1_start"], m["phase2_start"] - m["phase1_end"], m["phase2_end"] - m["phase2_start"]
    return f"  wall: phase 1 {p1:.1f} s, barrier {bar:.2f} s, phase 2 {p2:.2f} s, the rest {r['wall'] - p1 - bar - p2:.2f} s"


def _median_run(runs: list[dict]) -> dict:
    """The run with the median wall time, its CPU replaced by the median CPU of the runs."""
    by_wall = sorted(runs, key=lambda r: r["wall"])
    r = dict(by_wall[(len(by_wall) - 1) // 2])
    cpus = sorted(x["stats"]["timing"]["cpu_seconds_total"] for x in runs)
    cpu = cpus[(len(cpus) - 1) // 2]
    r["command_cpu"] = sorted(x["command_cpu"] for x in runs)[(len(runs) - 1) // 2]
    timing = dict(r["stats"]["timing"])
    scale = cpu / timing["cpu_seconds_total"]
    timing["cpu_seconds_total"] = cpu
    timing["cpu_seconds"] = {k: v * scale for k, v in timing["cpu_seconds"].items()}
    r["stats"] = dict(r["stats"], timing=timing)
    return r


# A fixed single-core workload of no code of ours (Python bytecode, zlib, a numpy sort, random
# reads from 192 MB), run in a fresh process between the runs: its CPU seconds show how fast the
# machine is in that moment (on a shared machine the same work has taken 30-50% longer in one
# sitting than in another), so that figures from different sittings, or from the start and the
# end of one, can be compared.
_CALIBRATE = r"""
import json, time, zlib
import numpy as np
t0 = time.process_time()
x = 0
for i in range(5_000_000):
    x = (x * 31 + i) % 1_000_003
blob = bytes(range(256)) * 40_000
for _ in range(8):
    zlib.compress(blob, 6)
rng = np.random.default_rng(7)
np.sort(rng.integers(0, 1 << 62, 4_000_000))
big = np.arange(24_000_000, dtype=np.int64)           # 192 MB: gathers from it go to memory
big[rng.integers(0, len(big), 6_000_000)].sum()
print(json.dumps({"cpu": time.process_time() - t0}))
"""


def calibrate(times: int = 3) -> float:
    """The best of ``times`` runs (a single run varies by ~20% within a minute)."""
    return min(json.loads(subprocess.run([sys.executable, "-c", _CALIBRATE], capture_output=True, text=True,
                                         check=True).stdout)["cpu"] for _ in range(times))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dir", default="/tmp/pipeline-bench")
    ap.add_argument("--peer", default="/tmp/peer-venv/bin/python", help="datatrove virtualenv's python")
    ap.add_argument("--peer-mb", type=float, default=5, help="MB from the start of the corpus for the peer")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each worker count this many times, in turn, and report the medians")
    ap.add_argument("--scale", type=int, default=1,
                    help="also run on a corpus this many times larger (scaling check)")
    ap.add_argument("--scale-workers", type=int, nargs="+", default=None,
                    help="worker counts of the larger runs, in turn (default: the last of --workers)")
    args = ap.parse_args()
    corpus = build_corpus(args.docs, os.path.join(args.dir, f"corpus-{args.docs}"))
    mb = os.path.getsize(corpus) / 1e6
    print(f"corpus: {corpus} ({mb:.1f} MB, {args.docs} documents)")
    checks = [("start", calibrate())]
    base, rates, last_wall = None, {}, {}
    # With --repeat N the worker counts run in turn N times (so that a slow spell of the machine
    # hits all of them) and each figure is the median of its N runs.
    runs: dict[int, list[dict]] = {w: [] for w in args.workers}
    for _ in range(args.repeat):
        for w in args.workers:
            runs[w].append(run_ours(corpus, w, os.path.join(args.dir, f"out-{w}")))
    for w in args.workers:
        r = _median_run(runs[w])
        t = r["stats"]["timing"]
        cpu = t["cpu_seconds_total"]
        base = base or r["wall"]
        last_wall[w] = r["wall"]
        rates[w] = mb / cpu
        walls = ", ".join(f"{x['wall']:.1f}" for x in runs[w])
        spread = f" (runs: {walls} s)" if args.repeat > 1 else ""
        print(f"workers={w}: {mb / cpu:.2f} MB/s per core (CPU {cpu:.1f} s in the tasks; whole command "
              f"{r['command_cpu']:.1f} s: {mb / r['command_cpu']:.2f} MB/s per core), wall {r['wall']:.1f} s{spread} "
              f"(speed-up {base / r['wall']:.2f}x), peak RSS of the largest process {r['peak_rss_mb']:.0f} MB, "
              f"of a worker {r['task_rss_mb']:.0f} MB")
        shares = ", ".join(f"{k} {v / cpu:.0%}" for k, v in sorted(t["cpu_seconds"].items(), key=lambda x: -x[1]))
        print(f"  CPU share per stage: {shares}")
        print(_walls(r))
    checks.append(("after the small runs", calibrate()))
    if args.scale > 1:
        big = build_corpus(args.docs * args.scale, os.path.join(args.dir, f"corpus-{args.docs * args.scale}"))
        big_mb = os.path.getsize(big) / 1e6
        walls, big_runs = {}, {}
        scale_workers = args.scale_workers or [args.workers[-1]]
        for w in scale_workers:
            big_runs[w] = run_ours(big, w, os.path.join(args.dir, f"out-scale-{w}"))
            checks.append((f"after the large {w}-worker run", calibrate()))
        # The machine's speed drifts over minutes: the small corpus runs again after the large
        # runs, and the large run is compared with the mean of the small runs before and after it.
        after = {w: run_ours(corpus, w, os.path.join(args.dir, f"out-{w}"))["wall"] for w in scale_workers
                 if w in last_wall}
        for w in scale_workers:
            r = big_runs[w]
            cpu = r["stats"]["timing"]["cpu_seconds_total"]
            walls[w] = r["wall"]
            size = big_mb / mb
            small = ""
            if w in last_wall:
                ref = (last_wall[w] + after[w]) / 2
                small = f"; input {size:.2f}x, wall {r['wall'] / ref:.2f}x the {mb:.1f} MB run (its mean of " \
                        f"{last_wall[w]:.1f} s before and {after[w]:.1f} s after; time per MB {r['wall'] / ref / size:.2f}x)"
            speedup = f"; {walls[min(walls)] / r['wall']:.2f}x the {min(walls)}-worker run" if len(walls) > 1 else ""
            print(f"scale x{args.scale} ({big_mb:.1f} MB, {args.docs * args.scale} documents, {w} workers): "
                  f"{big_mb / cpu:.2f} MB/s per core (whole command {big_mb / r['command_cpu']:.2f}), wall "
                  f"{r['wall']:.1f} s{small}{speedup}; peak RSS of the largest process {r['peak_rss_mb']:.0f} MB, "
                  f"of a worker {r['task_rss_mb']:.0f} MB")
            print(_walls(r))
    peer_script = os.path.join(SHARED, "bench", "datatrove_run_baseline.py")
    if os.path.exists(args.peer) and os.path.exists(peer_script):
        sample, n, size = os.path.join(args.dir, f"peer-sample-{args.docs}-{args.peer_mb:g}mb.jsonl"), 0, 0
        with open(corpus, "rb") as src, open(sample, "wb") as dst:
            for line in src:  # whole lines only, up to --peer-mb
                if n and size + len(line) > args.peer_mb * 1e6:
                    break
                dst.write(line)
                n, size = n + 1, size + len(line)
        out = os.path.join(args.dir, "peer-out")
        shutil.rmtree(out, ignore_errors=True)
        res = subprocess.run(["/usr/bin/time", "-v", args.peer, peer_script, sample, out, "--quality", "c4",
                              "--lid-label-only"], capture_output=True, text=True)
        if res.returncode:
            sys.exit(res.stderr)
        tv = {k.strip(): v.strip() for k, _, v in (ln.rpartition(": ") for ln in res.stderr.splitlines())}
        with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
            rep = json.load(fh)
        # task_cpu_s is measured inside every task (workers included); user+sys of /usr/bin/time as fallback
        cpu = rep["total"].get("task_cpu_s") or float(tv["User time (seconds)"]) + float(tv["System time (seconds)"])
        peer = size / 1e6 / cpu
        ours = rates.get(1, next(iter(rates.values())))
        print(f"datatrove peer on the first {size / 1e6:.1f} MB ({n} documents): {peer:.3f} MB/s per core "
              f"(CPU {cpu:.1f} s), peak RSS {int(tv['Maximum resident set size (kbytes)']) / 1024:.0f} MB; "
              f"ours / peer = {ours / peer:.1f}x")
    else:
        print("datatrove peer: not run (no virtualenv at --peer; see ../shared/bench/README.md)")
    checks.append(("end", calibrate()))
    print("machine speed check (CPU s of a fixed single-core workload of no code of ours; more = a slower "
          "machine in that moment): " + ", ".join(f"{name} {cpu:.2f}" for name, cpu in checks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
