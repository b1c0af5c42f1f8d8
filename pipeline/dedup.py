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
signatures, and joined into connected components (scipy). A member is dropped only when its own
estimated Jaccard to its component's keeper reaches the threshold, so every ledger row names a
kept copy that really is similar. Documents are resolved first; paragraphs of dropped documents
take no further part. Memory is O(items) for a few small columns plus one band at a time, never
the signatures of the whole corpus.
"""
from __future__ import annotations

import itertools
import json
import re
import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from . import write
from .config import DedupConfig
from .model import Document

_NORM_RE = re.compile(r"[\W_]+", re.UNICODE)
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")

KEYS_SCHEMA = pa.schema([
    ("kind", pa.int8()), ("file", pa.int32()), ("pos", pa.int64()), ("para", pa.int32()),
    ("doc_id", pa.string()), ("length", pa.int64()), ("exact", pa.uint64()), ("has_sig", pa.bool_()),
])
KIND_DOC, KIND_PARA = 0, 1


def normalize(text: str) -> str:
    return _NORM_RE.sub("", text.casefold())


def exact_hash(text: str) -> int:
    return xxhash.xxh3_64_intdigest(normalize(text).encode("utf-8"))


SHINGLING = "token-span-fnv64-v1"    # part of the history index identity


def tokens(text: str) -> tuple[str, str, bool]:
    """(normalised text, space-separated tokens, CJK?) of a paragraph: its words, or for CJK and
    Thai text (where words are not separated) its characters."""
    low = text.casefold()
    words = _WORD_RE.findall(low)
    norm = "".join(words).replace("_", "")
    if _CJK_RE.search(norm) and len(_CJK_RE.findall(norm)) * 3 > len(norm):
        return norm, " ".join(norm), True
    return norm, " ".join(words), False


_P = np.uint64(0x100000001B3)
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))


_POW_CACHE: list[np.ndarray] = []


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^j and P^-j (mod 2^64) for j < n, kept between calls (grown by doubling)."""
    if not _POW_CACHE or len(_POW_CACHE[0]) < n:
        size = max(n, 2 * len(_POW_CACHE[0]) if _POW_CACHE else 1 << 20)
        with np.errstate(over="ignore"):
            p = np.full(size, _P, np.uint64)
            p[0] = 1
            q = np.full(size, _P_INV, np.uint64)
            q[0] = 1
            _POW_CACHE[:] = [np.cumprod(p, dtype=np.uint64), np.cumprod(q, dtype=np.uint64)]
    return _POW_CACHE[0][:n], _POW_CACHE[1][:n]


def _fmix64(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> np.uint64(33))


def shingle_hashes(token_texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes of every n-token shingle of every text, with no Python object per shingle.

    The texts are joined into one byte buffer; a shingle is the byte span from its first token's
    start to its last token's end, hashed with a polynomial prefix sum: with
    H[i] = sum_{j<i} (b[j]+1) * P^j (mod 2^64) and P odd (so invertible mod 2^64),
    hash(s, e) = (H[e] - H[s]) * P^-s. A text with fewer than n tokens is one shingle.
    Returns (flat uint64 hashes, row offsets, tokens per text)."""
    k = len(token_texts)
    buf = np.frombuffer("\n".join(token_texts).encode("utf-8"), dtype=np.uint8)
    if not len(buf):
        return np.zeros(0, np.uint64), np.zeros(k + 1, np.uint64), np.zeros(k, np.int64)
    sep = (buf == 0x20) | (buf == 0x0A)
    starts = np.flatnonzero(~sep & np.r_[True, sep[:-1]])
    ends = np.flatnonzero(~sep & np.r_[sep[1:], True]) + 1
    row = np.searchsorted(np.flatnonzero(buf == 0x0A), starts, side="right")
    ntok = np.bincount(row, minlength=k)
    t = len(starts)
    first = np.arange(max(0, t - n + 1))
    full = first[row[first + n - 1] == row[first]] if t >= n else first
    short_rows = np.flatnonzero((ntok > 0) & (ntok < n))
    row_first_tok = np.r_[0, np.cumsum(ntok)[:-1]]
    sh_start = np.concatenate([starts[full], starts[row_first_tok[short_rows]]])
    sh_end = np.concatenate([ends[full + n - 1], ends[row_first_tok[short_rows] + ntok[short_rows] - 1]])
    sh_row = np.concatenate([row[full], short_rows])
    order = np.argsort(sh_row, kind="stable")
    sh_start, sh_end, sh_row = sh_start[order], sh_end[order], sh_row[order]
    powers, inv = _powers(len(buf))
    with np.errstate(over="ignore"):
        prefix = np.empty(len(buf) + 1, np.uint64)
        prefix[0] = 0
        np.cumsum((buf.astype(np.uint64) + np.uint64(1)) * powers, dtype=np.uint64, out=prefix[1:])
        h = (prefix[sh_end] - prefix[sh_start]) * inv[sh_start]
    offsets = np.r_[0, np.cumsum(np.bincount(sh_row, minlength=k))].astype(np.uint64)
    return _fmix64(h), offsets, ntok


class MinHasher:
    """MinHash signatures (uint32) of many texts at once, from their shingle hashes.

    Backends: ``rensa`` (Rust, one call per batch), ``numpy`` (datasketch's "affine32" scheme,
    vectorised) and ``datasketch`` (the library itself, one MinHash per text). ``numpy`` and
    ``datasketch`` give identical signatures; rensa's differ but estimate Jaccard equally well.
    The history index records which backend made its signatures."""

    def __init__(self, backend: str, num_perm: int, seed: int):
        self.backend, self.num_perm, self.seed = backend, num_perm, seed
        if backend in ("numpy", "datasketch"):
            from datasketch import MinHash
            probe = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
            self._a, self._b = (np.asarray(x, dtype=np.uint32) for x in probe.permutations)
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
            sig = np.fromiter(itertools.chain.from_iterable(m.to_rows()), dtype=np.uint32,
                              count=rows * self.num_perm).reshape(rows, self.num_perm)
            empty = offsets[1:] == offsets[:-1]
            sig[empty] = 0xFFFFFFFF
            return sig
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


def identity(cfg: DedupConfig) -> dict:
    """What must match for signatures of two runs to be comparable."""
    return {"minhash_backend": cfg.minhash_backend, "num_perm": cfg.num_perm, "seed": cfg.seed,
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
        import pyarrow.parquet as pq
        return Keys(pq.read_table(base + ".keys.parquet"), np.load(base + ".sig.npy"),
                    np.load(base + ".bands.npy"))


def _save_npy(arr: np.ndarray, path: str) -> None:
    import io
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    write.write_bytes(buf.getvalue(), path)


def empty_keys(cfg: DedupConfig) -> Keys:
    return Keys(KEYS_SCHEMA.empty_table(), np.zeros((0, cfg.num_perm), np.uint32),
                np.zeros((cfg.bands, 0), np.uint64))


def band_hashes(sig: np.ndarray, bands: int) -> np.ndarray:
    """(bands, n) uint64: a 64-bit hash of each band's rows, salted by the band number."""
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


def keys_for_documents(docs: list[Document], cfg: DedupConfig) -> Keys:
    """Exact hashes and signatures of every document and paragraph that is still kept.

    A document's shingles are the union of its paragraphs' shingles, so its signature is the
    element-wise minimum of theirs and its normalised text the concatenation of theirs: nothing
    is computed twice.
    """
    hasher = MinHasher(cfg.minhash_backend, cfg.num_perm, cfg.seed)
    items = []          # (doc, [(para idx, length, norm, tokens, cjk)])
    for d in docs:
        if d.reason is not None:
            continue
        kept = d.kept_paragraphs()
        if kept:
            items.append((d, [(p.idx, len(t)) + tokens(t) for p, t in kept]))
    if not items:
        return empty_keys(cfg)
    paras = [x for _, ps in items for x in ps]
    sig = np.empty((len(paras), cfg.num_perm), np.uint32)
    size = np.zeros(len(paras), np.int64)
    for cjk, n in ((False, cfg.shingle_words), (True, 5)):
        sel = np.array([i for i, x in enumerate(paras) if x[4] == cjk], dtype=np.int64)
        for lo in range(0, len(sel), 5_000):                # bounded buffers
            part = sel[lo:lo + 5_000]
            flat, offsets, ntok = shingle_hashes([paras[i][3] for i in part], n)
            sig[part] = hasher.signatures(flat, offsets)
            size[part] = ntok // 2 if cjk else ntok
    # Paragraph rows, then document rows (order is irrelevant: the barrier ranks by position).
    n_per_doc = np.array([len(ps) for _, ps in items], dtype=np.int64)
    doc_of = np.repeat(np.arange(len(items)), n_per_doc)
    norms = [x[2] for x in paras]
    lengths = np.array([x[1] for x in paras], dtype=np.int64)
    cols = {"kind": [], "file": [], "pos": [], "para": [], "doc_id": [], "length": [], "exact": [], "has_sig": []}
    parts_sig = []
    if cfg.paragraphs:
        keep = np.array([bool(x) for x in norms], dtype=bool)
        idx = np.flatnonzero(keep)
        cols["kind"].append(np.full(len(idx), KIND_PARA, np.int8))
        cols["file"].append(np.array([items[doc_of[i]][0].order[0] for i in idx], np.int32))
        cols["pos"].append(np.array([items[doc_of[i]][0].order[1] for i in idx], np.int64))
        cols["para"].append(np.array([paras[i][0] for i in idx], np.int32))
        cols["doc_id"].append([items[doc_of[i]][0].doc_id for i in idx])
        cols["length"].append(lengths[idx])
        cols["exact"].append(np.array([xxhash.xxh3_64_intdigest(norms[i].encode("utf-8")) for i in idx], np.uint64))
        cols["has_sig"].append(size[idx] >= cfg.min_near_words)
        parts_sig.append(sig[idx])
    if cfg.documents:
        starts = np.r_[0, np.cumsum(n_per_doc)[:-1]]
        cols["kind"].append(np.full(len(items), KIND_DOC, np.int8))
        cols["file"].append(np.array([d.order[0] for d, _ in items], np.int32))
        cols["pos"].append(np.array([d.order[1] for d, _ in items], np.int64))
        cols["para"].append(np.full(len(items), -1, np.int32))
        cols["doc_id"].append([d.doc_id for d, _ in items])
        cols["length"].append(np.add.reduceat(lengths, starts) + 2 * (n_per_doc - 1))
        cols["exact"].append(np.array([xxhash.xxh3_64_intdigest("".join(x[2] for x in ps).encode("utf-8"))
                                       for _, ps in items], np.uint64))
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


class _Corpus:
    """The small per-item columns of all segments, in one global numbering, plus lazy access to
    signatures, bands and doc ids by segment."""

    def __init__(self, segments: list[Segment]):
        import pyarrow.parquet as pq
        self.segments = [s for s in segments if os.path.exists(s.base + ".keys.parquet")]
        cols = ["kind", "file", "pos", "para", "length", "exact", "has_sig"]
        tabs = [pq.read_table(s.base + ".keys.parquet", columns=cols) for s in self.segments]
        self.sizes = np.array([t.num_rows for t in tabs], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        cat = lambda name, dt: (np.concatenate([np.asarray(t.column(name).to_numpy(zero_copy_only=False), dt)
                                                for t in tabs]) if tabs else np.zeros(0, dt))
        self.kind = cat("kind", np.int8)
        for i, seg in enumerate(self.segments):
            if seg.hist and seg.exclude_run:
                runs = pq.read_table(seg.base + ".keys.parquet", columns=["run"]).column("run")
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
        self._headers: dict = {}

    def __len__(self):
        return int(self.offsets[-1])

    def _npy(self, i: int, suffix: str) -> tuple[str, int, tuple]:
        """(path, data offset, shape) of a segment's .npy file, header read once."""
        key = (i, suffix)
        if key not in self._headers:
            path = self.segments[i].base + suffix
            with open(path, "rb") as fh:
                major, _minor = np.lib.format.read_magic(fh)
                read_header = (np.lib.format.read_array_header_1_0 if major == 1
                               else np.lib.format.read_array_header_2_0)
                shape, _fortran, _dtype = read_header(fh)
                self._headers[key] = (path, fh.tell(), shape)
        return self._headers[key]

    def band(self, b: int, idx: np.ndarray) -> np.ndarray:
        """Band ``b`` hashes of the items ``idx`` (sorted global ids). Each segment's band is one
        contiguous plain read, so no mapped pages accumulate in this process."""
        out = np.empty(len(idx), dtype=np.uint64)
        for i, lo, hi in self._runs(idx):
            path, off, shape = self._npy(i, ".bands.npy")
            row = np.fromfile(path, dtype=np.uint64, count=shape[1], offset=off + b * shape[1] * 8)
            out[lo:hi] = row[idx[lo:hi] - self.offsets[i]]
        return out

    def _runs(self, sorted_idx: np.ndarray):
        """(segment, start, end) of the runs of ``sorted_idx`` that fall in each segment."""
        cuts = np.searchsorted(sorted_idx, self.offsets)
        for i in range(len(self.segments)):
            if cuts[i] < cuts[i + 1]:
                yield i, cuts[i], cuts[i + 1]

    def sigs(self, idx: np.ndarray) -> np.ndarray:
        order = np.argsort(idx, kind="stable")
        sidx = idx[order]
        parts = []
        for i, lo, hi in self._runs(sidx):
            path, off, shape = self._npy(i, ".sig.npy")
            mm = np.memmap(path, dtype=np.uint32, mode="r", offset=off, shape=tuple(shape))
            parts.append(np.array(mm[sidx[lo:hi] - self.offsets[i]]))
            del mm
        out = np.concatenate(parts) if parts else np.zeros((0, 0), np.uint32)
        res = np.empty_like(out)
        res[order] = out
        return res

    def jaccard(self, a: np.ndarray, b: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
        out = np.empty(len(a), dtype=np.float64)
        for i in range(0, len(a), chunk):
            out[i:i + chunk] = (self.sigs(a[i:i + chunk]) == self.sigs(b[i:i + chunk])).mean(axis=1)
        return out

    def doc_ids(self, idx: np.ndarray) -> dict[int, str]:
        import pyarrow.parquet as pq
        out: dict[int, str] = {}
        seg = self.seg[idx]
        for i in np.unique(seg):
            local = np.unique(idx[seg == i] - self.offsets[i])
            col = pq.read_table(self.segments[i].base + ".keys.parquet", columns=["doc_id"]).column("doc_id")
            for j, v in zip(local, col.take(pa.array(local)).to_pylist()):
                out[int(j + self.offsets[i])] = v
        return out


def _rank(c: _Corpus, idx: np.ndarray, keep: str) -> np.ndarray:
    """``idx`` reordered best keeper first: history (in append order), then the keep rule."""
    key_hist = (~c.hist[idx]).astype(np.int8)
    seg = c.seg[idx]
    if keep == "longest":
        order = np.lexsort((c.para[idx], c.pos[idx], c.file[idx], -c.length[idx], seg * c.hist[idx], key_hist))
    else:
        order = np.lexsort((c.para[idx], c.pos[idx], c.file[idx], seg * c.hist[idx], key_hist))
    return idx[order]


def _runs_of_equal(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For uint64 ``values`` (any order): (head position, member position) of every value that
    repeats an earlier-ranked one, where a position is the value's index (its rank). Values are
    packed with their position into one uint64 and sorted by value alone (fast SIMD sort):
    a run of equal high bits is one bucket, and its first element is its best-ranked member.
    The low bits of the value are sacrificed; a spurious bucket only adds a candidate pair,
    which verification or an exact comparison removes."""
    n = len(values)
    bits = max(1, int(n - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    packed = np.sort((values >> np.uint64(bits) << np.uint64(bits)) | np.arange(n, dtype=np.uint64))
    hi = packed >> np.uint64(bits)
    same = np.flatnonzero(hi[1:] == hi[:-1]) + 1
    if not len(same):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # Consecutive repeats form one run; its head is the element just before the run's first repeat.
    brk = np.r_[True, np.diff(same) != 1]
    run_first = same[brk] - 1
    head = np.repeat(run_first, np.diff(np.r_[np.flatnonzero(brk), len(same)]))
    return (packed[head] & mask).astype(np.int64), (packed[same] & mask).astype(np.int64)


def _cluster(c: _Corpus, ranked: np.ndarray, bands: int, threshold: float):
    """Items ``ranked`` best first. Returns arrays (member, keeper, similarity, exact) of drops."""
    n = len(ranked)
    members, keepers, sims, exact = [], [], [], []
    if n == 0:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0), np.zeros(0, bool))
    # Exact: the best-ranked member of each hash group is kept (full 64-bit check after packing).
    h = c.exact[ranked]
    head, mem = _runs_of_equal(h)
    real = h[head] == h[mem]
    ex_member, ex_keeper = ranked[mem[real]], ranked[head[real]]
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
        in_rank = cand_sorted[to_rank]              # == cand, best first
        edges = []
        for b in range(bands):
            head, mem = _runs_of_equal(c.band(b, cand_sorted)[to_rank])
            if len(mem):
                edges.append(np.stack([in_rank[head], in_rank[mem]], axis=1))
        if edges:
            e = np.concatenate(edges)
            width = np.int64(len(c))
            e = np.unique(e[:, 0] * width + e[:, 1])               # one int64 per pair
            e = np.stack([e // width, e % width], axis=1)
            ok = c.jaccard(e[:, 0], e[:, 1]) >= threshold
            e = e[ok]
            if len(e):
                from scipy.sparse import coo_matrix
                from scipy.sparse.csgraph import connected_components
                nodes, inv = np.unique(e, return_inverse=True)
                inv = inv.reshape(-1, 2)
                g = coo_matrix((np.ones(len(inv), np.int8), (inv[:, 0], inv[:, 1])), shape=(len(nodes),) * 2)
                _, label = connected_components(g, directed=False)
                order = np.lexsort((rank[nodes], label))  # best-ranked node first in each component
                lab, nod = label[order], nodes[order]
                st = np.r_[True, lab[1:] != lab[:-1]]
                keeper = nod[np.flatnonzero(st)[np.cumsum(st) - 1]]
                m = nod != keeper
                mem, kee = nod[m], keeper[m]
                if len(mem):
                    j = c.jaccard(mem, kee)
                    good = j >= threshold
                    members.append(mem[good]), keepers.append(kee[good])
                    sims.append(j[good]), exact.append(np.zeros(int(good.sum()), bool))
    return (np.concatenate(members), np.concatenate(keepers), np.concatenate(sims), np.concatenate(exact))


def resolve(segments: list[Segment], cfg: DedupConfig) -> pa.Table:
    """Decisions for this run: one row per dropped document or paragraph of a current shard."""
    c = _Corpus(segments)
    out = {"shard": [], "file": [], "pos": [], "para": [], "reason": [], "detail": []}
    if not len(c):
        return _decisions_table(out)
    results = []
    dropped_docs = np.zeros(0, np.int64)
    if cfg.documents:
        idx = np.flatnonzero(c.kind == KIND_DOC)
        mem, kee, sim, ex = _cluster(c, _rank(c, idx, cfg.keep), cfg.bands, cfg.document_threshold)
        live = ~c.hist[mem]
        results.append((mem[live], kee[live], sim[live], ex[live], "duplicate_document", "duplicate_document"))
        dropped_docs = _doc_key(c.file[mem[live]], c.pos[mem[live]])
    if cfg.paragraphs:
        idx = np.flatnonzero(c.kind == KIND_PARA)
        if len(dropped_docs):
            gone = np.isin(_doc_key(c.file[idx], c.pos[idx]), dropped_docs) & ~c.hist[idx]
            idx = idx[~gone]
        mem, kee, sim, ex = _cluster(c, _rank(c, idx, cfg.keep), cfg.bands, cfg.paragraph_threshold)
        live = ~c.hist[mem]
        results.append((mem[live], kee[live], sim[live], ex[live], "duplicate_exact", "duplicate_near"))
    names = c.doc_ids(np.unique(np.concatenate([r[1] for r in results]))) if results else {}
    for mem, kee, sim, ex, reason_exact, reason_near in results:
        for i, k, s, e in zip(mem.tolist(), kee.tolist(), sim.tolist(), ex.tolist()):
            kseg = c.segments[c.seg[k]]
            detail = {"kept_doc_id": names[k], "similarity": round(s, 4), "match": "exact" if e else "near",
                      "kept_in": f"run {kseg.run}" if kseg.hist else "this run"}
            if c.para[k] >= 0:
                detail["kept_para_idx"] = int(c.para[k])
            out["shard"].append(c.segments[c.seg[i]].shard)
            out["file"].append(int(c.file[i]))
            out["pos"].append(int(c.pos[i]))
            out["para"].append(int(c.para[i]))
            out["reason"].append(reason_exact if e else reason_near)
            out["detail"].append(json.dumps(detail, sort_keys=True, ensure_ascii=False))
    t = _decisions_table(out)
    return t.take(pa.array(np.lexsort((t.column("para").to_numpy(), t.column("pos").to_numpy(),
                                       t.column("file").to_numpy())))) if t.num_rows else t


def _doc_key(file: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (file.astype(np.int64) << 42) | pos.astype(np.int64)


def _decisions_table(out: dict) -> pa.Table:
    return pa.table({
        "shard": pa.array(out["shard"], pa.int32()), "file": pa.array(out["file"], pa.int64()),
        "pos": pa.array(out["pos"], pa.int64()), "para": pa.array(out["para"], pa.int32()),
        "reason": pa.array(out["reason"], pa.string()), "detail": pa.array(out["detail"], pa.string()),
    })
