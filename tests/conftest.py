"""Fixtures shared by the tests (helpers are in ``tests/support.py``)."""
from __future__ import annotations

import pytest

from tests.support import DATA, SEEDS, run_pipeline


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
