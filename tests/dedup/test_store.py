"""Reading signatures back from the segments' files, and the Jaccard of pairs (kernel and numpy)."""
import random

import numpy as np
import pytest

from pipeline.dedup import DedupConfig, resolve, store
from pipeline.dedup.keys import Segment
from tests.dedup.support import WORDS, doc, keys_of


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "numpy"])
def test_signature_reads_and_chunked_jaccard_match_memory(tmp_path, monkeypatch, kernel):
    """The barrier reads signatures back by dense spans or sparse gathers, and estimates the
    Jaccard of pairs in memory-bounded chunks (sorted by their first item); whatever the chunk
    size, order of the pairs or repeats, it equals the count of agreeing values in memory, with
    the compiled kernel and without it (an install without a compiler)."""
    if not kernel:
        monkeypatch.setattr(store, "_native", None)
    rng = random.Random(11)
    c = DedupConfig()
    keys = []
    for shard in range(4):
        docs = [doc(f"s{shard}-{i}", shard, i, [" ".join(rng.choice(WORDS) for _ in range(12)) + "."
                                                 for _ in range(rng.randint(1, 4))]) for i in range(60)]
        k = keys_of(docs, c)
        k.write(str(tmp_path / f"{shard:05d}"))
        keys.append(k)
    corpus = resolve.Corpus([Segment(str(tmp_path / f"{s:05d}"), shard=s) for s in range(4)])
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
    assert store._native is not None, "pipeline.text._native was not built (or is stale: run make install)"
    rng = np.random.default_rng(5)
    for w, na, nb, k in ((128, 300, 200, 4000), (1, 5, 7, 50), (100, 40, 40, 0), (64, 1, 1, 3)):
        sa = rng.integers(0, 4, (na, w), dtype=np.uint32)            # few values: many agree
        sb = np.concatenate([sa[: min(na, nb)], rng.integers(0, 4, (nb - min(na, nb), w), dtype=np.uint32)])
        ia, ib = rng.integers(0, na, k), rng.integers(0, nb, k)
        fast, slow = np.full(k, -1.0), np.full(k, -1.0)
        store._native.agreement(sa, ia, sb, ib, w, fast)
        for sub in (1, 7, 1 << 14):
            store._agreement_numpy(sa, ia, sb, ib, slow, sub)
            assert np.array_equal(fast, slow)
        assert k == 0 or 0.0 <= fast.min() <= fast.max() <= 1.0         # every pair written (not -1)
    sig = rng.integers(0, 4, (10, 8), dtype=np.uint32)
    good, two = np.array([0, 9]), np.empty(2)
    for ia, ib in (([0, 10], good), (good, [0, 10]), ([-1, 0], good), (good, [0, -1])):
        with pytest.raises(IndexError):
            store._native.agreement(sig, np.array(ia), sig, np.array(ib), 8, two)
    for ib, width, out in ((np.array([0]), 8, two), (good, 8, np.empty(3)), (good, 3, two), (good, 0, two)):
        with pytest.raises(ValueError):
            store._native.agreement(sig, good, sig, ib, width, out)
    with pytest.raises(ValueError):                                   # signatures of two widths
        store.agreement(sig, good, sig.reshape(20, 4), good, two)
