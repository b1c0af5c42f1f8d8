"""The barrier by hash ranges decides as the in-memory one, with memory bounded by its ranges."""
import os
import random

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.dedup import DedupConfig, graph, history, ranges
from pipeline.dedup import resolve as resolve_mod
from pipeline.dedup.keys import KIND_PARA, Segment
from pipeline.run.executors import LocalExecutor
from tests.dedup.support import BASE, WORDS, decide, decide_by_ranges, doc, keys_of


@pytest.mark.parametrize("keep,num_perm,bands", [("first", 128, 32), ("longest", 128, 32), ("first", 600, 300)])
def test_barrier_by_hash_ranges_decides_as_in_memory(tmp_path, monkeypatch, keep, num_perm, bands):
    """The barrier by hash ranges (bounded memory, on the workers) makes exactly the in-memory
    barrier's decisions: exact and near copies across shards, copies of two history segments (one
    holding rows of this run itself, which are ignored), paragraphs of dropped documents, both keep
    rules, more than 256 bands; whatever the number of ranges and chunks, in one process or on two
    workers."""
    rng = random.Random(8)
    c = DedupConfig(keep=keep, num_perm=num_perm, bands=bands)

    def docs_for(prefix, file, n, sources=()):
        docs = []
        for i in range(n):
            words = [rng.choice(WORDS) for _ in range(30)]
            paras = [" ".join(words[:15]) + ".", " ".join(words[15:]) + "."]
            pool = list(sources) + docs[:-3]                # also earlier documents of the same shard
            if sources and i % 3 == 0:                      # an exact or near copy of an earlier document
                src = rng.choice(pool).paragraphs
                w = src[0].text.split()
                paras = ([p.text for p in src] if i % 2 else
                         [" ".join(w[:7] + ["changed"] + w[8:]), src[1].text + " Officials said."])
            elif sources and i % 5 == 1:                    # one paragraph copied, one new
                paras = [rng.choice(pool).paragraphs[0].text, paras[1] + " More."]
            docs.append(doc(f"{prefix}-{i}", file, i, paras))
        return docs

    old = docs_for("h", 0, 30)
    for name, run, docs in (("a", "r1", old[:15]), ("b", "r2", old[15:])):
        keys_of(docs, c).write(str(tmp_path / f"part-{name}"))
        history.write_segment([(str(tmp_path / f"part-{name}"), None)], str(tmp_path / f"hist-{name}"), c, run=run)
    segs = [Segment(str(tmp_path / "hist-a"), run="r1"), Segment(str(tmp_path / "hist-b"), run="r2", exclude_run="r2")]
    shards = []
    for shard in range(3):
        docs = docs_for(f"s{shard}", shard + 1, 40, old + [d for s in shards for d in s])
        shards.append(docs)
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    stats_mem = {}
    in_memory = decide(segs, c, stats=stats_mem)
    details = "".join(in_memory.column("detail").to_pylist())
    reasons = set(in_memory.column("reason").to_pylist())
    assert in_memory.num_rows >= 30 and reasons == {"duplicate_document", "duplicate_exact", "duplicate_near"}
    assert '"kept_in": "run r1"' in details and '"run r2"' not in details and '"match": "near"' in details
    monkeypatch.setattr(ranges, "CHUNK_RECORDS", 100)
    for per_range in (10**9, 300, 40):
        stats = {}
        got = decide_by_ranges(segs, c, tmp=str(tmp_path / f"t{per_range}"), stats=stats, range_records=per_range)
        assert got.equals(in_memory), per_range
        assert stats["cluster_sizes"] == stats_mem["cluster_sizes"]
        assert not os.listdir(tmp_path / f"t{per_range}")                     # its files are removed
    if (keep, bands) == ("first", 32):
        ex = LocalExecutor(2)
        try:
            stats = {}
            got = decide_by_ranges(segs, c, parallel_map=ex.map, tmp=str(tmp_path / "tw"), stats=stats,
                                   range_records=40)
        finally:
            ex.close()
        assert got.equals(in_memory) and stats["worker_cpu"] > 0
    # history after this run's shards would rank it after them: refused by both
    for fn in (decide, lambda s, cfg: decide_by_ranges(s, cfg, tmp=str(tmp_path / "tx"))):
        with pytest.raises(ValueError, match="history index's segments must come before"):
            fn(segs[2:] + segs[:2], c)

def test_barrier_by_ranges_leaves_no_files_and_holds_none_open(tmp_path, monkeypatch):
    """A task that fails midway leaves no temporary file of the barrier behind (also those of
    tasks that never reported their names), and reading columns by row group keeps no segment
    file open between reads (thousands of shards would exhaust the descriptors)."""
    c = DedupConfig()
    segs = []
    for shard in range(30):
        docs = [doc(f"s{shard}-{i}", shard, i, [BASE[(shard + i) % 3] + f" Item {shard}-{i} of the day."])
                for i in range(5)]
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    fds = len(os.listdir("/proc/self/fd"))
    lazy = ranges._Lazy(segs)
    assert lazy.col("pos", np.array([0, 150, 299])).tolist() == [0, 0, 4]
    assert len(os.listdir("/proc/self/fd")) == fds
    calls = []

    def failing(*a):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real(*a)
    real = ranges.rank_keys
    monkeypatch.setattr(ranges, "rank_keys", failing)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "decisions.parquet").write_bytes(b"not ours")
    with pytest.raises(RuntimeError, match="worker lost"):
        ranges.resolve(segs, c, str(tmp_path / "out.parquet"), tmp=str(tmp_path / "t"))
    assert os.listdir(tmp_path / "t") == ["decisions.parquet"] and not (tmp_path / "out.parquet").exists()

def test_a_text_in_every_document_sends_one_record_per_shard_to_its_range(tmp_path):
    """Exact copies within a shard are reduced to its best-ranked one before the scatter (the
    others are paired with it there), so a boilerplate paragraph in every document does not fill
    one range with all its copies; the decisions stay those of the in-memory barrier."""
    c = DedupConfig()
    rng = random.Random(4)
    segs = []
    for shard in range(3):
        docs = [doc(f"s{shard}-{i}", shard, i, [" ".join(rng.choice(WORDS) for _ in range(25)) + ".",
                                                 "All rights reserved by the publisher."]) for i in range(40)]
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    (tmp_path / "t").mkdir()
    chunks, _, local, _ = ranges.scatter_task(segs[0].base, 0, 0, False, 3, "", KIND_PARA, "exact", 1,
                                                    str(tmp_path / "t"), "first", c.bands, "", "", "x:1")
    rec = np.fromfile(chunks[0][0], np.uint64).reshape(-1, 3)
    assert len(rec) == 41                                   # 40 distinct paragraphs and one boilerplate
    triples = np.fromfile(local, np.int64).reshape(-1, 3)  # its other copies: (band 0, local head, member)
    flagged = rec[(rec[:, 2] & np.uint64(1 << 53)) != 0]     # the one record that stands for them
    assert len(triples) == 39 and len(flagged) == 1
    assert set(triples[:, 0].tolist()) == {0} and set(triples[:, 1].tolist()) == {int(flagged[0, 2]) - (1 << 53)}
    want = decide(segs, c)
    assert decide_by_ranges(segs, c, tmp=str(tmp_path / "t2")).equals(want)
    assert sum(r == "duplicate_exact" for r in want.column("reason").to_pylist()) == 119

@pytest.mark.parametrize("keep", ["first", "longest"])
def test_a_template_in_every_document_sends_one_record_per_band_and_shard(tmp_path, monkeypatch, keep):
    """Near copies within a shard (a template with one word changed in every document) share
    many of their band hashes: each (band, hash) is reduced to the shard's best-ranked item
    before the scatter, and the others are paired with it there, so that a template repeated in
    millions of documents does not fill one range. The candidate pairs the components are made
    of are exactly the in-memory barrier's (decisions alone would hide a wrong head), whatever
    the number of ranges, also when the heads are joined in rounds of bands."""
    c = DedupConfig(keep=keep)
    rng = random.Random(5)
    template = ("The annual report of the regional water company shows that prices rose again this year "
                "while the number of customers stayed the same across the whole region").split()
    segs = []
    for shard in range(3):
        docs = []
        for i in range(40):
            variant = list(template)
            variant[rng.randrange(len(variant))] = f"{rng.choice(WORDS)}{shard}x{i}"
            if i % 4 == 0:
                variant.append("Officials said.")                        # longer: keep longest prefers it
            docs.append(doc(f"s{shard}-{i}", shard, i, [" ".join(rng.choice(WORDS) for _ in range(25)) + ".",
                                                         " ".join(variant)]))
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    (tmp_path / "t").mkdir()
    chunks, cands, local, _ = ranges.scatter_task(segs[0].base, 0, 0, False, 3, "", KIND_PARA, "bands",
                                                        1, str(tmp_path / "t"), keep, c.bands, "", "", "x:1")
    rec = np.fromfile(chunks[0][0], np.uint64).reshape(-1, 3)
    band = rec[:, 2] >> np.uint64(54)
    triples = np.fromfile(local, np.int64).reshape(-1, 3)
    assert len(rec) + len(triples) == 80 * c.bands              # each candidate's every band, once
    assert len({(int(b), int(h)) for b, h in zip(band, rec[:, 0])}) == len(rec)   # one record per hash
    assert len(triples) > 12 * c.bands         # per band, many of the 40 variants share the same hash
    flagged = rec[(rec[:, 2] & np.uint64(1 << 53)) != 0, 2]
    heads = {(int(w >> np.uint64(54)), int(w & np.uint64((1 << 53) - 1))) for w in flagged}
    assert {(int(b), int(h)) for b, h, _ in triples} == heads     # every triple's head: a flagged record of its band
    seen = []
    real = graph.near_drops

    def spy(corpus, e, *rest):
        seen.append({tuple(p) for p in e.tolist()})
        return real(corpus, e, *rest)
    monkeypatch.setattr(resolve_mod, "near_drops", spy)
    monkeypatch.setattr(ranges, "near_drops", spy)
    want = decide(segs, c)
    pairs, seen[:] = list(seen), []
    assert len(pairs) == 2 and len(pairs[1]) > 100              # documents, then paragraphs
    assert sum(r == "duplicate_near" for r in want.column("reason").to_pylist()) >= 100
    for per_range, head_rows in ((10**9, 1 << 23), (500, 1 << 23), (500, 7)):
        monkeypatch.setattr(ranges, "HEAD_ROWS", head_rows)
        got = decide_by_ranges(segs, c, tmp=str(tmp_path / f"t{per_range}"), range_records=per_range)
        assert got.equals(want) and seen == pairs, (per_range, head_rows)
        seen.clear()

def test_a_record_carries_band_numbers_up_to_the_largest_the_config_allows(tmp_path):
    """A record packs the band number and a head flag above the item's id: with the 512 bands the
    config allows every band number comes back as written, next to the right id and hash (8 bits
    would fold band 256 onto band 0, which the decisions, salted per band, would not show), and
    a repeated paragraph's record is flagged in every band; more bands than a record holds are
    refused."""
    from pipeline.config import from_dict
    with pytest.raises(Exception, match="'dedup.bands' must be <= 512"):
        from_dict({"dedup": {"num_perm": 1024, "bands": 1024}})                     # the config stops at 512
    c = DedupConfig(num_perm=1024, bands=512)
    rng = random.Random(6)
    texts = [" ".join(rng.choice(WORDS) for _ in range(20)) + "." for _ in range(4)]
    docs = [doc(f"d{i}", 0, i, [t]) for i, t in enumerate(texts + texts[1:2])]    # d4 repeats d1
    keys_of(docs, c).write(str(tmp_path / "00000"))
    (tmp_path / "t").mkdir()
    chunks, _, local, _ = ranges.scatter_task(str(tmp_path / "00000"), 0, 1000, False, 1, "", KIND_PARA,
                                                    "bands", 1, str(tmp_path / "t"), "first", 512, "", "", "x:1")
    rec = np.fromfile(chunks[0][0], np.uint64).reshape(-1, 3)
    assert len(rec) == 4 * 512                                   # d4's paragraph is d1's in every band
    band = (rec[:, 2] >> np.uint64(54)).astype(np.int64)
    flag = (rec[:, 2] >> np.uint64(53)) & np.uint64(1)
    gid = (rec[:, 2] & np.uint64((1 << 53) - 1)).astype(np.int64)
    assert sorted(band.tolist()) == sorted(list(range(512)) * 4)
    keys = np.load(str(tmp_path / "00000.bands.npy"))          # bands x rows
    paras = np.flatnonzero(pq.read_table(str(tmp_path / "00000.keys.parquet")).column("kind").to_numpy()
                           == KIND_PARA) + 1000
    assert sorted(set(gid.tolist())) == paras[:4].tolist()
    assert np.array_equal(rec[:, 0], keys[band, gid - 1000])       # each hash is its band's, of its item
    assert sorted(band[flag == 1].tolist()) == list(range(512)) and set(gid[flag == 1].tolist()) == {paras[1]}
    triples = np.fromfile(local, np.int64).reshape(-1, 3)
    assert sorted(triples[:, 0].tolist()) == list(range(512))
    assert set(triples[:, 1].tolist()) == {paras[1]} and set(triples[:, 2].tolist()) == {paras[4]}
    with pytest.raises(ValueError, match="1024 bands do not fit"):
        ranges.scatter_task(str(tmp_path / "00000"), 0, 1000, False, 1, "", KIND_PARA, "bands", 1,
                                  str(tmp_path / "t"), "first", 1024, "", "", "x:1")
