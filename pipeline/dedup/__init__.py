"""Exact and near-duplicate documents and paragraphs, across shards and earlier runs: the
``dedup`` options and reasons. The work is in its modules, in the order a run uses them:

* map side, per shard (``keys.py``): for every kept document and paragraph, an exact hash of its
  normalised text (``tokens.py``: case-folded, letters and digits only) and, for text of at
  least ``dedup.min_near_words`` words, a MinHash signature of its word n-grams (character
  5-grams for CJK and Thai) with its LSH band hashes (``minhash.py``). They are stored per
  *segment* (one shard of this run, or one earlier run in the history index): ``keys.parquet``,
  ``sig.npy`` (n x num_perm uint32) and ``bands.npy`` (bands x n uint64, band-major).
* the barrier (``resolve.py`` in one process's memory, ``ranges.py`` by hash ranges on the
  workers; the same decisions): items are ranked by the keep rule (history first, then
  ``first`` = input order, or ``longest``). Exact groups keep their best-ranked member. Near
  pairs are proposed one band at a time, verified by estimated Jaccard read from the segments'
  files (``store.py``), and joined into connected components (``graph.py``). A member is dropped
  only when its own estimated Jaccard to its component's keeper reaches the threshold, so every
  ledger row names a kept copy that really is similar. Documents are resolved first; paragraphs
  of dropped documents take no further part. The decisions are written to a Parquet file
  (``decisions.py``) that phase 2 applies.
* across nightly runs (``history.py``): what each run kept is appended to the state folder's
  history index, which later barriers read as segments ranked before their own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError
from ..registry import option, reason

DUPLICATE_EXACT = reason("duplicate_exact", "dedup", "paragraph identical (after normalisation) to one kept elsewhere")
DUPLICATE_NEAR = reason("duplicate_near", "dedup",
                        "paragraph whose MinHash Jaccard to a kept paragraph is above the threshold")
DUPLICATE_DOCUMENT = reason("duplicate_document", "dedup",
                            "whole document duplicating (exactly or nearly) a kept document")


@dataclass(frozen=True)
class DedupConfig:
    enabled: bool = option(True)
    paragraphs: bool = option(True, doc="exact and near duplicate paragraphs")
    documents: bool = option(True, doc="exact and near duplicate documents")
    keep: Literal["first", "longest"] = option("first", doc="which copy of a cluster is kept")
    minhash_backend: Literal["affine32", "datasketch"] = option(
        "affine32", doc="affine32: datasketch's signatures, value for value, from a compiled kernel (or numpy); "
        "datasketch: the library itself (slow)")
    num_perm: int = option(128, lo=16, hi=1024)
    bands: int = option(32, lo=1, hi=512, doc="LSH bands; bands*rows must equal num_perm")
    shingle_words: int = option(3, lo=1, hi=10, doc="word n-gram size (character 5-grams for CJK/Thai)")
    paragraph_threshold: float = option(0.5, lo=0.0, hi=1.0, doc="estimated Jaccard to call paragraphs near-duplicates")
    document_threshold: float = option(0.5, lo=0.0, hi=1.0, doc="estimated Jaccard to call documents near-duplicates")
    min_near_words: int = option(8, lo=1, doc="shorter paragraphs are only deduplicated exactly")
    min_paragraph_chars: int = option(30, lo=0, doc="shorter paragraphs are never deduplicated as paragraphs "
                                                   "(short repeats are furniture: boilerplate's job)")
    seed: int = option(1, doc="MinHash permutation seed (part of the history index's identity)")

    def check(self, prefix: str) -> None:
        if self.num_perm % self.bands:
            raise ConfigError(f"config: '{prefix}bands' ({self.bands}) must divide '{prefix}num_perm' ({self.num_perm})")
