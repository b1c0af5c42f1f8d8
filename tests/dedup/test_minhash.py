"""MinHash: the estimator against true Jaccard, datasketch's values, the compiled kernels against numpy."""
import random

import numpy as np
import pytest
import xxhash

from pipeline.dedup import minhash
from pipeline.dedup.minhash import MinHasher, affine32_permutations, band_hashes
from pipeline.dedup.tokens import shingle_hashes, tokenize
from tests.dedup.support import BASE


def _pair(rng, n_shared, n_a, n_b):
    tag = rng.getrandbits(64)          # fresh elements for every pair: independent estimates
    shared = [f"{tag}s{i}" for i in range(n_shared)]
    a = set(shared + [f"{tag}a{i}" for i in range(n_a)])
    b = set(shared + [f"{tag}b{i}" for i in range(n_b)])
    return a, b, len(a & b) / len(a | b)

def _sig(h, elements):
    flat = np.array([xxhash.xxh3_64_intdigest(e.encode()) for e in sorted(elements)], np.uint64)
    return h.signatures(flat, np.array([0, len(flat)], np.uint64))[0]

@pytest.mark.parametrize("backend", ["affine32", "numpy", "datasketch"])
def test_estimator_tracks_true_jaccard(backend, monkeypatch):
    if backend == "numpy":                               # the compiled kernel's fallback
        monkeypatch.setattr(minhash, "_native", None)
    rng = random.Random(3)
    h = MinHasher("affine32" if backend == "numpy" else backend, 256, 1)
    errors = []
    for _ in range(60):
        a, b, true = _pair(rng, rng.randint(5, 200), rng.randint(0, 200), rng.randint(0, 200))
        errors.append(float((_sig(h, a) == _sig(h, b)).mean()) - true)
    rmse = float(np.sqrt(np.mean(np.square(errors))))
    # theoretical standard error of the estimate is <= 0.5 / sqrt(256) = 0.031
    assert rmse < 0.045, rmse
    assert abs(float(np.mean(errors))) < 0.02

def test_numpy_signatures_equal_datasketch(monkeypatch):
    from datasketch import MinHash
    flat, offsets = shingle_hashes(tokenize(BASE + [""]), 3)
    kernel = MinHasher("affine32", 128, 7).signatures(flat, offsets)
    monkeypatch.setattr(minhash, "_native", None)
    ours = MinHasher("affine32", 128, 7).signatures(flat, offsets)
    monkeypatch.undo()
    lib = MinHasher("datasketch", 128, 7).signatures(flat, offsets)
    assert np.array_equal(ours, lib)
    m = MinHash(num_perm=128, seed=7, hashfunc=int, scheme="affine32")
    m.update_batch([int(x) & 0xFFFFFFFF for x in flat[int(offsets[1]):int(offsets[2])]])
    assert np.array_equal(ours[1], m.hashvalues.astype(np.uint32))
    assert (ours[-1] == 0xFFFFFFFF).all()          # no shingles: empty signature
    assert np.array_equal(kernel, ours)

def test_permutations_are_datasketchs():
    from datasketch import MinHash
    for num_perm, seed in ((128, 1), (256, 7), (16, 12345)):
        a, b = affine32_permutations(num_perm, seed)
        lib = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, lib[0]) and np.array_equal(b, lib[1])

def test_the_compiled_kernel_is_built_and_equals_numpy(monkeypatch):
    # `make install` builds pipeline/text/_native.c; without it the default backend still gives
    # these values, from numpy, ~10x slower (and the run log says so), so CI insists on it.
    assert minhash._native is not None, "pipeline.text._native was not built: is a C compiler installed?"
    rng = np.random.default_rng(5)
    flat = rng.integers(0, 2**64, 5000, dtype=np.uint64)
    cuts = np.sort(rng.integers(0, len(flat), 300)).astype(np.uint64)
    offsets = np.r_[np.uint64(0), cuts, cuts[:20], np.uint64(len(flat))].astype(np.uint64)   # empty rows too
    offsets.sort()
    for perms, seed in ((128, 1), (256, 9), (16, 3)):
        fast = MinHasher("affine32", perms, seed).signatures(flat, offsets)
        slow = MinHasher("affine32", perms, seed)._numpy(flat, offsets, len(offsets) - 1)
        assert fast.shape == (len(offsets) - 1, perms) and np.array_equal(fast, slow)
    kernel = MinHasher("affine32", 128, 1).signatures(flat, offsets)
    monkeypatch.setattr(minhash, "_native", None)                  # an install without a compiler
    assert np.array_equal(MinHasher("affine32", 128, 1).signatures(flat, offsets), kernel)
    monkeypatch.undo()
    # rows are read between their offsets only, wherever the first one starts
    part = MinHasher("affine32", 128, 1).signatures(flat, offsets[10:40])
    assert np.array_equal(part, MinHasher("affine32", 128, 1).signatures(flat, offsets)[10:39])
    h = MinHasher("affine32", 128, 1)
    out = np.empty((2, 128), np.uint32)
    with pytest.raises(ValueError, match="offsets"):
        minhash._native.affine32(flat, np.array([0, 10, 6000], np.uint64), h._a, h._b, out)
    with pytest.raises(ValueError, match="sizes"):
        minhash._native.affine32(flat, np.array([0, 10, 20], np.uint64), h._a, h._b, np.empty((3, 128), np.uint32))

def test_band_hash_kernel_equals_numpy():
    """The compiled band hashes are numpy's, bit for bit, for any number of bands (a row, one value
    per band, all values in one band) and rows; sizes that do not agree are refused."""
    assert minhash._native is not None, "pipeline.text._native was not built (or is stale: run make install)"
    rng = np.random.default_rng(11)
    for rows, width, bands in ((2000, 128, 32), (1, 128, 16), (37, 128, 128), (5, 12, 1), (300, 64, 8)):
        sig = rng.integers(0, 1 << 32, (rows, width), dtype=np.uint64).astype(np.uint32)
        sig[rows // 2:] = sig[: rows - rows // 2]                       # equal rows: equal hashes
        fast, slow = band_hashes(sig, bands), minhash._band_hashes_numpy(sig, bands)
        assert fast.shape == slow.shape == (bands, rows) and fast.dtype == slow.dtype == np.uint64
        assert np.array_equal(fast, slow) and fast.flags.c_contiguous
        assert np.array_equal(band_hashes(np.asfortranarray(sig), bands), slow)     # copied for the kernel
        assert len(np.unique(fast[0])) == rows - rows // 2             # distinct rows: distinct hashes
    assert band_hashes(np.zeros((0, 128), np.uint32), 32).shape == (32, 0)
    sig = np.zeros((4, 8), np.uint32)
    for width, bands, out in ((8, 3, np.empty((3, 4), np.uint64)), (8, 2, np.empty((2, 5), np.uint64)),
                              (0, 2, np.empty((2, 4), np.uint64)), (8, 0, np.empty(0, np.uint64)),
                              (6, 2, np.empty((2, 5), np.uint64)), (8, 2, np.empty(7, np.uint8))):
        with pytest.raises(ValueError):
            minhash._native.bands(sig, width, bands, out)
