"""Exact and near-duplicate documents and paragraphs, across shards and earlier runs.

Map side (per shard, ``keys_for_documents``): for every kept document and paragraph, an exact
hash of its normalised text (case-folded, letters and digits only) and, for text of at least
``dedup.min_near_words`` words, a MinHash signature of its word n-grams (character 5-grams for
CJK and Thai).

Keys are stored per *segment* (one shard of this run, or one earlier run in the history index):
``keys.parquet`` (position, length, exact hash), ``sig.npy`` (n x num_perm uint32, memory-mapped)
and ``bands.npy`` (bands x n uint64 LSH band hashes, band-major so one band is one contiguous
read).

Barrier (``resolve``): items are ranked by the keep rule (history first, then ``first`` = input
order, or ``longest``). Exact groups keep their best-ranked member. Near pairs are proposed one
band at a time (sort the band's hashes; every member of a run of equal hashes is paired with the
run's best-ranked member), verified by estimated Jaccard gathered from the memory-mapped
signatures, and joined into connected components. A member is dropped only when its own
estimated Jaccard to its component's keeper reaches the threshold, so every ledger row names a
kept copy that really is similar. Documents are resolved first; paragraphs of dropped documents
take no further part. Memory is O(items) for a few small columns plus one band at a time, never
the signatures of the whole corpus.
"""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from . import chars, write
from .config import DedupConfig
from .kernels import native as _native     # the compiled kernels, or None: numpy computes the same values
from .model import Document

KEYS_SCHEMA = pa.schema([
    ("kind", pa.int8()), ("file", pa.int32()), ("pos", pa.int64()), ("para", pa.int32()),
    ("doc_id", pa.string()), ("length", pa.int64()), ("exact", pa.uint64()), ("has_sig", pa.bool_()),
])
KIND_DOC, KIND_PARA = 0, 1


SHINGLING = "cp-token-poly64-v2"    # part of the history index identity

_P = np.uint64(0x100000001B3)         # polynomial base for token hashes (odd)
_Q = np.uint64(0x9E3779B97F4A7C15)    # base that combines token hashes into shingle hashes


@dataclass
class Tokens:
    """Tokens of a batch of texts, computed over their code points with no Python object per token.

    Text is normalised by lower-casing and keeping only word characters (letters, digits,
    combining marks): ``norm`` is that sequence, ``norm_offsets`` where each text's part starts.
    A token is a run of word characters, or for CJK and Thai text (more than a third of its word
    characters in those scripts, where words are not separated by spaces) one character."""
    norm: np.ndarray            # uint32 code points of the normalised texts, concatenated
    norm_offsets: np.ndarray    # (texts + 1,) int64
    tok_starts: np.ndarray      # int64 start of each token in ``norm``
    tok_hash: np.ndarray        # uint64 hash of each token's normalised characters
    tok_offsets: np.ndarray     # (texts + 1,) int64
    cjk: np.ndarray             # (texts,) bool

    def exact(self, lo: int, hi: int) -> int:
        """Hash of the normalised text of texts lo..hi-1 (joined)."""
        a, b = self.norm_offsets[lo], self.norm_offsets[hi]
        return xxhash.xxh3_64_intdigest(self.norm[a:b].tobytes())

    def exact_many(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """``exact(lo[i], hi[i])`` for every i, without a numpy slice and a copy per text."""
        buf = memoryview(np.ascontiguousarray(self.norm, np.uint32)).cast("B")
        at = (self.norm_offsets * 4).tolist()
        h = xxhash.xxh3_64_intdigest
        return np.array([h(buf[at[a]:at[b]]) for a, b in zip(lo.tolist(), hi.tolist())], np.uint64)

    @property
    def ntok(self) -> np.ndarray:
        return np.diff(self.tok_offsets)


_P_INV = np.uint64(pow(int(_P), -1, 1 << 64))
_POWERS: list = [np.ones(1, np.uint64), np.ones(1, np.uint64)]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(P^j, P^-j) modulo 2^64 for j < n, kept between calls up to 2^20 entries."""
    if len(_POWERS[0]) < n:
        m = max(n, min(2 * len(_POWERS[0]), 1 << 20))
        with np.errstate(over="ignore"):
            pw = np.cumprod(np.r_[np.uint64(1), np.full(m - 1, _P, np.uint64)], dtype=np.uint64)
            inv = np.cumprod(np.r_[np.uint64(1), np.full(m - 1, _P_INV, np.uint64)], dtype=np.uint64)
        if m <= (1 << 20):
            _POWERS[:] = [pw, inv]
        return pw[:n], inv[:n]
    return _POWERS[0][:n], _POWERS[1][:n]


def tokenize(texts: list[str]) -> Tokens:
    """Tokens of ``texts`` (see ``Tokens``); a token's hash is a polynomial over its lower-case
    code points, mixed. The compiled kernel makes one pass per text; ``_tokenize_numpy`` computes
    the same arrays where it was not built."""
    cps, offsets = chars.code_points(texts)
    if _native is None:
        return _tokenize_numpy(cps, offsets)
    n, rows = len(cps), len(texts)
    norm, tok_starts, tok_hash = np.empty(n, np.uint32), np.empty(n, np.int64), np.empty(n, np.uint64)
    norm_offsets, tok_offsets, cjk = np.empty(rows + 1, np.int64), np.empty(rows + 1, np.int64), np.empty(rows, bool)
    m, k = _native.tokens(cps, offsets.astype(np.int64, copy=False), chars.tables()["packed"], norm, norm_offsets,
                          tok_starts, tok_hash, tok_offsets, cjk.view(np.uint8))
    return Tokens(norm[:m], norm_offsets, tok_starts[:k], tok_hash[:k], tok_offsets, cjk)


def _tokenize_numpy(cps: np.ndarray, offsets: np.ndarray) -> Tokens:
    """``tokenize`` in numpy: one gather from the packed code-point table, then numpy passes."""
    v = chars.tables()["packed"][cps]
    word = (v & np.uint32(1 << 22)).astype(bool)
    keep = np.flatnonzero(word)
    v = v[word]
    norm = v & np.uint32(0x1FFFFF)
    is_cjk = (v & np.uint32(1 << 23)).astype(bool)
    norm_offsets = np.searchsorted(keep, offsets)
    n_word = np.diff(norm_offsets)
    n_cjk = np.add.reduceat(np.r_[is_cjk, False].astype(np.int64), norm_offsets[:-1])
    n_cjk[n_word == 0] = 0
    cjk = n_cjk * 3 > n_word
    # A token starts at a word character after a non-word one, at each text's start, and at every
    # character of a CJK text.
    start = np.ones(len(norm), bool)
    if len(norm):
        start[1:] = keep[1:] != keep[:-1] + 1
        start[norm_offsets[:-1][n_word > 0]] = True
        start |= np.repeat(cjk, n_word)
    tok_starts = np.flatnonzero(start)
    # A token's hash is sum((c + 1) * P^k) over its characters c at offsets k from its start,
    # modulo 2^64. With prefix sums S[i] = sum((c_j + 1) * P^j, j <= i) over the whole batch,
    # the token [a, b) is (S[b-1] - S[a-1]) * P^-a (P is odd, so it has an inverse mod 2^64):
    # a few passes over the characters instead of one per step of a per-character formula.
    with np.errstate(over="ignore"):
        pw, inv = _powers(len(norm))
        s = np.cumsum((norm.astype(np.uint64) + np.uint64(1)) * pw, dtype=np.uint64)
        ends = np.r_[tok_starts[1:], len(norm)] - 1
        before = np.where(tok_starts > 0, s[np.maximum(tok_starts - 1, 0)], np.uint64(0))
        tok_hash = chars.fmix64((s[ends] - before) * inv[tok_starts]) if len(tok_starts) else np.zeros(0, np.uint64)
    tok_offsets = np.searchsorted(tok_starts, norm_offsets)
    return Tokens(norm, norm_offsets, tok_starts, tok_hash, tok_offsets, cjk)


def tokens(text: str) -> tuple[str, list[str], bool]:
    """(normalised text, tokens, CJK?) of one text, as strings: what ``tokenize`` sees."""
    t = tokenize([text])
    norm = t.norm.astype("<u4").tobytes().decode("utf-32-le")
    bounds = np.r_[t.tok_starts, len(norm)].tolist()
    return norm, [norm[a:b] for a, b in zip(bounds[:-1], bounds[1:])], bool(t.cjk[0])


def exact_hash(text: str) -> int:
    """Hash of a text's normalised form (lower case, word characters only)."""
    return tokenize([text]).exact(0, 1)


def shingle_hashes(toks: Tokens, n_words: int, n_cjk: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every shingle (``n_words`` consecutive tokens, ``n_cjk`` for CJK texts) of every
    text; a text with fewer tokens than that is one shingle. Returns (flat uint64 hashes, row
    offsets as uint64). The compiled kernel where it was built, else numpy: the same values."""
    if _native is not None:
        rows = len(toks.cjk)
        flat, offsets = np.empty(len(toks.tok_hash), np.uint64), np.empty(rows + 1, np.uint64)
        count = _native.shingles(np.ascontiguousarray(toks.tok_hash), toks.tok_offsets.astype(np.int64, copy=False),
                                 toks.cjk.view(np.uint8), n_words, n_cjk, flat, offsets)
        return flat[:count], offsets
    return _shingle_hashes_numpy(toks, n_words, n_cjk)


def _shingle_hashes_numpy(toks: Tokens, n_words: int, n_cjk: int) -> tuple[np.ndarray, np.ndarray]:
    rows = len(toks.cjk)
    ntok = toks.ntok
    n_row = np.where(toks.cjk, n_cjk, n_words)
    T = len(toks.tok_hash)
    tok_row = np.repeat(np.arange(rows), ntok)
    n_tok = n_row[tok_row] if T else np.zeros(0, np.int64)
    parts_h, parts_row = [], []
    with np.errstate(over="ignore"):
        for n in sorted(set(n_row.tolist())):
            first = np.flatnonzero((n_tok == n) & (np.arange(T) + n - 1 < T))
            first = first[tok_row[np.minimum(first + n - 1, T - 1)] == tok_row[first]]
            h = np.zeros(len(first), np.uint64)
            for k in range(n):
                h = h * _Q + toks.tok_hash[first + k]
            parts_h.append(h)
            parts_row.append(tok_row[first])
            short = np.flatnonzero((ntok > 0) & (ntok < n) & (n_row == n))
            if len(short):
                h = np.zeros(len(short), np.uint64)
                for k in range(n - 1):
                    live = ntok[short] > k
                    h[live] = h[live] * _Q + toks.tok_hash[toks.tok_offsets[short[live]] + k]
                parts_h.append(h)
                parts_row.append(short)
    if not parts_h:
        return np.zeros(0, np.uint64), np.zeros(rows + 1, np.uint64)
    h = np.concatenate(parts_h)
    row = np.concatenate(parts_row)
    order = np.argsort(row, kind="stable")
    offsets = np.r_[0, np.cumsum(np.bincount(row, minlength=rows))].astype(np.uint64)
    return chars.fmix64(h[order]), offsets


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of datasketch 2's "affine32" permutations h -> a * h + b mod 2^32, drawn as
    ``MinHash._init_permutations`` draws them (a test holds them equal): importing datasketch
    would cost each worker ~0.4 CPU s (it imports scipy)."""
    gen = np.random.RandomState(seed)        # the legacy generator: its stream never changes
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


class MinHasher:
    """MinHash signatures (uint32) of many texts at once, from their shingle hashes.

    Backends: ``affine32`` (the default: datasketch's "affine32" scheme, computed by the compiled
    kernel ``pipeline._native``, or by numpy where it was not built), ``numpy`` (the same values,
    numpy only), ``datasketch`` (the same values from the library itself, one MinHash per text)
    and ``rensa`` (Rust; its signatures differ but estimate Jaccard equally well, and come back
    as Python lists, which cost ~5x its hashing). The history index records which scheme made
    its signatures."""

    def __init__(self, backend: str, num_perm: int, seed: int):
        self.backend, self.num_perm, self.seed = backend, num_perm, seed
        if backend in ("affine32", "numpy", "datasketch"):
            self._a, self._b = affine32_permutations(num_perm, seed)
        elif backend == "rensa":
            import rensa
            self._rensa = rensa
        else:
            raise ValueError(f"dedup: unknown minhash backend {backend!r}")

    def signatures(self, flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(rows, num_perm) uint32; a row without shingles is all 0xFFFFFFFF."""
        rows = len(offsets) - 1
        if rows <= 0:
            return np.zeros((0, self.num_perm), np.uint32)
        if self.backend == "rensa":
            m = self._rensa.RMinHash.digest_matrix_from_flat_token_hashes(
                np.ascontiguousarray(flat, dtype=np.uint64), np.ascontiguousarray(offsets, dtype=np.uint64),
                num_perm=self.num_perm, seed=self.seed)
            sig = np.array(m.to_rows(), dtype=np.uint32).reshape(rows, self.num_perm)
            empty = offsets[1:] == offsets[:-1]
            sig[empty] = 0xFFFFFFFF
            return sig
        if self.backend == "affine32" and _native is not None:
            out = np.empty((rows, self.num_perm), np.uint32)
            _native.affine32(np.ascontiguousarray(flat, dtype=np.uint64),
                             np.ascontiguousarray(offsets, dtype=np.uint64), self._a, self._b, out)
            return out
        h32 = (flat & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        if self.backend == "datasketch":
            from datasketch import MinHash
            out = np.full((rows, self.num_perm), 0xFFFFFFFF, np.uint32)
            for r in range(rows):
                lo, hi = int(offsets[r]), int(offsets[r + 1])
                if hi > lo:
                    m = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=int, scheme="affine32")
                    m.update_batch(h32[lo:hi].tolist())
                    out[r] = m.hashvalues
            return out
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


def minhash_scheme(backend: str) -> str:
    """The signature scheme a backend computes: ``affine32``, ``numpy`` and ``datasketch`` give
    the same values, so an index built by one is read by the others."""
    return "affine32" if backend in ("affine32", "numpy", "datasketch") else backend


def identity(cfg: DedupConfig) -> dict:
    """What must match for signatures of two runs to be comparable."""
    return {"minhash_backend": minhash_scheme(cfg.minhash_backend), "num_perm": cfg.num_perm, "seed": cfg.seed,
            "shingle_words": cfg.shingle_words, "bands": cfg.bands, "shingling": SHINGLING}


@dataclass
class Keys:
    """Keys of one segment: the table plus its signature and band-hash matrices."""
    table: pa.Table
    sig: np.ndarray          # (n, num_perm) uint32
    bands: np.ndarray        # (bands, n) uint64

    def write(self, base: str) -> None:
        _save_npy(self.sig, base + ".sig.npy")
        _save_npy(self.bands, base + ".bands.npy")
        write.write_table(self.table, base + ".keys.parquet", "zstd")   # last: marks it complete

    def take(self, mask: np.ndarray) -> "Keys":
        idx = np.flatnonzero(mask)
        return Keys(self.table.take(pa.array(idx)), self.sig[idx], self.bands[:, idx])

    @staticmethod
    def concat(parts: list["Keys"], cfg: DedupConfig) -> "Keys":
        parts = [k for k in parts if k.table.num_rows]
        if not parts:
            return empty_keys(cfg)
        return Keys(pa.concat_tables([k.table for k in parts]), np.concatenate([k.sig for k in parts]),
                    np.concatenate([k.bands for k in parts], axis=1))

    @staticmethod
    def read(base: str) -> "Keys":
        return Keys(write.read_table(base + ".keys.parquet"), np.load(base + ".sig.npy"),
                    np.load(base + ".bands.npy"))


def _save_npy(arr: np.ndarray, path: str) -> None:
    write.write_array(np.ascontiguousarray(arr), path)


def empty_keys(cfg: DedupConfig) -> Keys:
    return Keys(KEYS_SCHEMA.empty_table(), np.zeros((0, cfg.num_perm), np.uint32),
                np.zeros((cfg.bands, 0), np.uint64))


def band_hashes(sig: np.ndarray, bands: int) -> np.ndarray:
    """(bands, n) uint64: a 64-bit hash of each band's rows, salted by the band number. By the
    compiled kernel where it was built (a perf shard's 49,500 signatures of 128 values in 32 bands:
    0.012-0.018 CPU s, against 0.127-0.150 in numpy, whose passes over strided columns make a
    temporary each), else numpy."""
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


def keys_for_documents(docs: list[Document], cfg: DedupConfig, kept_paragraphs: list | None = None) -> Keys:
    """Exact hashes and signatures of every document and paragraph that is still kept, computed
    in batches of whole documents (bounded buffers). ``kept_paragraphs``: each document's
    ``kept_paragraphs()`` (None for a removed document) when the caller has them already.

    A document's shingles are the union of its paragraphs' shingles, so its signature is the
    element-wise minimum of theirs and its normalised text the concatenation of theirs: nothing
    is computed twice.
    """
    hasher = MinHasher(cfg.minhash_backend, cfg.num_perm, cfg.seed)
    parts, batch, size = [], [], 0
    if kept_paragraphs is None:
        kept_paragraphs = [d.kept_paragraphs() if d.reason is None else None for d in docs]
    for d, kept in zip(docs, kept_paragraphs):
        if kept:
            batch.append((d, kept))
            size += sum(len(t) for _, t in kept)
        if size >= 200_000:            # cache-sized batches: about twice as fast as 4 MB ones
            parts.append(_batch_keys(batch, cfg, hasher))
            batch, size = [], 0
    if batch:
        parts.append(_batch_keys(batch, cfg, hasher))
    return Keys.concat(parts, cfg)


def _batch_keys(items: list, cfg: DedupConfig, hasher: MinHasher) -> Keys:
    texts = [t for _, kept in items for _, t in kept]
    toks = tokenize(texts)
    flat, offsets = shingle_hashes(toks, cfg.shingle_words)
    sig = hasher.signatures(flat, offsets)
    ntok = toks.ntok
    size = np.where(toks.cjk, ntok // 2, ntok)        # CJK: about two characters per word
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    n_per_doc = np.array([len(kept) for _, kept in items], dtype=np.int64)
    doc_of = np.repeat(np.arange(len(items)), n_per_doc)
    # Paragraph rows, then document rows (order is irrelevant: the barrier ranks by position).
    cols = {"kind": [], "file": [], "pos": [], "para": [], "doc_id": [], "length": [], "exact": [], "has_sig": []}
    parts_sig = []
    doc_file = np.fromiter((d.order[0] for d, _ in items), np.int32, len(items))
    doc_pos = np.fromiter((d.order[1] for d, _ in items), np.int64, len(items))
    doc_ids = [d.doc_id for d, _ in items]
    if cfg.paragraphs:
        idx = np.flatnonzero(np.diff(toks.norm_offsets) > 0)
        para_idx = np.fromiter((p.idx for _, kept in items for p, _ in kept), np.int32, len(texts))
        cols["kind"].append(np.full(len(idx), KIND_PARA, np.int8))
        cols["file"].append(doc_file[doc_of[idx]])
        cols["pos"].append(doc_pos[doc_of[idx]])
        cols["para"].append(para_idx[idx])
        cols["doc_id"].append([doc_ids[i] for i in doc_of[idx].tolist()])
        cols["length"].append(lengths[idx])
        cols["exact"].append(toks.exact_many(idx, idx + 1))
        cols["has_sig"].append(size[idx] >= cfg.min_near_words)
        parts_sig.append(sig[idx])
    if cfg.documents:
        starts = np.r_[0, np.cumsum(n_per_doc)[:-1]]
        cols["kind"].append(np.full(len(items), KIND_DOC, np.int8))
        cols["file"].append(doc_file)
        cols["pos"].append(doc_pos)
        cols["para"].append(np.full(len(items), -1, np.int32))
        cols["doc_id"].append(doc_ids)
        cols["length"].append(np.add.reduceat(lengths, starts) + 2 * (n_per_doc - 1))
        cols["exact"].append(toks.exact_many(starts, starts + n_per_doc))
        cols["has_sig"].append(np.add.reduceat(size, starts) >= cfg.min_near_words)
        parts_sig.append(np.minimum.reduceat(sig, starts, axis=0))
    if not parts_sig:
        return empty_keys(cfg)
    table = pa.table({name: pa.array(np.concatenate(v) if name != "doc_id" else [x for part in v for x in part],
                                     type=KEYS_SCHEMA.field(name).type) for name, v in cols.items()},
                     schema=KEYS_SCHEMA)
    out = np.concatenate(parts_sig)
    return Keys(table, out, band_hashes(out, cfg.bands))


# ------------------------------------------------------------------------------- barrier
@dataclass
class Segment:
    """Keys of one shard of this run (``shard`` >= 0) or one earlier run (``run`` set)."""
    base: str
    shard: int = -1
    run: str = ""
    exclude_run: str = ""     # rows of this run inside a history segment are ignored

    @property
    def hist(self) -> bool:
        return self.shard < 0


def npy_header(fh) -> tuple[int, tuple]:
    """(data offset, shape) of the .npy file open as ``fh``, its header read and the file left
    after it."""
    major, _minor = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, _fortran, _dtype = read(fh)
    return fh.tell(), shape


class _BandReader:
    """Reads the key files of segments by global item id (the segments' rows numbered one after
    another): one LSH band of chosen items (each segment's band is one contiguous plain read, so
    no mapped pages accumulate), signatures, the Jaccard of pairs, document ids."""

    def __init__(self, bases: list[str], sizes: np.ndarray):
        self.bases = bases
        self.sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self._headers: dict = {}
        self._row: dict = {}       # one reusable read buffer per segment size
        self._ws = _Workspace()
        self.worker_cpu = 0.0      # CPU seconds of the barrier's work run by workers

    def __len__(self):
        return int(self.offsets[-1])

    def _npy(self, i: int, suffix: str) -> tuple[str, int, tuple]:
        """(path, data offset, shape) of a segment's .npy file, header read once."""
        key = (i, suffix)
        if key not in self._headers:
            path = self.bases[i] + suffix
            with open(path, "rb") as fh:
                self._headers[key] = (path, *npy_header(fh))
        return self._headers[key]

    def _buffer(self, name: str, n: int, dtype) -> np.ndarray:
        """A reusable read buffer of ``n`` items: a fresh one per read would be mapped and zeroed
        by the kernel every time (a page fault per 4 KB)."""
        return self._ws.get(name, n, dtype)

    def _runs(self, sorted_idx: np.ndarray):
        """(segment, start, end) of the runs of ``sorted_idx`` that fall in each segment."""
        cuts = np.searchsorted(sorted_idx, self.offsets)
        for i in range(len(self.bases)):
            if cuts[i] < cuts[i + 1]:
                yield i, cuts[i], cuts[i + 1]

    def band(self, b: int, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Band ``b`` hashes of the items ``idx`` (sorted global ids)."""
        out = np.empty(len(idx), dtype=np.uint64) if out is None else out
        for i, lo, hi in self._runs(idx):
            path, off, shape = self._npy(i, ".bands.npy")
            row = self._row.get(shape[1])
            if row is None:
                row = self._row[shape[1]] = np.empty(shape[1], np.uint64)
            with open(path, "rb") as fh:
                fh.seek(off + b * shape[1] * 8)
                if fh.readinto(memoryview(row).cast("B")) != shape[1] * 8:
                    raise OSError(f"{path}: band {b} is incomplete")
            local = np.subtract(idx[lo:hi], self.offsets[i])
            np.take(row, local, out=out[lo:hi])
        return out

    def sigs(self, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Signatures of the items ``idx`` (sorted global ids; repeats allowed), into ``out`` if
        given. Per segment, where the wanted rows are dense in their span (one in eight or more)
        that span is read in one sequential read; otherwise the rows are gathered from a memory
        map (a page fault per 64 KB touched, cheaper than reading a sparse span)."""
        if not len(idx):
            return np.zeros((0, self.sig_width()), np.uint32)
        w = self.sig_width()
        out = np.empty((len(idx), w), np.uint32) if out is None else out
        for i, lo, hi in self._runs(idx):
            path, off, shape = self._npy(i, ".sig.npy")
            rows = idx[lo:hi] - self.offsets[i]
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            if (hi - lo) * 8 >= r1 - r0:
                span = self._buffer("sig", (r1 - r0) * w, np.uint32)
                with open(path, "rb") as fh:
                    fh.seek(off + r0 * w * 4)
                    if fh.readinto(memoryview(span).cast("B")) != span.nbytes:
                        raise OSError(f"{path}: signatures are incomplete")
                np.take(span.reshape(-1, w), rows - r0, axis=0, out=out[lo:hi])
            else:
                mm = np.memmap(path, dtype=np.uint32, mode="r", offset=off, shape=tuple(shape))
                np.take(mm, rows, axis=0, out=out[lo:hi])
                del mm
        return out

    def sig_width(self) -> int:
        return int(self._npy(0, ".sig.npy")[2][1]) if self.bases else 0

    def jaccard(self, a: np.ndarray, b: np.ndarray, max_bytes: int = 64 << 20, sub: int = 1 << 14) -> np.ndarray:
        """Estimated Jaccard of the pairs (a[i], b[i]), in chunks of pairs whose signatures take
        ``max_bytes`` on each side. The pairs go sorted by ``a``, so that a chunk's ``a`` side is a
        few dense spans (sequential reads); its ``b`` side is gathered in sorted order. (Reading
        the two sides of each chunk as one set of rows, whole segment files for the dense one,
        took twice as long on the 1 GB perf corpus: 6.1 against 3.0 s for 3.2 million pairs.)"""
        out = np.empty(len(a), dtype=np.float64)
        if not len(a):
            return out
        order = None
        if np.any(a[1:] < a[:-1]):
            order = np.argsort(a, kind="stable")
            a, b = a[order], b[order]
        w = self.sig_width()
        chunk = max(1, max_bytes // (4 * w) // sub) * sub            # a multiple of ``sub``
        ws = _Workspace()
        for i in range(0, len(a), chunk):
            ca, cb = a[i:i + chunk], b[i:i + chunk]
            k = len(ca)
            first = np.r_[True, ca[1:] != ca[:-1]]
            ia = np.cumsum(first) - 1                       # row of each pair's a in sa
            ua = ca[first]
            sa = self.sigs(ua, ws.get("sa", len(ua) * w, np.uint32).reshape(-1, w))
            ob = np.argsort(cb, kind="stable")
            sb = self.sigs(cb[ob], ws.get("sb", k * w, np.uint32).reshape(-1, w))
            ib = np.empty(k, np.int64)
            ib[ob] = np.arange(k)                           # row of each pair's b in sb
            _agreement(sa, ia, sb, ib, out[i:i + k], sub)
        if order is not None:
            res = np.empty_like(out)
            res[order] = out
            out = res
        return out

    def jaccard_of(self, ids: np.ndarray, parallel_map=None, tmp: str = ""):
        """``sim(a, b)``: estimated Jaccard of pairs of items among ``ids`` (sorted, unique). When
        their signatures fit in ``SIG_BUFFER`` bytes they are read once for all the calls (the
        pairs, then the members and their keepers); otherwise each call reads what it needs
        (``jaccard``), on the workers when given ``parallel_map`` and a folder ``tmp`` they see
        and more than ``PAIRS_PER_TASK`` pairs."""
        if not len(self.bases) or len(ids) * 4 * self.sig_width() > SIG_BUFFER:
            if parallel_map is None or not tmp:
                return self.jaccard
            return lambda a, b: self._jaccard_on_workers(a, b, parallel_map, tmp)
        s = self.sigs(ids)

        def sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            out = np.empty(len(a), dtype=np.float64)
            _agreement(s, np.searchsorted(ids, a), s, np.searchsorted(ids, b), out)
            return out
        return sim

    def _jaccard_on_workers(self, a: np.ndarray, b: np.ndarray, parallel_map, tmp: str) -> np.ndarray:
        """``jaccard``, a task per ``PAIRS_PER_TASK`` pairs (sorted by ``a``, so that each task's
        ``a`` side is a few dense spans). The values do not depend on how the pairs are cut."""
        if len(a) <= PAIRS_PER_TASK:
            return self.jaccard(a, b)
        order = np.argsort(a, kind="stable")
        cuts = list(range(0, len(a), PAIRS_PER_TASK)) + [len(a)]
        parts = self.on_workers(parallel_map, tmp, "pairs.npy",
                                lambda path: np.save(path, np.stack([a[order], b[order]], axis=1)),
                                jaccard_task, list(zip(cuts[:-1], cuts[1:])))
        out = np.empty(len(a), dtype=np.float64)
        out[order] = np.concatenate(parts)
        return out

    def on_workers(self, parallel_map, tmp: str, name: str, save, task, args: list[tuple]) -> list:
        """``task(bases, sizes, path, *a, driver)`` for each ``a`` of ``args``, by ``parallel_map``,
        with the file ``save(path)`` writes in ``tmp`` (named as the ranges barrier names its files,
        removed afterwards). Returns the tasks' results; their CPU seconds go to ``worker_cpu``."""
        os.makedirs(tmp, exist_ok=True)
        path = os.path.join(tmp, f"{write.TMP_MARK}{os.getpid()}-{name}")
        save(path)
        sizes, me = self.sizes.tolist(), process_token()
        try:
            parts = parallel_map(task, [(self.bases, sizes, path, *x, me) for x in args])
        finally:
            os.remove(path)
        self.worker_cpu += sum(cpu for _, cpu in parts)
        return [r for r, _ in parts]

    def doc_ids_array(self, idx: np.ndarray) -> pa.Array:
        """Document ids of the items ``idx`` (sorted, unique), in that order."""
        parts = [pa.array([], pa.string())]
        for i, lo, hi in self._runs(idx):
            col = write.read_table(self.bases[i] + ".keys.parquet", columns=["doc_id"]).column("doc_id")
            parts.append(col.take(pa.array(idx[lo:hi] - self.offsets[i])).combine_chunks().cast(pa.string()))
        return pa.concat_arrays(parts)


def _agreement(sa: np.ndarray, ia: np.ndarray, sb: np.ndarray, ib: np.ndarray, out: np.ndarray,
               sub: int = 1 << 14) -> None:
    """``out[j]``: the share of equal values in signatures ``sa[ia[j]]`` and ``sb[ib[j]]`` (the
    estimated Jaccard): by the compiled kernel (500,000 pairs of 128 values: 0.09-0.12 CPU s against
    0.38-0.46 for numpy, which gathers both rows into temporaries), or by numpy in sub-chunks
    whose temporaries malloc reuses (larger ones are mapped afresh every time)."""
    w = sa.shape[1]
    if sb.shape[1] != w or not len(ia) == len(ib) == len(out):
        raise ValueError("signature pairs: both sides need the same width, and one index pair per output")
    if (_native is not None and len(ia) and sa.dtype == sb.dtype == np.uint32 and out.dtype == np.float64
            and out.flags.c_contiguous):
        _native.agreement(np.ascontiguousarray(sa), np.ascontiguousarray(ia, np.int64), np.ascontiguousarray(sb),
                          np.ascontiguousarray(ib, np.int64), w, out)
        return
    _agreement_numpy(sa, ia, sb, ib, out, sub)


def _agreement_numpy(sa: np.ndarray, ia: np.ndarray, sb: np.ndarray, ib: np.ndarray, out: np.ndarray,
                     sub: int = 1 << 14) -> None:
    w = sa.shape[1]
    for s in range(0, len(ia), sub):
        e = min(s + sub, len(ia))
        out[s:e] = np.count_nonzero(sa[ia[s:e]] == sb[ib[s:e]], axis=1) / w


class _Corpus(_BandReader):
    """The small per-item columns of all segments, in one global numbering, plus lazy access to
    signatures, bands and doc ids by segment."""

    def __init__(self, segments: list[Segment]):
        self.segments = require_keys(segments)
        check_history_first(self.segments)
        cols = ["kind", "file", "pos", "para", "length", "exact", "has_sig"]
        tabs = [write.read_table(s.base + ".keys.parquet", columns=cols) for s in self.segments]
        _BandReader.__init__(self, [s.base for s in self.segments],
                             np.array([t.num_rows for t in tabs], dtype=np.int64))
        cat = lambda name, dt: (np.concatenate([np.asarray(t.column(name).to_numpy(zero_copy_only=False), dt)
                                                for t in tabs]) if tabs else np.zeros(0, dt))
        self.kind = cat("kind", np.int8)
        for i, seg in enumerate(self.segments):
            if seg.hist and seg.exclude_run:
                runs = write.read_table(seg.base + ".keys.parquet", columns=["run"]).column("run")
                mine = np.asarray(pc.equal(runs, seg.exclude_run).to_numpy(zero_copy_only=False), bool)
                self.kind[self.offsets[i]:self.offsets[i + 1]][mine] = -1
        self.file = cat("file", np.int64)
        self.pos = cat("pos", np.int64)
        self.para = cat("para", np.int64)
        self.length = cat("length", np.int64)
        self.exact = cat("exact", np.uint64)
        self.has_sig = cat("has_sig", bool)
        self.seg = np.repeat(np.arange(len(self.segments)), self.sizes)
        self.hist = np.repeat(np.array([s.hist for s in self.segments], bool), self.sizes)

    def col(self, name: str, idx: np.ndarray) -> np.ndarray:
        """Column ``name`` (file, pos, para, length, seg, hist) of the items ``idx``."""
        return getattr(self, name)[idx]


KEY_FILES = (".keys.parquet", ".sig.npy", ".bands.npy")       # what ``Keys.write`` writes (keys last)


class MissingKeys(Exception):
    """A segment the barrier must read has lost a file: a history segment's (the state folder was
    changed by hand, or damaged) or a shard's of this run (its work folder was). Deduplicating
    without it would silently keep the copies it holds."""

    def __init__(self, message: str, hist: bool):
        super().__init__(message)
        self.hist = hist

    def __reduce__(self):             # raised in a worker, it reaches the driver whole
        return MissingKeys, (str(self), self.hist)


def has_keys(base: str) -> bool:
    """Are all of a segment's key files there?"""
    return all(os.path.exists(base + suffix) for suffix in KEY_FILES)


def require_keys(segments: list[Segment]) -> list[Segment]:
    """The segments, once each is known to have all its files (else ``MissingKeys``, naming it)."""
    for s in segments:
        if has_keys(s.base):
            continue
        for suffix in KEY_FILES:
            path = s.base + suffix
            if not os.path.exists(path):
                what = (f"segment {os.path.basename(s.base)} of the history index" if s.hist
                        else f"shard {s.shard}'s emitted keys" if s.base.endswith(".emitted")
                        else f"shard {s.shard}'s dedup keys")
                raise MissingKeys(f"{what}: {path} is missing", s.hist)
    return segments


def check_history_first(segments: list[Segment]) -> None:
    """The items are ranked by their numbering, which puts history first only when its segments
    come first."""
    hist = [s.hist for s in segments]
    if any(h and not prev for prev, h in zip(hist, hist[1:])):
        raise ValueError("the history index's segments must come before this run's shards")


def _rank(c: "_Corpus", idx: np.ndarray, keep: str) -> np.ndarray:
    """``idx`` (sorted) reordered best keeper first: history first, in the order it was appended,
    then the keep rule. Rows are numbered in input order (history segments first, then this run's
    shards in input order, each in the order its documents were read), so ``first`` is the
    numbering itself; ``longest`` puts the longest first within history's segments and within
    this run, ties in input order."""
    if keep == "longest":
        return idx[np.lexsort((idx, -c.length[idx], rank_group(c.hist[idx], c.seg[idx], len(c.segments))))]
    return idx


def rank_group(hist: np.ndarray, seg: np.ndarray, nsegs: int) -> np.ndarray:
    """What ranks before length under ``keep: longest``: each history segment's number (they come
    first, in append order), then one group for this run."""
    return np.where(hist, seg, nsegs).astype(np.int64)


class _Workspace:
    """Reusable arrays for the per-band passes: fresh multi-megabyte arrays are mapped and zeroed
    by the kernel on every allocation, which made the barrier superlinear in its input."""

    def __init__(self):
        self._bufs: dict = {}

    def get(self, name: str, n: int, dtype) -> np.ndarray:
        buf = self._bufs.get(name)
        if buf is None or len(buf) < n or buf.dtype != dtype:
            buf = self._bufs[name] = np.empty(n, dtype)
        return buf[:n]

    def arange(self, n: int) -> np.ndarray:
        buf = self._bufs.get("arange")
        if buf is None or len(buf) < n:
            buf = self._bufs["arange"] = np.arange(n, dtype=np.uint64)
        return buf[:n]


def _runs_of_equal(values: np.ndarray, ws: _Workspace | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For uint64 ``values`` (any order): (head position, member position) of every value that
    repeats an earlier-ranked one, where a position is the value's index (its rank) and the head
    is the best-ranked position of that value. The few positions that may repeat
    (``repeat_candidates``) are sorted by their full value, so that unrelated values which share
    their high bits do not take the place of a real head."""
    pos = repeat_candidates(values, ws)
    v = values[pos]
    order = np.lexsort((pos, v))
    v, pos = v[order], pos[order]
    return run_pairs(np.r_[True, v[1:] != v[:-1]] if len(v) else np.zeros(0, bool), pos)


def repeat_candidates(values: np.ndarray, ws: _Workspace | None = None) -> np.ndarray:
    """Positions of the uint64 ``values`` that share their high bits with another value: every
    repeated value is among them, with a few unrelated ones. Values are packed with their
    position into one uint64 and sorted by value alone (a fast SIMD sort, where sorting indices
    is several times slower); the low bits of the value are sacrificed."""
    ws = ws or _Workspace()
    n = len(values)
    bits = np.uint64(max(1, int(n - 1).bit_length()))
    mask = np.uint64((1 << int(bits)) - 1)
    packed = ws.get("packed", n, np.uint64)
    np.right_shift(values, bits, out=packed)
    np.left_shift(packed, bits, out=packed)
    np.bitwise_or(packed, ws.arange(n), out=packed)
    packed.sort()
    hi = np.right_shift(packed, bits, out=ws.get("hi", n, np.uint64))
    same = np.flatnonzero(np.equal(hi[1:], hi[:-1], out=ws.get("eq", max(0, n - 1), bool))) + 1
    return (packed[_unique(np.concatenate([same - 1, same]))] & mask).astype(np.int64)


def run_pairs(first: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``ids`` in runs whose starts ``first`` marks: (the run's first id, other id) for every
    id that does not start its run."""
    other = np.flatnonzero(~first)
    head = np.flatnonzero(first)[np.cumsum(first) - 1]
    return ids[head[other]], ids[other]


def _unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-d array. numpy 2's ``np.unique`` goes through a hash table
    when no indices are asked for, which is ~100x slower than sorting on millions of values
    (11 s against 0.12 s for 10 million int64)."""
    s = np.sort(x)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def components(edges: np.ndarray, n: int) -> np.ndarray:
    """Connected components of the undirected graph on nodes 0..n-1 with ``edges`` (m x 2): the
    smallest node of each node's component. Each round hooks the larger root of every edge that
    joins two trees under the smaller one, then points every node at its root; a root that is
    not the smallest of its neighbours is hooked, so the number of trees at least halves each
    round (logarithmic rounds, even for a long chain)."""
    label = np.arange(n, dtype=np.int64)
    u, v = edges[:, 0], edges[:, 1]
    while True:
        ru, rv = label[u], label[v]
        cross = ru != rv
        if not cross.any():
            return label
        ru, rv = ru[cross], rv[cross]
        np.minimum.at(label, np.maximum(ru, rv), np.minimum(ru, rv))
        while True:                      # parents are smaller than their children: no cycles
            up = label[label]
            if np.array_equal(up, label):
                break
            label = up
        u, v = u[cross], v[cross]


# The barrier's peak memory per document or paragraph it reads (its per-item columns, ranks and
# sort buffers), measured: 240 bytes for 10 million synthetic signatures (scripts/bench_dedup.py,
# 2.39 GB), ~360 for the 1 GB perf corpus (965 MB for the whole driver, ~2.7 million items).
BARRIER_BYTES_PER_ITEM = 360


def barrier_items(segments: list[Segment]) -> int:
    """How many documents and paragraphs the barrier reads from ``segments`` (the key files' footers)."""
    import pyarrow.parquet as pq
    return sum(pq.ParquetFile(s.base + ".keys.parquet").metadata.num_rows for s in require_keys(segments))


_PROC, _CGROUP_ROOT = "/proc", "/sys/fs/cgroup"       # (tests point these elsewhere)


def available_memory() -> int | None:
    """Bytes of memory this process can still get now: the machine's ``MemAvailable``, or less
    when a cgroup above the process (a systemd ``MemoryMax=``, a container, a batch scheduler)
    limits it, since the kernel kills at that limit whatever the machine has. None when neither
    can be read (not Linux)."""
    found = []
    try:
        with open(os.path.join(_PROC, "meminfo"), encoding="ascii") as fh:
            found += [int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:")]
    except (OSError, ValueError, IndexError):
        pass
    room = _cgroup_room()
    if room is not None:
        found.append(room)
    return min(found) if found else None


def _cgroup_room() -> int | None:
    """The smallest (limit - usage) over this process's memory cgroup and its parents, cgroup v2
    (``memory.max``, ``memory.current``) or v1 (``memory.limit_in_bytes``, ``memory.usage_in_bytes``);
    None when no level has a limit."""
    try:
        with open(os.path.join(_PROC, "self", "cgroup"), encoding="utf-8") as fh:
            entries = [line.rstrip("\n").split(":", 2) for line in fh if line.count(":") >= 2]
    except OSError:
        return None
    for _hid, ctrls, path in entries:
        if ctrls == "":
            root, files = _CGROUP_ROOT, ("memory.max", "memory.current")
        elif "memory" in ctrls.split(","):
            root, files = os.path.join(_CGROUP_ROOT, "memory"), ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        rooms = []
        d = os.path.join(root, path.strip("/"))
        while True:
            try:
                with open(os.path.join(d, files[0]), encoding="ascii") as a, \
                        open(os.path.join(d, files[1]), encoding="ascii") as b:
                    limit, usage = a.read().strip(), b.read().strip()
                if limit.isdigit() and int(limit) < 1 << 60 and usage.isdigit():    # "max", v1's "none"
                    rooms.append(max(0, int(limit) - int(usage)))
            except OSError:
                pass
            if os.path.normpath(d) == os.path.normpath(root):
                break
            d = os.path.dirname(d)
        if rooms:
            return min(rooms)
    return None


# Smaller band passes are not worth shipping to workers. At 200,000 the 97.9 MB perf corpus's
# paragraphs stayed in the driver: its barrier took 1.01-1.15 s with 2 workers, against 0.70-0.93 s
# on them (three interleaved pairs, 3 December).
PARALLEL_MIN_ITEMS = 50_000


def _band_edges(c, cand_sorted: np.ndarray, to_rank: np.ndarray, band_ids) -> np.ndarray:
    """Candidate pairs (head, member) as global ids from the LSH bands ``band_ids``."""
    in_rank = cand_sorted[to_rank]              # candidates, best first
    edges = [np.zeros((0, 2), np.int64)]
    ws = _Workspace()
    for b in band_ids:
        band = c.band(b, cand_sorted, out=ws.get("band", len(cand_sorted), np.uint64))
        head, mem = _runs_of_equal(np.take(band, to_rank, out=ws.get("ranked", len(to_rank), np.uint64)), ws)
        if len(mem):
            edges.append(np.stack([in_rank[head], in_rank[mem]], axis=1))
    return np.concatenate(edges)


def band_edges_task(bases: list[str], sizes: list[int], cand_path: str, band_ids: list[int], driver: str):
    """The band pass for some bands, in a worker process (``resolve(..., parallel_map=...)``).
    Returns (pairs, CPU seconds)."""
    t0 = time.process_time()
    c = _BandReader(bases, np.array(sizes, np.int64))
    with np.load(cand_path) as z:
        edges = _band_edges(c, z["cand_sorted"], z["to_rank"], band_ids)
    return edges, task_cpu(t0, driver)


def jaccard_task(bases: list[str], sizes: list[int], pairs_path: str, lo: int, hi: int, driver: str):
    """Estimated Jaccard of the pairs ``lo:hi`` of the (m x 2) file ``pairs_path``, in a worker
    process (``_BandReader.jaccard_of``). Returns (values, CPU seconds)."""
    t0 = time.process_time()
    c = _BandReader(bases, np.array(sizes, np.int64))
    pairs = np.load(pairs_path, mmap_mode="r")[lo:hi]
    vals = c.jaccard(np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]))
    del pairs
    return vals, task_cpu(t0, driver)


def process_token() -> str:
    """This process, across the machines of a cluster: host and pid."""
    return f"{platform.node()}:{os.getpid()}"


def task_cpu(t0: float, driver: str) -> float:
    """CPU seconds of a task since ``t0``, or 0 when it ran in the driver (``process_token()``
    ``driver``) itself: an executor with one worker runs tasks inline, and the driver counts its
    own CPU."""
    return 0.0 if process_token() == driver else time.process_time() - t0


# Signatures the Jaccard of candidate pairs may hold at once in the driver (``jaccard_of``); more
# are read per chunk of pairs, and from PAIRS_PER_TASK pairs on the workers: on the 1 GB perf
# corpus the paragraphs' 3.2 million candidate pairs and 0.8 million member-keeper pairs took
# the driver 5.5 CPU s (1.5 million paragraphs' signatures, 0.75 GB).
SIG_BUFFER = 64 << 20
PAIRS_PER_TASK = 1 << 19

# Pairs of items are packed as one int64 (first x items + second): at most this many items.
MAX_ITEMS = 3_000_000_000


def _cluster(c: _Corpus, ranked: np.ndarray, bands: int, threshold: float, parallel_map=None, tmp: str = ""):
    """Items ``ranked`` best first. Returns arrays (member, keeper, similarity, exact) of drops."""
    n = len(ranked)
    members, keepers, sims, exact = [], [], [], []
    if n == 0:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0), np.zeros(0, bool))
    # Exact: the best-ranked member of each hash group is kept.
    head, mem = _runs_of_equal(c.exact[ranked])
    ex_member, ex_keeper = ranked[mem], ranked[head]
    members.append(ex_member), keepers.append(ex_keeper)
    sims.append(np.ones(len(ex_member))), exact.append(np.ones(len(ex_member), bool))
    # Near: candidates are items with a signature that are not exact copies.
    is_dup = np.zeros(len(c), bool)
    is_dup[ex_member] = True
    cand = ranked[c.has_sig[ranked] & ~is_dup[ranked]]          # still best first
    if len(cand) >= 2 and threshold <= 1.0:
        cand_sorted = np.sort(cand)                 # for contiguous reads
        rank = np.empty(len(c), dtype=np.int64)
        rank[ranked] = np.arange(n)
        to_rank = np.argsort(rank[cand_sorted], kind="stable")
        if parallel_map is not None and tmp and len(cand) >= PARALLEL_MIN_ITEMS:
            # One task per group of bands; the pairs come back and are merged in band order.
            groups = [(list(range(b, bands, 4)),) for b in range(min(4, bands))]
            e = np.concatenate(c.on_workers(parallel_map, tmp, "cand.npz",
                                            lambda path: np.savez(path, cand_sorted=cand_sorted, to_rank=to_rank),
                                            band_edges_task, groups))
        else:
            e = _band_edges(c, cand_sorted, to_rank, range(bands))
        mem, kee, j = near_drops(c, e, lambda nodes: (rank[nodes],), threshold, parallel_map, tmp)
        members.append(mem), keepers.append(kee), sims.append(j), exact.append(np.zeros(len(mem), bool))
    return (np.concatenate(members), np.concatenate(keepers), np.concatenate(sims), np.concatenate(exact))


def near_drops(c: _BandReader, e: np.ndarray, order_keys, threshold: float, parallel_map=None, tmp: str = ""):
    """From candidate pairs ``e`` (m x 2 global ids, repeats allowed): the pairs whose estimated
    Jaccard reaches ``threshold`` are joined into connected components; each component keeps its
    best-ranked item (``order_keys(nodes)``: the keys of ``np.lexsort``, most significant last),
    and a member is dropped when its own Jaccard to that keeper reaches the threshold. Returns
    (member, keeper, similarity) arrays. ``parallel_map``, ``tmp``: see ``jaccard_of``."""
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(c) > MAX_ITEMS:
        raise ValueError(f"{len(c):,} documents and paragraphs: more than the barrier's {MAX_ITEMS:,}")
    if not len(e):
        return none
    width = np.int64(len(c))
    e = _unique(e[:, 0] * width + e[:, 1])                 # one int64 per pair
    e = np.stack([e // width, e % width], axis=1)
    sim = c.jaccard_of(_unique(e.ravel()), parallel_map, tmp)
    e = e[sim(e[:, 0], e[:, 1]) >= threshold]
    if not len(e):
        return none
    nodes = _unique(e.ravel())
    label = nodes[components(np.searchsorted(nodes, e), len(nodes))]
    order = np.lexsort(order_keys(nodes) + (label,))     # best-ranked node first in each component
    lab, nod = label[order], nodes[order]
    st = np.r_[True, lab[1:] != lab[:-1]]
    keeper = nod[np.flatnonzero(st)[np.cumsum(st) - 1]]
    m = nod != keeper
    mem, kee = nod[m], keeper[m]
    if not len(mem):
        return none
    j = sim(mem, kee)
    good = j >= threshold
    return mem[good], kee[good], j[good]


def warm_up() -> float:
    """What the barrier's first use of pyarrow costs in a fresh driver (pyarrow imports pandas
    then, ~0.15 s, unless the command held it back: pipeline/nopandas.py), paid ahead; the runner
    calls it in a thread while the workers are busy. Returns the CPU seconds of the calling thread."""
    t0 = time.thread_time()
    pa.array(np.zeros(1, np.int64))
    return time.thread_time() - t0


def resolve(segments: list[Segment], cfg: DedupConfig, parallel_map=None, tmp: str = "",
            stats: dict | None = None, out: str = "") -> pa.Table | int:
    """Decisions for this run: one row per dropped document or paragraph of a current shard, as a
    table, or written to the Parquet file ``out`` as they are made (``finish``), which returns
    their number.

    ``parallel_map(fn, [args...])`` (an executor's map) spreads the LSH band pass of large inputs
    over workers; ``tmp`` is then a folder they all see, and ``stats["worker_cpu"]`` receives their
    CPU seconds. The decisions do not depend on it. ``stats["cluster_sizes"]``: how many kept copies
    have 2, 3, ... 10+ copies (this run's drops)."""
    c = _Corpus(segments)
    if not len(c):
        return finish(c, [], stats, 0.0, out)
    results = []
    dropped_docs = np.zeros(0, np.int64)
    if cfg.documents:
        idx = np.flatnonzero(c.kind == KIND_DOC)
        mem, kee, sim, ex = _cluster(c, _rank(c, idx, cfg.keep), cfg.bands, cfg.document_threshold,
                                     parallel_map, tmp)
        live = ~c.hist[mem]
        results.append((mem[live], kee[live], sim[live], ex[live], "duplicate_document", "duplicate_document"))
        dropped_docs = _doc_key(c.file[mem[live]], c.pos[mem[live]])
    if cfg.paragraphs:
        idx = np.flatnonzero(c.kind == KIND_PARA)
        if len(dropped_docs):
            gone = np.isin(_doc_key(c.file[idx], c.pos[idx]), dropped_docs) & ~c.hist[idx]
            idx = idx[~gone]
        mem, kee, sim, ex = _cluster(c, _rank(c, idx, cfg.keep), cfg.bands, cfg.paragraph_threshold,
                                     parallel_map, tmp)
        live = ~c.hist[mem]
        results.append((mem[live], kee[live], sim[live], ex[live], "duplicate_exact", "duplicate_near"))
    return finish(c, results, stats, c.worker_cpu, out)


# Drops per piece of the decisions when they are written as they are made. Measured on 3 December
# (6 million synthetic signatures, 5.13 million near copies of one item, barrier by ranges): the
# driver peaked at 2,230 MB building them all at once, 1,440 MB in pieces of 2^20, 909 MB in
# pieces of 2^18, where the components (``near_drops``) are the larger part.
DECISION_PIECE = 1 << 18


def finish(c, results: list, stats: dict | None, worker_cpu: float, out: str = "") -> pa.Table | int:
    """The decisions of ``results`` [(member, keeper, similarity, exact, reason if exact, reason if
    near)], sorted by position: as a table, or, given ``out``, written there a piece at a time (the
    drops of consecutive shards, about ``DECISION_PIECE`` of them), and their number returned.
    ``stats``: the workers' CPU and the cluster sizes."""
    if stats is not None:
        stats["worker_cpu"] = worker_cpu
        # Copies per kept copy (the kept one included; 10 = 10 or more), for the report.
        sizes: dict[int, int] = {}
        for mem, kee, *_ in results:
            _, n = np.unique(kee, return_counts=True)
            for size, count in zip(*np.unique(np.minimum(n + 1, 10), return_counts=True)):
                sizes[int(size)] = sizes.get(int(size), 0) + int(count)
        stats["cluster_sizes"] = {str(k): v for k, v in sorted(sizes.items())}
    pieces = _decision_pieces(c, results)
    if out:
        write.write_tables(pieces, out, DECISIONS_SCHEMA)
        return sum(len(r[0]) for r in results)
    tables = list(pieces)
    return pa.concat_tables(tables) if tables else DECISIONS_SCHEMA.empty_table()


def _decision_pieces(c, results: list):
    """The decisions tables of the drops of consecutive shards, about ``DECISION_PIECE`` drops
    each, each sorted by position. Shards cover consecutive positions (``read.plan``), and a
    shard's drops are all in one piece, so the pieces in turn are sorted too."""
    segs = [np.asarray(c.col("seg", r[0]), np.int64) for r in results]
    if not sum(len(s) for s in segs):
        return
    orders = [np.argsort(s, kind="stable") for s in segs]
    ranked = [s[o] for s, o in zip(segs, orders)]
    counts = np.cumsum(sum(np.bincount(s, minlength=len(c.segments)) for s in segs))
    start = 0
    while start < len(c.segments):
        before = counts[start - 1] if start else 0
        end = int(np.searchsorted(counts, before + DECISION_PIECE, side="left")) + 1
        end = min(max(end, start + 1), len(c.segments))
        parts = []
        for r, o, sr in zip(results, orders, ranked):
            lo, hi = np.searchsorted(sr, [start, end])
            if hi > lo:
                sel = o[lo:hi]
                parts.append(_decisions(c, r[0][sel], r[1][sel], r[2][sel], r[3][sel], r[4], r[5]))
        if parts:
            t = pa.concat_tables(parts)
            yield t.take(pa.array(np.lexsort((t.column("para").to_numpy(), t.column("pos").to_numpy(),
                                              t.column("file").to_numpy()))))
        start = end


def _json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal, as ``json.dumps(v, ensure_ascii=False)`` writes it."""
    plain = pc.binary_join_element_wise('"', values, '"', "")
    odd = np.flatnonzero(_bools(pc.match_substring_regex(values, r'["\\\x00-\x1f]')))
    if not len(odd):
        return plain
    fixed = plain.to_pylist()
    for i in odd.tolist():
        fixed[i] = json.dumps(values[i].as_py(), ensure_ascii=False)
    return pa.array(fixed, pa.string())


def _bools(arr) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), bool)


def _decisions(c, mem, kee, sim, ex, reason_exact: str, reason_near: str) -> pa.Table:
    """Decision rows for drops ``mem`` of keepers ``kee``, with their detail as JSON (sorted keys),
    built column by column: a string per row in Python took 1.3 s for the 725,000 rows of the 1 GB
    perf corpus."""
    uk = _unique(kee)
    names = c.doc_ids_array(uk)
    quoted = _json_strings(names).take(pa.array(np.searchsorted(uk, kee)))
    kept_in = pa.array([json.dumps(f"run {seg.run}" if seg.hist else "this run") for seg in c.segments],
                       pa.string()).take(pa.array(c.col("seg", kee)))
    kp = c.col("para", kee)
    para = pc.if_else(pa.array(kp >= 0), pc.binary_join_element_wise(
        '"kept_para_idx": ', pc.cast(pa.array(kp), pa.string()), ", ", ""), "")
    w = c.sig_width() or 1
    counts = np.rint(sim * w).astype(np.int64)
    table = np.array([round(k / w, 4) for k in range(w + 1)])
    if len(sim) and (counts.min() < 0 or counts.max() > w or not np.array_equal(counts / w, sim)):
        sims = pa.array([repr(round(x, 4)) for x in sim.tolist()], pa.string())    # not count / width
    else:
        sims = pa.array([repr(x) for x in table.tolist()], pa.string()).take(pa.array(counts))
    match = pc.if_else(pa.array(ex), '"match": "exact", "similarity": ', '"match": "near", "similarity": ')
    detail = pc.binary_join_element_wise('{"kept_doc_id": ', quoted, ', "kept_in": ', kept_in, ", ", para, match,
                                         sims, "}", "")
    shard_of = np.array([seg.shard for seg in c.segments], np.int64)
    return _decisions_table({"shard": shard_of[c.col("seg", mem)], "file": c.col("file", mem), "pos": c.col("pos", mem),
                             "para": c.col("para", mem), "reason": pc.if_else(pa.array(ex), reason_exact, reason_near),
                             "detail": detail})


def _doc_key(file: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (file.astype(np.int64) << 42) | pos.astype(np.int64)


# The barrier's decisions (OUT/_work/<run>/dedup/decisions.parquet): a dropped item by shard,
# position and paragraph (-1: the whole document), why, and which copy was kept (JSON).
DECISIONS_SCHEMA = pa.schema([("shard", pa.int32()), ("file", pa.int64()), ("pos", pa.int64()),
                              ("para", pa.int32()), ("reason", pa.string()), ("detail", pa.string())])


def _decisions_table(out: dict) -> pa.Table:
    return pa.table({f.name: out[f.name].cast(f.type) if isinstance(out[f.name], pa.Array)
                     else pa.array(out[f.name], f.type) for f in DECISIONS_SCHEMA}, schema=DECISIONS_SCHEMA)
