"""MinHash estimators against true Jaccard and datasketch; clustering and keeper rules."""
import json
import os
import pickle
import random
import re
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq
import pytest
import xxhash

from pipeline.config import DedupConfig
from pipeline.dedup import MinHasher, Segment, components, exact_hash, keys_for_documents, resolve, shingle_hashes, tokenize, tokens
from pipeline.model import Document, Paragraph, Sentence

WORDS = ("council river storm school road rain family shelter crew resident bridge minister union "
         "strike talks train service week month year city centre region officials police report "
         "market price energy water health hospital doctor patient court judge law vote election").split()


def _pair(rng, n_shared, n_a, n_b):
    tag = rng.getrandbits(64)          # fresh elements for every pair: independent estimates
    shared = [f"{tag}s{i}" for i in range(n_shared)]
    a = set(shared + [f"{tag}a{i}" for i in range(n_a)])
    b = set(shared + [f"{tag}b{i}" for i in range(n_b)])
    return a, b, len(a & b) / len(a | b)


def _sig(h, elements):
    flat = np.array([xxhash.xxh3_64_intdigest(e.encode()) for e in sorted(elements)], np.uint64)
    return h.signatures(flat, np.array([0, len(flat)], np.uint64))[0]


@pytest.mark.parametrize("backend", ["affine32", "rensa", "numpy", "datasketch"])
def test_estimator_tracks_true_jaccard(backend):
    rng = random.Random(3)
    h = MinHasher(backend, 256, 1)
    errors = []
    for _ in range(60):
        a, b, true = _pair(rng, rng.randint(5, 200), rng.randint(0, 200), rng.randint(0, 200))
        errors.append(float((_sig(h, a) == _sig(h, b)).mean()) - true)
    rmse = float(np.sqrt(np.mean(np.square(errors))))
    # theoretical standard error of the estimate is <= 0.5 / sqrt(256) = 0.031
    assert rmse < 0.045, rmse
    assert abs(float(np.mean(errors))) < 0.02


def test_numpy_signatures_equal_datasketch():
    from datasketch import MinHash
    flat, offsets = shingle_hashes(tokenize(BASE + [""]), 3)
    ours = MinHasher("numpy", 128, 7).signatures(flat, offsets)
    lib = MinHasher("datasketch", 128, 7).signatures(flat, offsets)
    assert np.array_equal(ours, lib)
    m = MinHash(num_perm=128, seed=7, hashfunc=int, scheme="affine32")
    m.update_batch([int(x) & 0xFFFFFFFF for x in flat[int(offsets[1]):int(offsets[2])]])
    assert np.array_equal(ours[1], m.hashvalues.astype(np.uint32))
    assert (ours[-1] == 0xFFFFFFFF).all()          # no shingles: empty signature
    assert np.array_equal(MinHasher("affine32", 128, 7).signatures(flat, offsets), ours)


def test_permutations_are_datasketchs():
    from datasketch import MinHash

    from pipeline.dedup import affine32_permutations
    for num_perm, seed in ((128, 1), (256, 7), (16, 12345)):
        a, b = affine32_permutations(num_perm, seed)
        lib = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, lib[0]) and np.array_equal(b, lib[1])


def test_the_compiled_kernel_is_built_and_equals_numpy(monkeypatch):
    # `make install` builds pipeline/_native.c; without it the default backend still gives these
    # values, from numpy, ~10x slower (and the run log says so), so CI insists on it.
    from pipeline import dedup
    assert dedup._native is not None, "pipeline._native was not built: is a C compiler installed?"
    rng = np.random.default_rng(5)
    flat = rng.integers(0, 2**64, 5000, dtype=np.uint64)
    cuts = np.sort(rng.integers(0, len(flat), 300)).astype(np.uint64)
    offsets = np.r_[np.uint64(0), cuts, cuts[:20], np.uint64(len(flat))].astype(np.uint64)   # empty rows too
    offsets.sort()
    for perms, seed in ((128, 1), (256, 9), (16, 3)):
        fast = MinHasher("affine32", perms, seed).signatures(flat, offsets)
        slow = MinHasher("numpy", perms, seed).signatures(flat, offsets)
        assert fast.shape == (len(offsets) - 1, perms) and np.array_equal(fast, slow)
    kernel = MinHasher("affine32", 128, 1).signatures(flat, offsets)
    monkeypatch.setattr(dedup, "_native", None)                    # an install without a compiler
    assert np.array_equal(MinHasher("affine32", 128, 1).signatures(flat, offsets), kernel)
    monkeypatch.undo()
    # rows are read between their offsets only, wherever the first one starts
    part = MinHasher("affine32", 128, 1).signatures(flat, offsets[10:40])
    assert np.array_equal(part, MinHasher("affine32", 128, 1).signatures(flat, offsets)[10:39])
    h = MinHasher("affine32", 128, 1)
    out = np.empty((2, 128), np.uint32)
    with pytest.raises(ValueError, match="offsets"):
        dedup._native.affine32(flat, np.array([0, 10, 6000], np.uint64), h._a, h._b, out)
    with pytest.raises(ValueError, match="sizes"):
        dedup._native.affine32(flat, np.array([0, 10, 20], np.uint64), h._a, h._b, np.empty((3, 128), np.uint32))


def test_shingles_are_token_ngrams_hashed_by_content():
    toks = tokenize(["The council said", "a b c d", "the COUNCIL, said!", "x", "", "--"])
    assert list(toks.ntok) == [3, 4, 3, 1, 0, 0]
    flat, offsets = shingle_hashes(toks, 3)
    assert list(np.diff(offsets.astype(np.int64))) == [1, 2, 1, 1, 0, 0]
    assert flat[0] == flat[3] and flat[1] != flat[2]      # same normalised tokens, same hash
    again, _ = shingle_hashes(tokenize(["a b c d"]), 3)
    assert list(again) == list(flat[1:3])                 # independent of position in the batch
    swapped, _ = shingle_hashes(tokenize(["said council the"]), 3)
    assert swapped[0] != flat[0]                          # order matters


def test_normalised_exact_hash():
    assert exact_hash("The U.S. says, “no”!") == exact_hash("the us says no")
    assert exact_hash("Der Rhein") != exact_hash("Der Main")
    assert exact_hash("ab c") == exact_hash("a bc")       # only word characters count
    toks = tokenize(["Der Rhein.", "Der Main!"])
    assert toks.exact(0, 2) == exact_hash("derrheindermain")   # joined texts
    toks = tokenize(["Der Rhein.", "", "Москва — столица.", "東京は大きい", "!!", "Der Main!"])
    lo, hi = np.array([0, 0, 1, 2, 3, 4, 5, 1]), np.array([1, 6, 2, 3, 4, 5, 6, 1])
    assert toks.exact_many(lo, hi).tolist() == [toks.exact(a, b) for a, b in zip(lo, hi)]
    assert toks.exact_many(lo[:0], hi[:0]).dtype == np.uint64


def test_tokens_in_several_scripts():
    norm, toks, cjk = tokens("经过一年的改造，市中心公园于周六重新向市民开放。")
    assert cjk and toks[:5] == list("经过一年的") and norm == "".join(toks)
    assert tokens("The U.S. says, no!") == ("theussaysno", ["the", "u", "s", "says", "no"], False)
    # combining marks stay inside their word (Devanagari vowel signs, Arabic harakat)
    assert tokens("हिन्दी भाषा")[1] == ["हिन्दी", "भाषा"]
    assert tokens("Привет, МИР")[1] == ["привет", "мир"]
    assert tokens("مَرْحَبًا بِكُم")[1] == ["مَرْحَبًا", "بِكُم"]


def _doc(doc_id, file, pos, paras, lang="en"):
    text = "\n\n".join(paras)
    d = Document(doc_id, text, doc_id, (file, pos), "{}", lang=lang)
    start = 0
    for i, p in enumerate(paras):
        d.paragraphs.append(Paragraph(i, start, p, [Sentence(0, len(p))]))
        start += len(p) + 2
    return d


BASE = [
    "Heavy rain forced the closure of more than forty schools on Monday, local officials said, after rivers rose quickly overnight.",
    "The regional council said emergency crews had rescued dozens of residents from flooded homes near the river on Sunday.",
    "Forecasters expect more rain later in the week, and the council has opened two shelters for families who cannot return home.",
]


def _resolve(docs_by_shard, **cfg):
    c = DedupConfig(**cfg)
    work = tempfile.mkdtemp()
    segs = []
    for shard, docs in enumerate(docs_by_shard):
        keys_for_documents(docs, c).write(os.path.join(work, f"{shard:05d}"))
        segs.append(Segment(os.path.join(work, f"{shard:05d}"), shard=shard))
    return resolve(segs, c).to_pylist()


def test_a_segment_without_its_files_is_an_error(tmp_path):
    """The barrier never skips a segment whose key files are gone (in memory or by ranges): it
    would keep the copies that segment holds."""
    from pipeline import dedup, dedup_ranges
    c = DedupConfig()
    segs = []
    for shard, paras in enumerate([BASE, BASE]):
        keys_for_documents([_doc(f"d{shard}", shard, 0, paras)], c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    assert resolve(segs, c).column("reason").to_pylist() == ["duplicate_document"]     # the second copy
    for suffix in dedup.KEY_FILES:
        path = tmp_path / f"00001{suffix}"
        saved = path.read_bytes()
        path.unlink()
        for fn in (lambda: resolve(segs, c), lambda: dedup.barrier_items(segs),
                   lambda: dedup_ranges.resolve(segs, c, tmp=str(tmp_path))):
            with pytest.raises(dedup.MissingKeys, match=re.escape(f"shard 1's dedup keys: {path} is missing")):
                fn()
        path.write_bytes(saved)
    err = pickle.loads(pickle.dumps(dedup.MissingKeys("a segment: x is missing", True)))   # from a worker
    assert str(err) == "a segment: x is missing" and err.hist


def test_exact_and_near_across_shards_keep_first():
    near = [p.replace("said", "stated").replace("more than", "over") for p in BASE]
    a = _doc("a", 0, 0, BASE)
    b = _doc("b", 1, 0, ["An unrelated headline about markets"] + [BASE[1]])          # exact paragraph
    c = _doc("c", 2, 0, near)                                                          # near document
    rows = _resolve([[a], [b], [c]])
    by = {(r["shard"], r["para"]): r for r in rows}
    assert by[(2, -1)]["reason"] == "duplicate_document"
    det = json.loads(by[(2, -1)]["detail"])
    assert det["kept_doc_id"] == "a" and det["match"] == "near" and 0.3 < det["similarity"] < 1
    assert by[(1, 1)]["reason"] == "duplicate_exact"
    assert json.loads(by[(1, 1)]["detail"]) == {"kept_doc_id": "a", "kept_para_idx": 1, "kept_in": "this run",
                                                "match": "exact", "similarity": 1.0}
    assert len(rows) == 2


def test_keep_longest_rule():
    short = _doc("short", 0, 0, BASE[:2])
    long = _doc("long", 1, 0, BASE)
    rows = _resolve([[short], [long]], keep="longest", paragraphs=True)
    assert {(r["shard"], r["para"], r["reason"]) for r in rows} == {(0, -1, "duplicate_document")}
    rows = _resolve([[short], [long]], keep="first")
    assert {(r["shard"], r["para"], r["reason"]) for r in rows} == {(1, -1, "duplicate_document")}


def test_same_topic_written_independently_is_kept():
    other = _doc("o", 1, 0, [
        "Schools across the region stayed shut on Monday because of flooding, according to the authorities.",
        "Rescue teams helped many people leave their houses close to the river during the weekend.",
        "More storms are forecast and two emergency shelters have been opened by the local council.",
    ])
    assert _resolve([[_doc("a", 0, 0, BASE)], [other]]) == []


def test_decisions_do_not_depend_on_shard_layout():
    rng = random.Random(5)
    docs = []
    for i in range(40):
        paras = [" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(3)]
        if i % 5 == 0 and docs:
            paras[1] = docs[rng.randrange(len(docs))].paragraphs[0].text
        docs.append(_doc(f"d{i}", 0, i, paras))
    one = _resolve([docs])
    many = _resolve([docs[i:i + 7] for i in range(0, 40, 7)])
    strip = lambda rows: sorted((r["file"], r["pos"], r["para"], r["reason"], r["detail"]) for r in rows)
    assert strip(one) == strip(many) and len(one) >= 5


def test_band_pass_on_workers_gives_the_same_decisions(monkeypatch, tmp_path):
    """The barrier's LSH band pass spread over two worker processes decides exactly as in one, and
    so does the Jaccard of the pairs when their signatures do not fit the driver's buffer and are
    scored on the workers, a few pairs per task (by either barrier)."""
    from pipeline import dedup
    from pipeline.executors import LocalExecutor
    rng = random.Random(5)
    shards = []
    for shard in range(3):
        docs = []
        for i in range(40):
            words = [rng.choice(WORDS) for _ in range(30)]
            paras = [" ".join(words[:15]) + ".", " ".join(words[15:]) + "."]
            if i % 4 == 0 and shards:                       # near copy of an earlier document
                src = shards[0][i].paragraphs
                w = src[0].text.split()
                paras = [" ".join(w[:7] + ["changed"] + w[8:]), src[1].text + " Officials said."]
            docs.append(_doc(f"s{shard}-{i}", shard, i, paras))
        shards.append(docs)
    c = DedupConfig()
    segs = []
    for shard, docs in enumerate(shards):
        keys_for_documents(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    serial = resolve(segs, c)
    monkeypatch.setattr(dedup, "PARALLEL_MIN_ITEMS", 1)
    ex = LocalExecutor(2)
    try:
        stats = {}
        parallel = resolve(segs, c, parallel_map=ex.map, tmp=str(tmp_path / "tmp"), stats=stats)
    finally:
        ex.close()
    assert serial.num_rows >= 20
    assert "near" in "".join(serial.column("detail").to_pylist())
    assert parallel.equals(serial)
    assert stats["worker_cpu"] > 0
    assert not list((tmp_path / "tmp").iterdir())          # the hand-off file is removed
    from pipeline import dedup_ranges
    monkeypatch.setattr(dedup, "SIG_BUFFER", 0)
    monkeypatch.setattr(dedup, "PAIRS_PER_TASK", 3)
    calls = []
    task = dedup.jaccard_task
    monkeypatch.setattr(dedup, "jaccard_task", lambda *a: calls.append(a[4] - a[3]) or task(*a))
    assert resolve(segs, c).equals(serial)                  # chunked in the driver: no tasks
    assert not calls
    reader = dedup._Corpus(segs)
    pick = np.random.default_rng(3).integers(0, len(reader), (2, 40))      # unsorted, repeats
    serial_map = lambda fn, args: [fn(*a) for a in args]
    want = reader.jaccard(pick[0], pick[1])
    assert 0 < want.mean() < 1
    assert np.array_equal(reader._jaccard_on_workers(pick[0], pick[1], serial_map, str(tmp_path / "j")), want)
    assert len(calls) == 14
    calls.clear()
    def failing_map(fn, args):
        if fn is dedup.jaccard_task:
            raise RuntimeError("a worker died")
        return serial_map(fn, args)

    monkeypatch.setattr(dedup, "task_cpu", lambda t0, driver: 1.0)     # each task's CPU, as reported
    ex = LocalExecutor(2)
    try:
        for name, fn in (("memory", resolve), ("ranges", dedup_ranges.resolve)):
            stats = {}
            got = fn(segs, c, parallel_map=serial_map, tmp=str(tmp_path / name), stats=stats)
            assert got.equals(serial), name
            assert len(calls) >= 4 and max(calls) == 3, name         # several tasks of 3 pairs
            with monkeypatch.context() as m:                          # the same without Jaccard tasks
                m.setattr(dedup, "SIG_BUFFER", 1 << 30)
                without = {}
                fn(segs, c, parallel_map=serial_map, tmp=str(tmp_path / name), stats=without)
            assert stats["worker_cpu"] - without["worker_cpu"] == len(calls), name      # each one counted
            calls.clear()
            with pytest.raises(RuntimeError, match="a worker died"):
                fn(segs, c, parallel_map=failing_map, tmp=str(tmp_path / name))
            assert not list((tmp_path / name).iterdir()), name      # the pairs file is removed
            monkeypatch.setattr(dedup, "jaccard_task", task)       # the workers need it by name
            got = fn(segs, c, parallel_map=ex.map, tmp=str(tmp_path / name), stats=stats)
            monkeypatch.setattr(dedup, "jaccard_task", lambda *a: calls.append(a[4] - a[3]) or task(*a))
            assert got.equals(serial) and stats["worker_cpu"] > 0, name
            assert not list((tmp_path / name).iterdir()), name
    finally:
        ex.close()


def _components_by_search(edges, n):
    """Reference: smallest node of each node's component, by breadth-first search."""
    adj = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    label = [-1] * n
    for start in range(n):
        if label[start] < 0:
            seen, todo = [start], [start]
            label[start] = start
            while todo:
                for y in adj[todo.pop()]:
                    if label[y] < 0:
                        label[y] = start
                        seen.append(y)
                        todo.append(y)
    return np.array(label)


def test_components_match_a_graph_search():
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 300))
        if trial % 3 == 0:                       # one long chain in random order: the worst case
            p = rng.permutation(n)
            edges = np.stack([p[:-1], p[1:]], axis=1)
        else:
            edges = rng.integers(0, n, (int(rng.integers(0, 2 * n)), 2))
        assert components(edges.astype(np.int64), n).tolist() == _components_by_search(edges, n).tolist()


def test_decisions_of_one_shard_are_read_from_its_row_groups(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline import write
    shard = np.sort(np.random.default_rng(0).integers(0, 12, 200_000))
    table = pa.table({"shard": pa.array(shard, pa.int32()), "pos": pa.array(np.arange(len(shard)))})
    path = str(tmp_path / "decisions.parquet")
    write.write_table(table, path, "zstd")
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    for s in (0, 7, 11, 12):
        got = write.read_decisions(path, s)
        assert got.equals(pq.read_table(path, filters=[("shard", "=", s)]))
        assert got.num_rows == int((shard == s).sum())


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "numpy"])
def test_signature_reads_and_chunked_jaccard_match_memory(tmp_path, monkeypatch, kernel):
    """The barrier reads signatures back by dense spans or sparse gathers, and estimates the
    Jaccard of pairs in memory-bounded chunks (sorted by their first item); whatever the chunk
    size, order of the pairs or repeats, it equals the count of agreeing values in memory, with
    the compiled kernel and without it (an install without a compiler)."""
    from pipeline import dedup
    if not kernel:
        monkeypatch.setattr(dedup, "_native", None)
    rng = random.Random(11)
    c = DedupConfig()
    keys = []
    for shard in range(4):
        docs = [_doc(f"s{shard}-{i}", shard, i, [" ".join(rng.choice(WORDS) for _ in range(12)) + "."
                                                 for _ in range(rng.randint(1, 4))]) for i in range(60)]
        k = keys_for_documents(docs, c)
        k.write(str(tmp_path / f"{shard:05d}"))
        keys.append(k)
    corpus = dedup._Corpus([Segment(str(tmp_path / f"{s:05d}"), shard=s) for s in range(4)])
    every = np.concatenate([k.sig for k in keys])
    n = len(every)
    assert n == len(corpus) and corpus.sig_width() == c.num_perm
    for idx in (np.arange(n), np.sort(np.array(rng.sample(range(n), 9))), np.array([3, 3, 3, n - 1, n - 1])):
        assert np.array_equal(corpus.sigs(idx), every[idx])          # dense spans, sparse rows, repeats
    nprng = np.random.default_rng(3)
    a, b = nprng.integers(0, n, 5000), nprng.integers(0, n, 5000)
    a[:50], b[:50] = b[50:100], a[50:100]                              # some pairs twice, reversed
    truth = np.count_nonzero(every[a] == every[b], axis=1) / c.num_perm
    for max_bytes in (1, 4096, 5000, 64 << 20):                        # a sub-chunk per chunk ... one chunk
        for sub in (3, 7, 1 << 14):
            assert np.array_equal(corpus.jaccard(a, b, max_bytes=max_bytes, sub=sub), truth)
        order = np.argsort(a, kind="stable")
        assert np.array_equal(corpus.jaccard(a[order], b[order], max_bytes=max_bytes), truth[order])
    assert len(corpus.jaccard(a[:0], b[:0])) == 0


def test_signature_agreement_kernel_equals_numpy():
    """The compiled kernel behind the barrier's Jaccard estimates gives numpy's values bit for bit
    (any width, repeated and reversed pairs, none), and rejects any index that names no row and
    sizes that do not agree (it reads raw buffers)."""
    from pipeline import dedup
    assert dedup._native is not None, "pipeline._native was not built (or is stale: run make install)"
    rng = np.random.default_rng(5)
    for w, na, nb, k in ((128, 300, 200, 4000), (1, 5, 7, 50), (100, 40, 40, 0), (64, 1, 1, 3)):
        sa = rng.integers(0, 4, (na, w), dtype=np.uint32)            # few values: many agree
        sb = np.concatenate([sa[: min(na, nb)], rng.integers(0, 4, (nb - min(na, nb), w), dtype=np.uint32)])
        ia, ib = rng.integers(0, na, k), rng.integers(0, nb, k)
        fast, slow = np.full(k, -1.0), np.full(k, -1.0)
        dedup._native.agreement(sa, ia, sb, ib, w, fast)
        for sub in (1, 7, 1 << 14):
            dedup._agreement_numpy(sa, ia, sb, ib, slow, sub)
            assert np.array_equal(fast, slow)
        assert k == 0 or 0.0 <= fast.min() <= fast.max() <= 1.0         # every pair written (not -1)
    sig = rng.integers(0, 4, (10, 8), dtype=np.uint32)
    good, two = np.array([0, 9]), np.empty(2)
    for ia, ib in (([0, 10], good), (good, [0, 10]), ([-1, 0], good), (good, [0, -1])):
        with pytest.raises(IndexError):
            dedup._native.agreement(sig, np.array(ia), sig, np.array(ib), 8, two)
    for ib, width, out in ((np.array([0]), 8, two), (good, 8, np.empty(3)), (good, 3, two), (good, 0, two)):
        with pytest.raises(ValueError):
            dedup._native.agreement(sig, good, sig, ib, width, out)
    with pytest.raises(ValueError):                                   # signatures of two widths
        dedup._agreement(sig, good, sig.reshape(20, 4), good, two)


def test_band_hash_kernel_equals_numpy():
    """The compiled band hashes are numpy's, bit for bit, for any number of bands (a row, one value
    per band, all values in one band) and rows; sizes that do not agree are refused."""
    from pipeline import dedup
    assert dedup._native is not None, "pipeline._native was not built (or is stale: run make install)"
    rng = np.random.default_rng(11)
    for rows, width, bands in ((2000, 128, 32), (1, 128, 16), (37, 128, 128), (5, 12, 1), (300, 64, 8)):
        sig = rng.integers(0, 1 << 32, (rows, width), dtype=np.uint64).astype(np.uint32)
        sig[rows // 2:] = sig[: rows - rows // 2]                       # equal rows: equal hashes
        fast, slow = dedup.band_hashes(sig, bands), dedup._band_hashes_numpy(sig, bands)
        assert fast.shape == slow.shape == (bands, rows) and fast.dtype == slow.dtype == np.uint64
        assert np.array_equal(fast, slow) and fast.flags.c_contiguous
        assert np.array_equal(dedup.band_hashes(np.asfortranarray(sig), bands), slow)     # copied for the kernel
        assert len(np.unique(fast[0])) == rows - rows // 2             # distinct rows: distinct hashes
    assert dedup.band_hashes(np.zeros((0, 128), np.uint32), 32).shape == (32, 0)
    sig = np.zeros((4, 8), np.uint32)
    for width, bands, out in ((8, 3, np.empty((3, 4), np.uint64)), (8, 2, np.empty((2, 5), np.uint64)),
                              (0, 2, np.empty((2, 4), np.uint64)), (8, 0, np.empty(0, np.uint64)),
                              (6, 2, np.empty((2, 5), np.uint64)), (8, 2, np.empty(7, np.uint8))):
        with pytest.raises(ValueError):
            dedup._native.bands(sig, width, bands, out)


def test_decision_details_are_json_whatever_the_kept_ids():
    """The barrier writes each drop's detail column by column; a kept document id with quotes,
    backslashes, control characters or other scripts still gives the JSON ``json.dumps`` writes."""
    ids = ['plain-1', 'say "hi"\\there', 'tab\tand\nnewline\x01', 'Zürich/東京 ✓']
    firsts = BASE + ["Shares of the largest carmaker fell sharply after it cut its sales forecast for the year."]
    docs = [_doc(i, 0, k, [firsts[k], f"Unrelated closing line {k} of the item."]) for k, i in enumerate(ids)]
    copies = [_doc(f"copy-{k}", 1, k, [d.paragraphs[0].text]) for k, d in enumerate(docs)]
    rows = _resolve([docs, copies])
    kept = {json.loads(r["detail"])["kept_doc_id"] for r in rows}
    assert kept == set(ids) and len(rows) == 4
    for r in rows:
        det = json.loads(r["detail"])
        assert r["detail"] == json.dumps(det, ensure_ascii=False, sort_keys=True)
        assert 0.5 <= det["similarity"] <= 1 and det["match"] in ("exact", "near")


def test_a_barrier_that_may_not_fit_in_memory_runs_by_ranges_or_is_announced(monkeypatch, tmp_path):
    """Before the barrier the run estimates its memory from the number of documents and
    paragraphs in the key files. When that is more than half of what is available, ``auto`` runs
    the barrier by hash ranges on the workers, with the same output; ``memory`` keeps it in the
    driver and says it may not fit when the machine has less (a process killed for memory would
    not); otherwise nothing is said."""
    from conftest import file_bytes, make_config

    from pipeline import dedup, runner
    src = tmp_path / "in.jsonl"
    texts = ["The council met on Monday to discuss the budget.\n\nIt approved the plan for the new school.",
             "Shares of the carmaker fell after it cut its forecast.",
             "The council met on Monday to discuss the budget.\n\nIt approved the plan for the new school."]
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)),
                   encoding="utf-8")
    outputs = {}
    need = 8 * dedup.BARRIER_BYTES_PER_ITEM       # 3 documents and their 5 paragraphs
    for mode, avail, said in (("memory", 1000, "warning"), ("memory", None, None), ("memory", 1 << 40, None),
                              ("auto", 1000, "ranges"), ("auto", 2 * need - 1, "ranges"), ("auto", 2 * need, None),
                              ("auto", None, None), ("ranges", 1 << 40, None)):
        monkeypatch.setattr(dedup, "available_memory", lambda avail=avail: avail)
        lines = []
        out = tmp_path / f"out-{mode}-{avail}"
        r = runner.run(make_config([src], out, **{"output.state": str(tmp_path / f"state-{mode}-{avail}"),
                                                  "executor.barrier": mode}), log=lines.append)
        outputs[(mode, avail)] = file_bytes(out)
        assert r.stats["timing"]["barrier"] == ("ranges" if "ranges" in (said, mode) else "memory")
        # one range here, whose largest pass holds the band records of 3 candidates (32 bands each)
        assert r.stats["timing"].get("barrier_largest_range") == (96 if r.stats["timing"]["barrier"] == "ranges" else None)
        assert r.stats["ledger"]["by_reason"]["duplicate_document"]["rows"] == 1
        warnings = [i for i, line in enumerate(lines) if line.startswith("warning: the dedup barrier")]
        switched = [i for i, line in enumerate(lines) if line.endswith("the barrier runs by hash ranges on the workers")]
        assert (len(warnings), len(switched)) == ((said == "warning"), (said == "ranges")), lines
        if said:            # said before the barrier runs
            line = lines[(warnings or switched)[0]]
            assert "8 documents and paragraphs" in line, line
            assert (warnings or switched)[0] < lines.index("dedup: 1 duplicate(s) across 1 shard(s)")
    assert len({tuple(sorted(v.items())) for v in outputs.values()}) == 1       # the same bytes every way
    # a later run counts the history index's rows too (the first run's) beside its own
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "x", "text": "A new bridge over the river opens to traffic on Friday."}) + "\n",
                     encoding="utf-8")
    other.write_text(other.read_text(encoding="utf-8") + json.dumps({"id": "y", "text": texts[2]}) + "\n",
                     encoding="utf-8")          # and a copy of what the first night emitted
    import shutil
    shutil.copytree(tmp_path / "state-memory-1000", tmp_path / "state-copy")
    monkeypatch.setattr(dedup, "available_memory", lambda: 1000)
    lines = []
    later = runner.run(make_config([other], tmp_path / "out-later", **{"output.state": str(tmp_path / "state-memory-1000"),
                                                                        "executor.barrier": "memory"}), log=lines.append)
    assert any(x.startswith("warning: the dedup barrier") and "for 10 documents and paragraphs" in x for x in lines), lines
    assert later.stats["ledger"]["by_reason"]["duplicate_document"]["rows"] == 1      # the copy, of history
    # the same night by hash ranges, against the same history: the same bytes
    runner.run(make_config([other], tmp_path / "out-later-ranges", **{"output.state": str(tmp_path / "state-copy"),
                                                                       "executor.barrier": "ranges"}), log=lines.append)
    assert file_bytes(tmp_path / "out-later-ranges") == file_bytes(tmp_path / "out-later")
    import pyarrow.parquet as pq
    details = pq.read_table(tmp_path / "out-later" / "ledger").column("detail").to_pylist()
    assert len(details) == 1 and '"kept_in": "run ' in details[0]
    # --quiet (what the README's scheduler examples use) still prints the warning, and only it
    import io

    from pipeline.progress import Progress
    buf = io.StringIO()
    runner.run(make_config([src], tmp_path / "out-quiet", **{"executor.barrier": "memory"}),
               log=Progress("quiet", stream=buf).log)
    assert buf.getvalue().startswith("warning: the dedup barrier") and buf.getvalue().count("\n") == 1
    monkeypatch.undo()
    real = dedup.available_memory()
    assert real is None or real > 1 << 20


def test_available_memory_is_the_smaller_of_the_machines_and_the_cgroups(monkeypatch, tmp_path):
    """A cgroup limit above the process (v2 or v1, at any level up to the root) caps what the
    machine says is available; unlimited levels ("max", v1's huge number) and missing files do not."""
    from pipeline import dedup
    proc, cg = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text("MemTotal: 20000000 kB\nMemAvailable: 10000000 kB\n", encoding="ascii")
    monkeypatch.setattr(dedup, "_PROC", str(proc))
    monkeypatch.setattr(dedup, "_CGROUP_ROOT", str(cg))

    def level(path, limit, usage, v1=False):
        d = cg / ("memory" if v1 else "") / path
        d.mkdir(parents=True, exist_ok=True)
        names = ("memory.limit_in_bytes", "memory.usage_in_bytes") if v1 else ("memory.max", "memory.current")
        (d / names[0]).write_text(f"{limit}\n", encoding="ascii")
        (d / names[1]).write_text(f"{usage}\n", encoding="ascii")

    machine = 10_000_000 * 1024
    (proc / "self" / "cgroup").write_text("0::/job/step\n", encoding="ascii")
    assert dedup.available_memory() == machine                      # no cgroup files at all
    level("job/step", "max", 5 << 30)
    level("job", 4 << 30, 1 << 30)
    assert dedup.available_memory() == 3 << 30                      # the parent's limit
    level("job", "max", 1 << 30)
    assert dedup.available_memory() == machine
    (proc / "self" / "cgroup").write_text("5:cpu:/\n4:memory:/batch/42\n", encoding="ascii")
    level("batch/42", 2 << 30, 512 << 20, v1=True)
    level("", 9223372036854771712, 7 << 30, v1=True)                  # v1's "no limit"
    assert dedup.available_memory() == (2 << 30) - (512 << 20)
    (proc / "meminfo").write_text("MemTotal: 1 kB\nMemAvailable: 1000 kB\n", encoding="ascii")
    assert dedup.available_memory() == 1000 * 1024                  # the machine is the tighter one
    (proc / "meminfo").unlink()
    (proc / "self" / "cgroup").unlink()
    assert dedup.available_memory() is None


def test_kernels_of_another_version_count_as_not_built(monkeypatch, tmp_path):
    """A compiled module left from an older pipeline/_native.c (a checkout updated without
    `make install`) lacks the newer kernels: it is set aside for numpy, and the run says why."""
    import types

    from conftest import make_config

    from pipeline import dedup, kernels, runner
    assert kernels.native is not None and kernels.native.VERSION == kernels.VERSION and not kernels.stale
    old = types.ModuleType("pipeline._native")
    old.affine32 = kernels.native.affine32                   # an older build: no VERSION, no agreement
    assert kernels.checked(old) == (None, True)
    assert kernels.checked(None) == (None, False)
    assert kernels.checked(kernels.native) == (kernels.native, False)
    monkeypatch.setattr(dedup, "_native", None)
    monkeypatch.setattr(kernels, "stale", True)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "The council met on Monday to discuss the budget."}) + "\n",
                   encoding="utf-8")
    lines = []
    result = runner.run(make_config([src], tmp_path / "out"), log=lines.append)
    assert result.stats["documents"]["out"] == 1
    assert any("built from another version of pipeline/_native.c" in line and "make install" in line
               for line in lines), lines


@pytest.mark.parametrize("keep,num_perm,bands", [("first", 128, 32), ("longest", 128, 32), ("first", 600, 300)])
def test_barrier_by_hash_ranges_decides_as_in_memory(tmp_path, monkeypatch, keep, num_perm, bands):
    """The barrier by hash ranges (bounded memory, on the workers) makes exactly the in-memory
    barrier's decisions: exact and near copies across shards, copies of two history segments (one
    holding rows of this run itself, which are ignored), paragraphs of dropped documents, both keep
    rules, more than 256 bands; whatever the number of ranges and chunks, in one process or on two
    workers."""
    from pipeline import dedup, dedup_ranges, history
    from pipeline.executors import LocalExecutor
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
            docs.append(_doc(f"{prefix}-{i}", file, i, paras))
        return docs

    old = docs_for("h", 0, 30)
    for name, run, docs in (("a", "r1", old[:15]), ("b", "r2", old[15:])):
        keys_for_documents(docs, c).write(str(tmp_path / f"part-{name}"))
        history.write_segment([(str(tmp_path / f"part-{name}"), None)], str(tmp_path / f"hist-{name}"), c, run=run)
    segs = [Segment(str(tmp_path / "hist-a"), run="r1"), Segment(str(tmp_path / "hist-b"), run="r2", exclude_run="r2")]
    shards = []
    for shard in range(3):
        docs = docs_for(f"s{shard}", shard + 1, 40, old + [d for s in shards for d in s])
        shards.append(docs)
        keys_for_documents(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    stats_mem = {}
    in_memory = resolve(segs, c, stats=stats_mem)
    details = "".join(in_memory.column("detail").to_pylist())
    reasons = set(in_memory.column("reason").to_pylist())
    assert in_memory.num_rows >= 30 and reasons == {"duplicate_document", "duplicate_exact", "duplicate_near"}
    assert '"kept_in": "run r1"' in details and '"run r2"' not in details and '"match": "near"' in details
    monkeypatch.setattr(dedup_ranges, "CHUNK_RECORDS", 100)
    for per_range in (10**9, 300, 40):
        stats = {}
        got = dedup_ranges.resolve(segs, c, tmp=str(tmp_path / f"t{per_range}"), stats=stats, range_records=per_range)
        assert got.equals(in_memory), per_range
        assert stats["cluster_sizes"] == stats_mem["cluster_sizes"]
        assert not os.listdir(tmp_path / f"t{per_range}")                     # its files are removed
    if (keep, bands) == ("first", 32):
        ex = LocalExecutor(2)
        try:
            stats = {}
            got = dedup_ranges.resolve(segs, c, parallel_map=ex.map, tmp=str(tmp_path / "tw"), stats=stats,
                                       range_records=40)
        finally:
            ex.close()
        assert got.equals(in_memory) and stats["worker_cpu"] > 0
    # history after this run's shards would rank it after them: refused by both
    for fn in (resolve, lambda s, cfg: dedup_ranges.resolve(s, cfg, tmp=str(tmp_path / "tx"))):
        with pytest.raises(ValueError, match="history index's segments must come before"):
            fn(segs[2:] + segs[:2], c)


def test_runs_of_equal_values_are_exact_whatever_their_low_bits():
    """Repeated values are paired with their best-ranked occurrence, also when unrelated values
    share their high bits (the fast sort keys on those) and rank before them: a value that
    differs only in its low bits must not take the real head's place, nor hide the pair."""
    from pipeline.dedup import _runs_of_equal
    rng = np.random.default_rng(2)
    for n, top in ((1000, 64), (1000, 1 << 20), (5, 8), (2, 2)):
        values = rng.integers(0, top, n).astype(np.uint64) | np.uint64(0xABC0000000000000)
        head, mem = _runs_of_equal(values)
        want = {}
        first = {}
        for i, v in enumerate(values.tolist()):
            if v in first:
                want[i] = first[v]
            else:
                first[v] = i
        assert dict(zip(mem.tolist(), head.tolist())) == want
        assert len(mem) == len(want)
    # the case of the bug: rank 0 is unrelated but shares the high bits; 1 and 2 are equal
    head, mem = _runs_of_equal(np.array([0x1001, 0x1002, 0x1002], np.uint64))
    assert (head.tolist(), mem.tolist()) == ([1], [2])


def test_barrier_by_ranges_leaves_no_files_and_holds_none_open(tmp_path, monkeypatch):
    """A task that fails midway leaves no temporary file of the barrier behind (also those of
    tasks that never reported their names), and reading columns by row group keeps no segment
    file open between reads (thousands of shards would exhaust the descriptors)."""
    from pipeline import dedup_ranges
    c = DedupConfig()
    segs = []
    for shard in range(30):
        docs = [_doc(f"s{shard}-{i}", shard, i, [BASE[(shard + i) % 3] + f" Item {shard}-{i} of the day."])
                for i in range(5)]
        keys_for_documents(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    fds = len(os.listdir("/proc/self/fd"))
    lazy = dedup_ranges._Lazy(segs)
    assert lazy.col("pos", np.array([0, 150, 299])).tolist() == [0, 0, 4]
    assert len(os.listdir("/proc/self/fd")) == fds
    calls = []

    def failing(*a):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real(*a)
    real = dedup_ranges.rank_keys
    monkeypatch.setattr(dedup_ranges, "rank_keys", failing)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "decisions.parquet").write_bytes(b"not ours")
    with pytest.raises(RuntimeError, match="worker lost"):
        dedup_ranges.resolve(segs, c, tmp=str(tmp_path / "t"))
    assert os.listdir(tmp_path / "t") == ["decisions.parquet"]


def test_a_text_in_every_document_sends_one_record_per_shard_to_its_range(tmp_path):
    """Exact copies within a shard are reduced to its best-ranked one before the scatter (the
    others are paired with it there), so a boilerplate paragraph in every document does not fill
    one range with all its copies; the decisions stay those of the in-memory barrier."""
    from pipeline import dedup, dedup_ranges
    c = DedupConfig()
    rng = random.Random(4)
    segs = []
    for shard in range(3):
        docs = [_doc(f"s{shard}-{i}", shard, i, [" ".join(rng.choice(WORDS) for _ in range(25)) + ".",
                                                 "All rights reserved."]) for i in range(40)]
        keys_for_documents(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    (tmp_path / "t").mkdir()
    chunks, _, local, _ = dedup_ranges.scatter_task(segs[0].base, 0, 0, False, 3, "", dedup.KIND_PARA, "exact", 1,
                                                    str(tmp_path / "t"), "first", c.bands, "", "", "x:1")
    rec = np.fromfile(chunks[0][0], np.uint64).reshape(-1, 3)
    assert len(rec) == 41                                   # 40 distinct paragraphs and one boilerplate
    triples = np.fromfile(local, np.int64).reshape(-1, 3)  # its other copies: (band 0, local head, member)
    flagged = rec[(rec[:, 2] & np.uint64(1 << 53)) != 0]     # the one record that stands for them
    assert len(triples) == 39 and len(flagged) == 1
    assert set(triples[:, 0].tolist()) == {0} and set(triples[:, 1].tolist()) == {int(flagged[0, 2]) - (1 << 53)}
    want = resolve(segs, c)
    assert dedup_ranges.resolve(segs, c, tmp=str(tmp_path / "t2")).equals(want)
    assert sum(r == "duplicate_exact" for r in want.column("reason").to_pylist()) == 119


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_a_template_in_every_document_sends_one_record_per_band_and_shard(tmp_path, monkeypatch, keep):
    """Near copies within a shard (a template with one word changed in every document) share
    many of their band hashes: each (band, hash) is reduced to the shard's best-ranked item
    before the scatter, and the others are paired with it there, so that a template repeated in
    millions of documents does not fill one range. The candidate pairs the components are made
    of are exactly the in-memory barrier's (decisions alone would hide a wrong head), whatever
    the number of ranges, also when the heads are joined in rounds of bands."""
    from pipeline import dedup, dedup_ranges
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
            docs.append(_doc(f"s{shard}-{i}", shard, i, [" ".join(rng.choice(WORDS) for _ in range(25)) + ".",
                                                         " ".join(variant)]))
        keys_for_documents(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    (tmp_path / "t").mkdir()
    chunks, cands, local, _ = dedup_ranges.scatter_task(segs[0].base, 0, 0, False, 3, "", dedup.KIND_PARA, "bands",
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
    real = dedup.near_drops

    def spy(corpus, e, *rest):
        seen.append({tuple(p) for p in e.tolist()})
        return real(corpus, e, *rest)
    monkeypatch.setattr(dedup, "near_drops", spy)
    want = resolve(segs, c)
    pairs, seen[:] = list(seen), []
    assert len(pairs) == 2 and len(pairs[1]) > 100              # documents, then paragraphs
    assert sum(r == "duplicate_near" for r in want.column("reason").to_pylist()) >= 100
    for per_range, head_rows in ((10**9, 1 << 23), (500, 1 << 23), (500, 7)):
        monkeypatch.setattr(dedup_ranges, "HEAD_ROWS", head_rows)
        got = dedup_ranges.resolve(segs, c, tmp=str(tmp_path / f"t{per_range}"), range_records=per_range)
        assert got.equals(want) and seen == pairs, (per_range, head_rows)
        seen.clear()


def test_a_record_carries_band_numbers_up_to_the_largest_the_config_allows(tmp_path):
    """A record packs the band number and a head flag above the item's id: with the 512 bands the
    config allows every band number comes back as written, next to the right id and hash (8 bits
    would fold band 256 onto band 0, which the decisions, salted per band, would not show), and
    a repeated paragraph's record is flagged in every band; more bands than a record holds are
    refused."""
    from pipeline import dedup, dedup_ranges
    from pipeline.config import from_dict
    with pytest.raises(Exception, match="'dedup.bands' must be <= 512"):
        from_dict({"dedup": {"num_perm": 1024, "bands": 1024}})                     # the config stops at 512
    c = DedupConfig(num_perm=1024, bands=512)
    rng = random.Random(6)
    texts = [" ".join(rng.choice(WORDS) for _ in range(20)) + "." for _ in range(4)]
    docs = [_doc(f"d{i}", 0, i, [t]) for i, t in enumerate(texts + texts[1:2])]    # d4 repeats d1
    keys_for_documents(docs, c).write(str(tmp_path / "00000"))
    (tmp_path / "t").mkdir()
    chunks, _, local, _ = dedup_ranges.scatter_task(str(tmp_path / "00000"), 0, 1000, False, 1, "", dedup.KIND_PARA,
                                                    "bands", 1, str(tmp_path / "t"), "first", 512, "", "", "x:1")
    rec = np.fromfile(chunks[0][0], np.uint64).reshape(-1, 3)
    assert len(rec) == 4 * 512                                   # d4's paragraph is d1's in every band
    band = (rec[:, 2] >> np.uint64(54)).astype(np.int64)
    flag = (rec[:, 2] >> np.uint64(53)) & np.uint64(1)
    gid = (rec[:, 2] & np.uint64((1 << 53) - 1)).astype(np.int64)
    assert sorted(band.tolist()) == sorted(list(range(512)) * 4)
    keys = np.load(str(tmp_path / "00000.bands.npy"))          # bands x rows
    paras = np.flatnonzero(pq.read_table(str(tmp_path / "00000.keys.parquet")).column("kind").to_numpy()
                           == dedup.KIND_PARA) + 1000
    assert sorted(set(gid.tolist())) == paras[:4].tolist()
    assert np.array_equal(rec[:, 0], keys[band, gid - 1000])       # each hash is its band's, of its item
    assert sorted(band[flag == 1].tolist()) == list(range(512)) and set(gid[flag == 1].tolist()) == {paras[1]}
    triples = np.fromfile(local, np.int64).reshape(-1, 3)
    assert sorted(triples[:, 0].tolist()) == list(range(512))
    assert set(triples[:, 1].tolist()) == {paras[1]} and set(triples[:, 2].tolist()) == {paras[4]}
    with pytest.raises(ValueError, match="1024 bands do not fit"):
        dedup_ranges.scatter_task(str(tmp_path / "00000"), 0, 1000, False, 1, "", dedup.KIND_PARA, "bands", 1,
                                  str(tmp_path / "t"), "first", 1024, "", "", "x:1")


def test_decisions_are_written_a_few_shards_at_a_time_in_position_order(tmp_path, monkeypatch):
    """Given a file, both barriers write the decisions in pieces of consecutive shards (the
    driver never builds them all at once): the file holds exactly the table they return
    otherwise, sorted by position, and each shard's rows stay together."""
    from pipeline import dedup, dedup_ranges, write
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
            docs.append(_doc(f"s{shard}-{i}", shard, i * 100, paras))
        keys_for_documents(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    whole = resolve(segs, c)
    assert whole.num_rows >= 60
    order = np.lexsort((whole.column("para").to_numpy(), whole.column("pos").to_numpy(), whole.column("file").to_numpy()))
    assert np.array_equal(order, np.arange(whole.num_rows))                  # sorted by position
    monkeypatch.setattr(dedup, "DECISION_PIECE", 20)
    for name, fn in (("memory", lambda out: resolve(segs, c, out=out)),
                     ("ranges", lambda out: dedup_ranges.resolve(segs, c, tmp=str(tmp_path / "t"), out=out))):
        out = str(tmp_path / f"decisions-{name}.parquet")
        assert fn(out) == whole.num_rows
        assert pq.read_table(out).equals(whole), name
        assert pq.ParquetFile(out).metadata.num_row_groups >= 3              # pieces of about 20 drops
        for shard in range(5):
            want = whole.filter(pa.compute.equal(whole.column("shard"), shard))
            assert write.read_decisions(out, shard).equals(want)
    empty = str(tmp_path / "none.parquet")
    assert resolve([], c, out=empty) == 0                                    # nothing to decide
    assert pq.read_table(empty).schema == dedup.DECISIONS_SCHEMA and write.read_decisions(empty, 0).num_rows == 0
