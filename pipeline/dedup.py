"""Exact and near-duplicate documents and paragraphs, across shards and earlier runs.

Map side (per shard, ``keys_for_documents``): for every kept document and paragraph, an exact
hash of its normalised text (case-folded, letters and digits only) and, for text of at least
``dedup.min_near_words`` words, a MinHash signature of its word n-grams (character 5-grams for
CJK and Thai).

Barrier (``resolve``): all keys of the run plus the history index are ranked by the keep rule
(history first, then ``first`` = input order, or ``longest``). Exact groups keep their best-ranked
member. LSH band collisions propose near pairs; a pair is an edge only when its estimated Jaccard
reaches the threshold; connected components (scipy) form clusters, and a member is dropped only
when its own estimated Jaccard to the cluster's keeper reaches the threshold, so every ledger row
names a kept copy that really is similar. Documents are resolved first; paragraphs of dropped
documents take no further part.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import xxhash

from .config import DedupConfig
from .model import Document

_NORM_RE = re.compile(r"[\W_]+", re.UNICODE)
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")

KEYS_SCHEMA_FIELDS = [
    ("shard", pa.int32()), ("kind", pa.int8()), ("file", pa.int32()), ("pos", pa.int64()),
    ("para", pa.int32()), ("doc_id", pa.string()), ("length", pa.int64()), ("exact", pa.uint64()),
]
KIND_DOC, KIND_PARA = 0, 1


def normalize(text: str) -> str:
    return _NORM_RE.sub("", text.casefold())


def exact_hash(text: str) -> int:
    return xxhash.xxh3_64_intdigest(normalize(text).encode("utf-8"))


def analyse(text: str, n: int) -> tuple[str, list[str], int]:
    """(normalised text, shingles, size in words) in one pass over the text: word n-grams, or
    character 5-grams for CJK and Thai (size = characters / 2)."""
    low = text.casefold()
    norm = _NORM_RE.sub("", low)
    cjk = len(_CJK_RE.findall(norm))
    if cjk * 3 > len(norm):
        k = 5 if len(norm) >= 5 else len(norm)
        sh = list({norm[i:i + k] for i in range(len(norm) - k + 1)}) if k else []
        return norm, sh, cjk // 2
    words = _WORD_RE.findall(low)
    if len(words) <= n:
        return norm, ([" ".join(words)] if words else []), len(words)
    return norm, list({" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}), len(words)


def shingles(text: str, n: int) -> list[str]:
    return analyse(text, n)[1]


class MinHasher:
    """MinHash signatures (uint32). Backends are interchangeable in the barrier but not with
    each other's signatures: the history index records which one made its signatures."""

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

    @staticmethod
    def _hash32(s: str) -> int:
        return xxhash.xxh32_intdigest(s.encode("utf-8"))

    def signature(self, sh: list[str]) -> np.ndarray:
        if self.backend == "rensa":
            m = self._rensa.RMinHash(num_perm=self.num_perm, seed=self.seed)
            m.update(sh)
            return np.asarray(m.digest(), dtype=np.uint32)
        if self.backend == "datasketch":
            from datasketch import MinHash
            m = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=self._hash32, scheme="affine32")
            m.update_batch(sh)
            return m.hashvalues.astype(np.uint32)
        if not sh:
            return np.full(self.num_perm, 0xFFFFFFFF, dtype=np.uint32)
        hv = np.fromiter((self._hash32(s) for s in sh), dtype=np.uint32, count=len(sh))
        # datasketch's "affine32" scheme: MurmurHash3's fmix32 pre-mix, then a*h+b mod 2^32
        # (a odd, so each permutation is a bijection).
        with np.errstate(over="ignore"):
            hv ^= hv >> np.uint32(16)
            hv *= np.uint32(0x85EBCA6B)
            hv ^= hv >> np.uint32(13)
            hv *= np.uint32(0xC2B2AE35)
            hv ^= hv >> np.uint32(16)
            phv = hv[:, None] * self._a[None, :] + self._b[None, :]
        return phv.min(axis=0)


def identity(cfg: DedupConfig) -> dict:
    """What must match for signatures of two runs to be comparable."""
    return {"minhash_backend": cfg.minhash_backend, "num_perm": cfg.num_perm, "seed": cfg.seed,
            "shingle_words": cfg.shingle_words}


def keys_for_documents(docs: list[Document], shard: int, cfg: DedupConfig) -> pa.Table:
    """Exact hashes and signatures of every document and paragraph that is still kept.

    A document's shingles are the union of its paragraphs' shingles, so its signature is the
    element-wise minimum of theirs and its normalised text the concatenation of theirs: nothing
    is computed twice.
    """
    hasher = MinHasher(cfg.minhash_backend, cfg.num_perm, cfg.seed)
    cols: dict[str, list] = {name: [] for name, _ in KEYS_SCHEMA_FIELDS}
    sigs: list[bytes | None] = []

    def add(kind, d, para, length, norm, sig, words):
        cols["shard"].append(shard)
        cols["kind"].append(kind)
        cols["file"].append(d.order[0])
        cols["pos"].append(d.order[1])
        cols["para"].append(para)
        cols["doc_id"].append(d.doc_id)
        cols["length"].append(length)
        cols["exact"].append(xxhash.xxh3_64_intdigest(norm.encode("utf-8")))
        sigs.append(sig.tobytes() if sig is not None and words >= cfg.min_near_words else None)

    for d in docs:
        if d.reason is not None:
            continue
        kept = d.kept_paragraphs()
        if not kept:
            continue
        norms, doc_sig, doc_words, doc_len = [], None, 0, 0
        for p, t in kept:
            norm, sh, words = analyse(t, cfg.shingle_words)
            sig = hasher.signature(sh) if sh else None
            if sig is not None:
                doc_sig = sig if doc_sig is None else np.minimum(doc_sig, sig)
            norms.append(norm)
            doc_words += words
            doc_len += len(t)
            if cfg.paragraphs and norm:
                add(KIND_PARA, d, p.idx, len(t), norm, sig, words)
        if cfg.documents:
            add(KIND_DOC, d, -1, doc_len + 2 * (len(kept) - 1), "".join(norms), doc_sig, doc_words)
    fields = KEYS_SCHEMA_FIELDS + [("sig", pa.binary(cfg.num_perm * 4))]
    arrays = [pa.array(cols[name], type=t) for name, t in KEYS_SCHEMA_FIELDS]
    arrays.append(pa.array(sigs, type=pa.binary(cfg.num_perm * 4)))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


# ------------------------------------------------------------------------------- barrier
@dataclass
class _Items:
    shard: np.ndarray
    file: np.ndarray
    pos: np.ndarray
    para: np.ndarray
    doc_id: list
    length: np.ndarray
    exact: np.ndarray
    sig: np.ndarray          # (n, num_perm) uint32; rows without signature are zeros
    has_sig: np.ndarray
    hist: np.ndarray         # bool: from the history index
    run: list                # run id of history rows ("" for this run)


def _items(table: pa.Table, num_perm: int, hist: bool) -> _Items:
    n = table.num_rows
    sig_col = table.column("sig").combine_chunks() if n else pa.array([], type=pa.binary(num_perm * 4))
    has = np.asarray(sig_col.is_valid(), dtype=bool) if n else np.zeros(0, bool)
    sig = np.zeros((n, num_perm), dtype=np.uint32)
    if has.any():
        sig[:] = np.frombuffer(_concat_binary(sig_col), dtype=np.uint32).reshape(n, num_perm)
        sig[~has] = 0
    col = lambda name, dt: np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dt)
    return _Items(
        shard=col("shard", np.int32) if not hist else np.full(n, -1, np.int32),
        file=col("file", np.int64), pos=col("pos", np.int64), para=col("para", np.int64),
        doc_id=table.column("doc_id").to_pylist(), length=col("length", np.int64),
        exact=col("exact", np.uint64), sig=sig, has_sig=has, hist=np.full(n, hist, bool),
        run=table.column("run_id").to_pylist() if hist else [""] * n)


def _concat_binary(arr: pa.Array) -> bytes:
    """Values of a fixed-size binary array, back to back."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    buffers = arr.buffers()
    width = arr.type.byte_width
    return buffers[1].to_pybytes()[arr.offset * width:(arr.offset + len(arr)) * width]


def _concat(parts: list[_Items]) -> _Items:
    return _Items(*[
        (sum((getattr(p, f) for p in parts), []) if f in ("doc_id", "run")
         else np.concatenate([getattr(p, f) for p in parts]))
        for f in _Items.__dataclass_fields__])


def _take(it: _Items, idx: np.ndarray) -> _Items:
    return _Items(*[
        ([getattr(it, f)[i] for i in idx] if f in ("doc_id", "run") else getattr(it, f)[idx])
        for f in _Items.__dataclass_fields__])


def _rank(it: _Items, keep: str) -> np.ndarray:
    """Order in which members are preferred as keeper: history first, then the keep rule."""
    hist_key = (~it.hist).astype(np.int8)
    if keep == "longest":
        return np.lexsort((it.para, it.pos, it.file, -it.length, hist_key))
    return np.lexsort((it.para, it.pos, it.file, hist_key))


def _band_hashes(sig: np.ndarray, bands: int) -> np.ndarray:
    n, p = sig.shape
    rows = p // bands
    s = sig.reshape(n, bands, rows).astype(np.uint64)
    h = np.full((n, bands), np.uint64(0xcbf29ce484222325), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            h = (h ^ s[:, :, r]) * np.uint64(0x100000001b3)
            h ^= h >> np.uint64(29)
        h += np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return h


def _jaccard(sig: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty(len(a), dtype=np.float64)
    step = 1 << 16
    for i in range(0, len(a), step):
        out[i:i + step] = (sig[a[i:i + step]] == sig[b[i:i + step]]).mean(axis=1)
    return out


def _cluster(it: _Items, bands: int, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items must be in rank order. Returns (dup_of, similarity, is_exact); dup_of = -1 if kept."""
    n = len(it.exact)
    dup_of = np.full(n, -1, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float64)
    is_exact = np.zeros(n, dtype=bool)
    if n == 0:
        return dup_of, sim, is_exact
    # Exact: the first (best-ranked) member of each hash group is kept.
    _, first, inverse = np.unique(it.exact, return_index=True, return_inverse=True)
    keeper = first[inverse]
    ex = keeper != np.arange(n)
    dup_of[ex], sim[ex], is_exact[ex] = keeper[ex], 1.0, True
    # Near: only items with signatures that are not already exact copies.
    cand = np.flatnonzero(it.has_sig & ~ex)
    if len(cand) < 2 or threshold > 1.0:
        return dup_of, sim, is_exact
    bh = _band_hashes(it.sig[cand], bands)
    src, dst = [], []
    for b in range(bands):
        order = np.lexsort((cand, bh[:, b]))
        keys = bh[order, b]
        same = np.flatnonzero(keys[1:] == keys[:-1]) + 1
        if not len(same):
            continue
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        group_first = starts[np.searchsorted(starts, same, side="right") - 1]
        src.append(cand[order[group_first]])
        dst.append(cand[order[same]])
    if not src:
        return dup_of, sim, is_exact
    a, b = np.concatenate(src), np.concatenate(dst)
    pairs = np.unique(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1), axis=0)
    j = _jaccard(it.sig, pairs[:, 0], pairs[:, 1])
    ok = j >= threshold
    if not ok.any():
        return dup_of, sim, is_exact
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    e = pairs[ok]
    g = coo_matrix((np.ones(len(e), dtype=np.int8), (e[:, 0], e[:, 1])), shape=(n, n))
    _, label = connected_components(g, directed=False)
    involved = np.unique(e)
    lab = label[involved]
    order = np.lexsort((involved, lab))
    lab_sorted, inv_sorted = lab[order], involved[order]
    starts = np.flatnonzero(np.r_[True, lab_sorted[1:] != lab_sorted[:-1]])
    comp_keeper = inv_sorted[starts][np.searchsorted(starts, np.arange(len(inv_sorted)), side="right") - 1]
    members = inv_sorted[inv_sorted != comp_keeper]
    keepers = comp_keeper[inv_sorted != comp_keeper]
    if len(members):
        jj = _jaccard(it.sig, members, keepers)
        good = jj >= threshold
        dup_of[members[good]] = keepers[good]
        sim[members[good]] = jj[good]
    return dup_of, sim, is_exact


def resolve(current: list[pa.Table], history: pa.Table | None, cfg: DedupConfig,
            run_id: str) -> pa.Table:
    """Decisions for this run: one row per dropped document or paragraph."""
    parts = [_items(t, cfg.num_perm, False) for t in current if t.num_rows]
    if history is not None and history.num_rows:
        parts.insert(0, _items(history, cfg.num_perm, True))
    out = {"shard": [], "file": [], "pos": [], "para": [], "reason": [], "detail": []}
    if not parts:
        return _decisions_table(out)
    it = _concat(parts)
    kind = np.concatenate([
        np.asarray((t.column("kind").to_numpy(zero_copy_only=False)), dtype=np.int8)
        for t in ([history] if history is not None and history.num_rows else []) + [t for t in current if t.num_rows]])

    def emit(sub: _Items, dup_of, sim, is_exact, reason_exact, reason_near):
        for i in np.flatnonzero(dup_of >= 0):
            if sub.hist[i]:
                continue
            k = dup_of[i]
            detail = {"kept_doc_id": sub.doc_id[k], "similarity": round(float(sim[i]), 4),
                      "match": "exact" if is_exact[i] else "near",
                      "kept_in": f"run {sub.run[k]}" if sub.hist[k] else "this run"}
            if sub.para[k] >= 0:
                detail["kept_para_idx"] = int(sub.para[k])
            out["shard"].append(int(sub.shard[i]))
            out["file"].append(int(sub.file[i]))
            out["pos"].append(int(sub.pos[i]))
            out["para"].append(int(sub.para[i]))
            out["reason"].append(reason_exact if is_exact[i] else reason_near)
            out["detail"].append(json.dumps(detail, sort_keys=True, ensure_ascii=False))

    dropped_docs: set[tuple[int, int, bool]] = set()
    if cfg.documents:
        didx = np.flatnonzero(kind == KIND_DOC)
        docs = _take(it, didx)
        order = _rank(docs, cfg.keep)
        docs = _take(docs, order)
        dup_of, sim, is_exact = _cluster(docs, cfg.bands, cfg.document_threshold)
        emit(docs, dup_of, sim, is_exact, "duplicate_document", "duplicate_document")
        for i in np.flatnonzero(dup_of >= 0):
            if not docs.hist[i]:
                dropped_docs.add((int(docs.file[i]), int(docs.pos[i])))
    if cfg.paragraphs:
        pidx = np.flatnonzero(kind == KIND_PARA)
        if dropped_docs:
            keep_mask = np.array([it.hist[i] or (int(it.file[i]), int(it.pos[i])) not in dropped_docs
                                  for i in pidx], dtype=bool)
            pidx = pidx[keep_mask]
        paras = _take(it, pidx)
        order = _rank(paras, cfg.keep)
        paras = _take(paras, order)
        dup_of, sim, is_exact = _cluster(paras, cfg.bands, cfg.paragraph_threshold)
        emit(paras, dup_of, sim, is_exact, "duplicate_exact", "duplicate_near")
    return _decisions_table(out)


def _decisions_table(out: dict) -> pa.Table:
    return pa.table({
        "shard": pa.array(out["shard"], pa.int32()), "file": pa.array(out["file"], pa.int64()),
        "pos": pa.array(out["pos"], pa.int64()), "para": pa.array(out["para"], pa.int32()),
        "reason": pa.array(out["reason"], pa.string()), "detail": pa.array(out["detail"], pa.string()),
    })
