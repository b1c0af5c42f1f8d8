"""A segment's dedup keys: what the barrier compares, made per shard in phase 1.

Per kept document and paragraph a row of ``KEYS_SCHEMA`` (position, length, exact hash of the
normalised text, whether it has a signature), its MinHash signature and its LSH band hashes, in
three files per segment (``KEY_FILES``), the keys table written last. A *segment* is one shard of
this run, or one earlier run in the history index.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..errors import PipelineError
from ..io import atomic
from ..model import Document, Paragraph
from . import DedupConfig
from .minhash import MinHasher, band_hashes
from .tokens import shingle_hashes, tokenize

KEYS_SCHEMA = pa.schema([
    ("kind", pa.int8()), ("file", pa.int32()), ("pos", pa.int64()), ("para", pa.int32()),
    ("doc_id", pa.string()), ("length", pa.int64()), ("exact", pa.uint64()), ("has_sig", pa.bool_()),
])
KIND_DOC, KIND_PARA = 0, 1


@dataclass
class Keys:
    """Keys of one segment: the table plus its signature and band-hash matrices."""
    table: pa.Table
    sig: np.ndarray          # (n, num_perm) uint32
    bands: np.ndarray        # (bands, n) uint64

    def write(self, base: str) -> None:
        _save_npy(self.sig, base + ".sig.npy")
        _save_npy(self.bands, base + ".bands.npy")
        atomic.write_table(self.table, base + ".keys.parquet", "zstd")   # last: marks it complete

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
        return Keys(atomic.read_table(base + ".keys.parquet"), np.load(base + ".sig.npy"),
                    np.load(base + ".bands.npy"))


def _save_npy(arr: np.ndarray, path: str) -> None:
    atomic.write_array(np.ascontiguousarray(arr), path)


def empty_keys(cfg: DedupConfig) -> Keys:
    return Keys(KEYS_SCHEMA.empty_table(), np.zeros((0, cfg.num_perm), np.uint32),
                np.zeros((cfg.bands, 0), np.uint64))


def keys_for_documents(docs: list[Document], cfg: DedupConfig,
                       kept_paragraphs: list[list[tuple[Paragraph, str]] | None]) -> Keys:
    """Exact hashes and signatures of every document and paragraph that is still kept, computed
    in batches of whole documents (bounded buffers). ``kept_paragraphs``: per document, its kept
    paragraphs with their kept text (None for a removed document; the hand-off's ``kept``).

    A document's shingles are the union of its paragraphs' shingles, so its signature is the
    element-wise minimum of theirs and its normalised text the concatenation of theirs: nothing
    is computed twice.
    """
    hasher = MinHasher(cfg.minhash_backend, cfg.num_perm, cfg.seed)
    parts, batch, size = [], [], 0
    for d, kept in zip(docs, kept_paragraphs):
        if kept:
            batch.append((d, kept))
            size += sum(len(t) for _, t in kept)
        if size >= 200_000:            # cache-sized batches (multi-MB temporaries are mapped afresh)
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
        idx = np.flatnonzero((np.diff(toks.norm_offsets) > 0) & (lengths >= cfg.min_paragraph_chars))
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


KEY_FILES = (".keys.parquet", ".sig.npy", ".bands.npy")       # what ``Keys.write`` writes (keys last)


class MissingKeys(PipelineError):
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
