"""The decisions file: written a few shards at a time in position order, read a shard at a time."""
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from pipeline.dedup import DedupConfig, decisions, ranges, resolve
from pipeline.dedup.decisions import DECISIONS_SCHEMA, read_decisions
from pipeline.dedup.keys import Segment
from pipeline.io import atomic
from tests.dedup.support import WORDS, decide, doc, keys_of


def test_decisions_of_one_shard_are_read_from_its_row_groups(tmp_path):
    shard = np.sort(np.random.default_rng(0).integers(0, 12, 200_000))
    table = pa.table({"shard": pa.array(shard, pa.int32()), "pos": pa.array(np.arange(len(shard)))})
    path = str(tmp_path / "decisions.parquet")
    atomic.write_table(table, path, "zstd")
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    for s in (0, 7, 11, 12):
        got = read_decisions(path, s)
        assert got.equals(pq.read_table(path, filters=[("shard", "=", s)]))
        assert got.num_rows == int((shard == s).sum())

def test_decisions_are_written_a_few_shards_at_a_time_in_position_order(tmp_path, monkeypatch):
    """Both barriers write the decisions in pieces of consecutive shards (the driver never builds
    them all at once): the file holds the same table whatever the size of the pieces, sorted by
    position, and each shard's rows stay together."""
    c = DedupConfig()
    rng = random.Random(9)
    segs, pool = [], []
    for shard in range(5):
        docs = []
        for i in range(30):
            paras = [" ".join(rng.choice(WORDS) for _ in range(20)) + "."]
            if pool and i % 2:
                paras.append(rng.choice(pool))                          # a copy of an earlier paragraph
            pool.append(paras[0])
            docs.append(doc(f"s{shard}-{i}", shard, i * 100, paras))
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    whole = decide(segs, c)
    assert whole.num_rows >= 60
    order = np.lexsort((whole.column("para").to_numpy(), whole.column("pos").to_numpy(), whole.column("file").to_numpy()))
    assert np.array_equal(order, np.arange(whole.num_rows))                  # sorted by position
    monkeypatch.setattr(decisions, "DECISION_PIECE", 20)
    for name, fn in (("memory", lambda out: resolve.resolve(segs, c, out)),
                     ("ranges", lambda out: ranges.resolve(segs, c, out, tmp=str(tmp_path / "t")))):
        out = str(tmp_path / f"decisions-{name}.parquet")
        assert fn(out) == whole.num_rows
        assert pq.read_table(out).equals(whole), name
        assert pq.ParquetFile(out).metadata.num_row_groups >= 3              # pieces of about 20 drops
        for shard in range(5):
            want = whole.filter(pa.compute.equal(whole.column("shard"), shard))
            assert read_decisions(out, shard).equals(want)
    empty = str(tmp_path / "none.parquet")
    assert resolve.resolve([], c, empty) == 0                                # nothing to decide
    assert pq.read_table(empty).schema == DECISIONS_SCHEMA and read_decisions(empty, 0).num_rows == 0
