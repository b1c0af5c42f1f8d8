"""The history index's segment files: written and merged in bounded batches, with the same content
as concatenating the parts in memory."""
import os
import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.dedup import DedupConfig, history
from pipeline.dedup.keys import KEYS_SCHEMA, Keys, empty_keys
from pipeline.dedup.minhash import band_hashes

CFG = DedupConfig()


def _keys(rng, n, exact_pool=None):
    """Synthetic keys of ``n`` items (documents and paragraphs), exact hashes drawn from
    ``exact_pool`` when given (repeats across parts)."""
    exact = (rng.choice(exact_pool, n) if exact_pool is not None
             else rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1))
    table = pa.table({
        "kind": pa.array(rng.integers(0, 2, n), pa.int8()), "file": pa.array(rng.integers(0, 3, n), pa.int32()),
        "pos": pa.array(np.arange(n), pa.int64()), "para": pa.array(rng.integers(-1, 5, n), pa.int32()),
        "doc_id": pa.array([f"d{i}" for i in range(n)], pa.string()), "length": pa.array(rng.integers(1, 999, n)),
        "exact": pa.array(exact, pa.uint64()), "has_sig": pa.array(rng.random(n) < 0.8),
    }, schema=KEYS_SCHEMA)
    sig = rng.integers(0, 2**32, (n, CFG.num_perm), dtype=np.uint64).astype(np.uint32)
    return Keys(table, sig, band_hashes(sig, CFG.bands))


def _files(base):
    return {s: open(base + s, "rb").read() for s in (".sig.npy", ".bands.npy")}


def test_a_segment_is_copied_in_batches_with_the_same_content(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "_BATCH", 7)             # many batches, the last ones partial
    rng = np.random.default_rng(4)
    parts = []
    for i, n in enumerate([30, 0, 1, 45]):                # an empty part among them
        k = _keys(rng, n) if n else empty_keys(CFG)
        k.write(str(tmp_path / f"p{i}"))
        parts.append((str(tmp_path / f"p{i}"), k))
    # all rows, with the history's run column
    ref = Keys.concat([k for _, k in parts], CFG)
    ref.table = ref.table.append_column("run", pa.array(["r7"] * ref.table.num_rows, pa.string()))
    ref.write(str(tmp_path / "ref"))
    rows = history.write_segment([(b, None) for b, _ in parts], str(tmp_path / "seg"), CFG, run="r7")
    assert rows == 76
    assert _files(str(tmp_path / "seg")) == _files(str(tmp_path / "ref"))      # byte for byte, as np.save
    assert pq.read_table(tmp_path / "seg.keys.parquet").equals(pq.read_table(tmp_path / "ref.keys.parquet"))
    # chosen rows (compaction)
    masks = [rng.random(k.table.num_rows) < 0.5 for _, k in parts]
    ref = Keys.concat([k.take(m) for (_, k), m in zip(parts, masks)], CFG)
    ref.write(str(tmp_path / "refm"))
    rows = history.write_segment([(b, m) for (b, _), m in zip(parts, masks)], str(tmp_path / "segm"), CFG)
    assert rows == sum(int(m.sum()) for m in masks) == ref.table.num_rows
    assert _files(str(tmp_path / "segm")) == _files(str(tmp_path / "refm"))
    assert pq.read_table(tmp_path / "segm.keys.parquet").equals(pq.read_table(tmp_path / "refm.keys.parquet"))
    # nothing at all: an empty segment of the right shapes
    assert history.write_segment([(parts[1][0], None)], str(tmp_path / "none"), CFG, run="r8") == 0
    empty = Keys.read(str(tmp_path / "none"))
    assert empty.sig.shape == (0, CFG.num_perm) and empty.bands.shape == (CFG.bands, 0)
    assert empty.table.column_names == KEYS_SCHEMA.names + ["run"]
    # a mask of the wrong length is refused, not misapplied
    with pytest.raises(ValueError, match="a mask of 3 rows for 30"):
        history.write_segment([(parts[0][0], np.ones(3, bool))], str(tmp_path / "bad"), CFG)
    assert not [f for f in os.listdir(tmp_path) if f.startswith("bad")]


def test_copying_a_segment_holds_one_batch_not_the_segment(tmp_path, monkeypatch):
    """The run's keys are 20,000 signatures (10 MB with their band hashes): appending them to the
    index holds about one batch of them at a time."""
    rng = np.random.default_rng(5)
    bases = []
    for i in range(4):
        _keys(rng, 5000).write(str(tmp_path / f"p{i}"))
        bases.append(str(tmp_path / f"p{i}"))
    monkeypatch.setattr(history, "_BATCH", 1000)
    tracemalloc.start()
    try:
        history.write_segment([(b, None) for b in bases], str(tmp_path / "seg"), CFG, run="r1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = 20000 * (CFG.num_perm * 4 + CFG.bands * 8)
    assert peak < total / 8, (peak, total)
    assert Keys.read(str(tmp_path / "seg")).sig.shape == (20000, CFG.num_perm)


@pytest.mark.parametrize("budget", [10**9, 60, 7])
def test_first_occurrences_by_hash_range_equal_one_pass(tmp_path, budget):
    """Compaction keeps the first row of each (kind, exact hash) in the segments' order, whether
    the rows are resolved at once or scattered over hash ranges of a few rows each."""
    rng = np.random.default_rng(6)
    pool = rng.integers(0, 2**63, 40, dtype=np.int64).astype(np.uint64) * np.uint64(3)
    bases, tables = [], []
    for i, n in enumerate([50, 0, 80, 33]):
        k = _keys(rng, n, pool) if n else empty_keys(CFG)
        k.write(str(tmp_path / f"s{i}"))
        bases.append(str(tmp_path / f"s{i}"))
        tables.append(k.table)
    t = pa.concat_tables(tables)
    pairs = np.stack([t.column("kind").to_numpy().astype(np.uint64), t.column("exact").to_numpy()], axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)
    expect = np.zeros(t.num_rows, bool)
    expect[first] = True
    got = history.first_occurrences(bases, budget_items=budget)
    assert [len(m) for m in got] == [50, 0, 80, 33]
    assert np.array_equal(np.concatenate(got), expect)
    assert 40 < expect.sum() < t.num_rows                  # repeats within and across segments
    assert sorted(os.listdir(tmp_path)) == sorted(f"s{i}{s}" for i in range(4)
                                                  for s in (".keys.parquet", ".sig.npy", ".bands.npy"))


def test_compacting_segments_without_rows_keeps_the_run_column(tmp_path):
    """An index whose segments hold no rows compacts into a segment that still has the columns
    of history (the barrier reads its "run" column)."""
    for name, run in (("a", "r1"), ("b", "r2")):
        empty_keys(CFG).write(str(tmp_path / f"p{name}"))
        history.write_segment([(str(tmp_path / f"p{name}"), None)], str(tmp_path / f"run-{name}"), CFG, run=run)
    history.write_segment([(str(tmp_path / "run-a"), np.zeros(0, bool)), (str(tmp_path / "run-b"), None)],
                          str(tmp_path / "compact"), CFG)
    assert pq.read_schema(tmp_path / "compact.keys.parquet").names == KEYS_SCHEMA.names + ["run"]
