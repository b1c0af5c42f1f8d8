"""Helpers shared by the tests. Tests only use files inside the repository (seeds/, tests/data/)."""
from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline import config as config_mod
from pipeline.model import Document
from pipeline.run.runner import run

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEEDS = ROOT / "seeds"
CORPUS = DATA / "corpus.jsonl"


def make_config(inputs, out, **overrides):
    ov = {"input.paths": [str(p) for p in inputs], "output.path": str(out), "executor.workers": 1}
    ov.update(overrides)
    return config_mod.load(ROOT / "configs" / "default.yaml", ov)


def run_pipeline(inputs, out, **overrides):
    return run(make_config(inputs, out, **overrides), log=lambda *_: None)


def read_docs(out) -> list[dict]:
    path = os.path.join(out, "docs")
    if not os.path.isdir(path):
        return []
    return ds.dataset(path, format="parquet").to_table().to_pylist()


def read_ledger(out) -> list[dict]:
    return pq.read_table(os.path.join(out, "ledger")).to_pylist()


def file_bytes(out) -> dict[str, bytes]:
    """Every data file of an output folder (docs, ledger), by relative path."""
    res = {}
    for sub in ("docs", "ledger"):
        for p in sorted(Path(out, sub).rglob("*.parquet")):
            res[str(p.relative_to(out))] = p.read_bytes()
    return res


def shards_input(tmp_path):
    """The test corpus as several inputs of all kinds, cut into many shards."""
    src = tmp_path / "in"
    src.mkdir()
    lines = CORPUS.read_bytes().splitlines(keepends=True)
    (src / "a.jsonl").write_bytes(b"".join(lines[:8]))
    with gzip.open(src / "b.jsonl.gz", "wb") as fh:
        fh.write(b"".join(lines[8:]))
    shutil.copy(ROOT / "seeds" / os.listdir(ROOT / "seeds")[0], src / "seed.txt")
    return src


def kept_paragraphs(docs: list[Document]) -> list:
    """Per document, its kept paragraphs with their kept text (None for a removed document), as
    the hand-off gives them to the dedup keys."""
    out = []
    for d in docs:
        if d.removed is not None:
            out.append(None)
            continue
        kept = []
        for p in d.paragraphs:
            if not p.removed:
                t = p.remaining_text()
                if t:
                    kept.append((p, t))
        out.append(kept)
    return out


def tokens(text: str) -> tuple[str, list[str], bool]:
    """(normalised text, tokens, CJK?) of one text, as strings: what the dedup tokenizer sees."""
    from pipeline.dedup.tokens import tokenize
    t = tokenize([text])
    norm = t.norm.astype("<u4").tobytes().decode("utf-32-le")
    bounds = np.r_[t.tok_starts, len(norm)].tolist()
    return norm, [norm[a:b] for a, b in zip(bounds[:-1], bounds[1:])], bool(t.cjk[0])


def exact_hash(text: str) -> int:
    """The dedup key's hash of a text's normalised form (lower case, word characters only)."""
    from pipeline.dedup.tokens import tokenize
    return exact_of(tokenize([text]), 0, 1)


def exact_of(toks, lo: int, hi: int) -> int:
    """The exact hash of texts lo..hi-1 of a batch of tokens (joined): the key's definition."""
    import xxhash
    a, b = toks.norm_offsets[lo], toks.norm_offsets[hi]
    return xxhash.xxh3_64_intdigest(toks.norm[a:b].tobytes())
