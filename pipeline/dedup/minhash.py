"""MinHash signatures and their LSH band hashes.

The signatures are datasketch's "affine32" scheme, value for value: computed by the compiled
kernel (numpy where it was not built), or, with ``dedup.minhash_backend: datasketch``, by the
library itself (the design card's package; one ``MinHash`` per text, slow). ``identity`` is what
the history index records: signatures of two runs are comparable only when it is equal.
"""
from __future__ import annotations

import numpy as np

from ..text.kernels import native as _native     # the compiled kernels, or None: numpy computes the same values
from . import DedupConfig
from .tokens import SHINGLING

def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of datasketch 2's "affine32" permutations h -> a * h + b mod 2^32, drawn as
    ``MinHash._init_permutations`` draws them (a test holds them equal), without importing
    datasketch in every worker (it imports scipy)."""
    gen = np.random.RandomState(seed)        # the legacy generator: its stream never changes
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


SCHEME = "affine32"       # the signatures' scheme, which the history index records


class MinHasher:
    """MinHash signatures (uint32) of many texts at once, from their shingle hashes: datasketch's
    "affine32" scheme (``affine32_permutations``), from the compiled kernel, or numpy where it was
    not built, or (``backend="datasketch"``) from the library itself. All give the same values."""

    def __init__(self, backend: str, num_perm: int, seed: int):
        if backend not in ("affine32", "datasketch"):
            raise ValueError(f"dedup: unknown minhash backend {backend!r}")
        self.backend, self.num_perm, self.seed = backend, num_perm, seed
        self._a, self._b = affine32_permutations(num_perm, seed)

    def signatures(self, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(rows, num_perm) uint32; a row without shingles is all 0xFFFFFFFF."""
        rows = len(offsets) - 1
        if rows <= 0:
            return np.zeros((0, self.num_perm), np.uint32)
        if self.backend == "datasketch":
            return self._datasketch(flat, offsets, rows)
        if _native is not None:
            out = np.empty((rows, self.num_perm), np.uint32)
            _native.affine32(np.ascontiguousarray(flat, dtype=np.uint64),
                             np.ascontiguousarray(offsets, dtype=np.uint64), self._a, self._b, out)
            return out
        return self._numpy(flat, offsets, rows)

    def _datasketch(self, flat: np.ndarray, offsets: np.ndarray, rows: int) -> np.ndarray:
        from datasketch import MinHash
        h32 = (flat & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        out = np.full((rows, self.num_perm), 0xFFFFFFFF, np.uint32)
        for r in range(rows):
            lo, hi = int(offsets[r]), int(offsets[r + 1])
            if hi > lo:
                m = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=int, scheme="affine32")
                m.update_batch(h32[lo:hi].tolist())
                out[r] = m.hashvalues
        return out

    def _numpy(self, flat: np.ndarray, offsets: np.ndarray, rows: int) -> np.ndarray:
        h32 = (flat & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        out = np.full((rows, self.num_perm), 0xFFFFFFFF, np.uint32)
        offs = offsets.astype(np.int64)
        with np.errstate(over="ignore"):
            hv = h32.copy()
            hv ^= hv >> np.uint32(16)
            hv *= np.uint32(0x85EBCA6B)
            hv ^= hv >> np.uint32(13)
            hv *= np.uint32(0xC2B2AE35)
            hv ^= hv >> np.uint32(16)
            step = max(1, (1 << 22) // self.num_perm)        # bounded memory: step x num_perm values
            for lo in range(0, len(hv), step):
                hi = min(len(hv), lo + step)
                phv = hv[lo:hi, None] * self._a[None, :] + self._b[None, :]
                r = np.arange(np.searchsorted(offs, lo, "right") - 1, np.searchsorted(offs, hi - 1, "right"))
                starts = np.maximum(offs[r], lo) - lo
                ends = np.minimum(offs[r + 1], hi) - lo
                ok = ends > starts
                out[r[ok]] = np.minimum(out[r[ok]], np.minimum.reduceat(phv, starts[ok], axis=0))
        return out


def identity(cfg: DedupConfig) -> dict:
    """What must match for signatures of two runs to be comparable."""
    return {"minhash_backend": SCHEME, "num_perm": cfg.num_perm, "seed": cfg.seed,
            "shingle_words": cfg.shingle_words, "bands": cfg.bands, "shingling": SHINGLING}


def band_hashes(sig: np.ndarray, bands: int) -> np.ndarray:
    """(bands, n) uint64: a 64-bit hash of each band's rows, salted by the band number. By the
    compiled kernel where it was built (numpy's passes over strided columns make a temporary
    each), else numpy."""
    n, p = sig.shape
    if _native is not None and sig.dtype == np.uint32 and n and p and p % bands == 0:
        out = np.empty((bands, n), np.uint64)
        _native.bands(np.ascontiguousarray(sig), p, bands, out)
        return out
    return _band_hashes_numpy(sig, bands)


def _band_hashes_numpy(sig: np.ndarray, bands: int) -> np.ndarray:
    n, p = sig.shape
    rows = p // bands
    s = sig.reshape(n, bands, rows).astype(np.uint64)
    h = np.full((n, bands), np.uint64(0xcbf29ce484222325), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            h = (h ^ s[:, :, r]) * np.uint64(0x100000001b3)
            h ^= h >> np.uint64(29)
        h += np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return np.ascontiguousarray(h.T)
