"""Shared helpers. Tests only use files inside the repository (seeds/, tests/data/)."""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline import config as config_mod
from pipeline.runner import run

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEEDS = ROOT / "seeds"


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


@pytest.fixture(scope="session")
def seed_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed") / "out"
    run_pipeline([SEEDS], out)
    return out


@pytest.fixture(scope="session")
def corpus_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "out"
    run_pipeline([DATA / "corpus.jsonl"], out)
    return out
