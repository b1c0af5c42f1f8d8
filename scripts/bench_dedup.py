#!/usr/bin/env python
"""Clustering benchmark for the dedup barrier: N paragraph signatures in S segments.

Signatures are random (independent paragraphs) except for planted near-duplicates: a share of
items copies an earlier item's signature and changes some of its values, which gives a known
estimated Jaccard. The barrier (``pipeline.dedup.resolve``) runs in a child process so that its
peak memory is measured alone.

    python scripts/bench_dedup.py --n 1000000 [--segments 20] [--dup-share 0.05] [--dir /tmp/bench-dedup]
                                  [--barrier memory|ranges] [--workers 2] [--template] [--range-records N]

``--barrier ranges`` runs the barrier by hash ranges (``pipeline.dedup.ranges``) on a pool of
``--workers`` processes, and reports the driver's and the workers' peak memory apart.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def generate(n: int, segments: int, dup_share: float, out: str, seed: int = 7, template: bool = False) -> dict:
    import numpy as np
    import pyarrow as pa

    from pipeline.dedup import DedupConfig
    from pipeline.dedup.keys import KEYS_SCHEMA, KIND_PARA, Keys
    from pipeline.dedup.minhash import band_hashes
    cfg = DedupConfig()
    rng = np.random.default_rng(seed)
    per = -(-n // segments)
    planted = 0
    first = None
    for s in range(segments):
        m = min(per, n - s * per)
        if m <= 0:
            break
        sig = rng.integers(0, 2**32, size=(m, cfg.num_perm), dtype=np.uint32)
        if first is None:
            first = sig[: max(1, int(m * 0.5))].copy()        # originals come from segment 0
        k = int(m * dup_share) if s else 0
        if k:
            src = np.zeros(k, np.int64) if template else rng.integers(0, len(first), size=k)
            copies = first[src].copy()
            # change 10% of the values: estimated Jaccard ~0.9
            flip = rng.random(copies.shape) < 0.10
            copies[flip] = rng.integers(0, 2**32, size=int(flip.sum()), dtype=np.uint32)
            sig[:k] = copies
            planted += k
        table = pa.table({
            "kind": pa.array(np.full(m, KIND_PARA, np.int8)), "file": pa.array(np.full(m, s, np.int32)),
            "pos": pa.array(np.arange(m, dtype=np.int64) * 100), "para": pa.array(np.zeros(m, np.int32)),
            "doc_id": pa.array([f"s{s}-{i}" for i in range(m)]), "length": pa.array(np.full(m, 300, np.int64)),
            "exact": pa.array(rng.integers(0, 2**63, size=m, dtype=np.int64).astype(np.uint64)),
            "has_sig": pa.array(np.ones(m, bool)),
        }, schema=KEYS_SCHEMA)
        Keys(table, sig, band_hashes(sig, cfg.bands)).write(os.path.join(out, f"{s:05d}"))
    return {"n": n, "segments": segments, "planted": planted}


def barrier(out: str, segments: int, mode: str = "memory", workers: int = 2, range_records: int = 0) -> None:
    import pyarrow.parquet as pq

    from pipeline.dedup import DedupConfig, ranges, resolve
    from pipeline.dedup.keys import Segment
    from pipeline.run.executors import LocalExecutor
    cfg = DedupConfig(documents=False)
    segs = [Segment(os.path.join(out, f"{s:05d}"), shard=s) for s in range(segments)
            if os.path.exists(os.path.join(out, f"{s:05d}.keys.parquet"))]
    dec_path = os.path.join(out, "decisions.parquet")
    t0, c0 = time.time(), time.process_time()
    stats: dict = {}
    worker_peak = 0
    if mode == "ranges":
        ex = LocalExecutor(workers)
        try:
            ranges.resolve(segs, cfg, dec_path, parallel_map=ex.map, tmp=os.path.join(out, "tmp"), stats=stats,
                           range_records=range_records or None)
            worker_peak = max([_peak_kb(pid) for pid in (ex._pool._processes if ex._pool else {})] + [0])
        finally:
            ex.close()
    else:
        resolve.resolve(segs, cfg, dec_path, stats=stats)
    wall, cpu = time.time() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    dec = pq.read_table(dec_path, columns=["reason"])          # written as the runner does, in pieces
    near = sum(1 for r in dec.column("reason").to_pylist() if r == "duplicate_near")
    print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                      "worker_cpu_s": round(stats.get("worker_cpu", 0.0), 2), "decisions": dec.num_rows, "near": near,
                      "peak_rss_mb": round(peak / 1024),
                      "worker_peak_rss_mb": round(worker_peak / 1024), "largest_range": stats.get("largest_range", 0)}))


def _peak_kb(pid: int) -> int:
    """A live process's peak resident memory (VmHWM), in kB; 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--segments", type=int, default=20)
    ap.add_argument("--dup-share", type=float, default=0.05)
    ap.add_argument("--dir", default="/tmp/bench-dedup")
    ap.add_argument("--keep", action="store_true", help="keep the generated segments")
    ap.add_argument("--barrier", choices=["memory", "ranges"], default="memory")
    ap.add_argument("--workers", type=int, default=2, help="processes for --barrier ranges")
    ap.add_argument("--template", action="store_true",
                    help="every planted near-duplicate copies the same item (a template repeated with small changes)")
    ap.add_argument("--range-records", type=int, default=0, help="records per range for --barrier ranges "
                    "(default: pipeline.dedup.ranges.RANGE_RECORDS)")
    ap.add_argument("--barrier-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.barrier_only:
        barrier(args.dir, args.segments, args.barrier, args.workers, args.range_records)
        return 0
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)
    t0 = time.time()
    info = generate(args.n, args.segments, args.dup_share, args.dir, template=args.template)
    gen = time.time() - t0
    res = subprocess.run([sys.executable, __file__, "--barrier-only", "--dir", args.dir,
                          "--segments", str(args.segments), "--barrier", args.barrier, "--workers", str(args.workers),
                          "--range-records", str(args.range_records)],
                         capture_output=True, text=True, check=True)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    disk = sum(os.path.getsize(os.path.join(args.dir, f)) for f in os.listdir(args.dir) if f[:1].isdigit())
    print(f"signatures {info['n']:,} in {info['segments']} segments ({disk / 1e9:.2f} GB on disk, "
          f"generated in {gen:.0f} s); planted near-duplicates {info['planted']:,}")
    extra = (f", workers' CPU {r['worker_cpu_s']} s, a worker's peak RSS {r['worker_peak_rss_mb']} MB, "
             f"largest range {r['largest_range']:,} records"
             if args.barrier == "ranges" else "")
    print(f"barrier ({args.barrier}): wall {r['wall_s']} s, driver CPU {r['cpu_s']} s, driver peak RSS "
          f"{r['peak_rss_mb']} MB{extra}, "
          f"near-duplicates found {r['near']:,} ({r['near'] / max(1, info['planted']):.1%} of planted), "
          f"decisions {r['decisions']:,}")
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
