"""The cleaning steps of phase 1. A step is a small class called on a batch (a shard) of
documents: it marks what it removes (``Document.remove``, ``pipeline.model``) and counts its
rules' firings in ``counts``; its ``stage`` names it in the CPU accounting. It knows nothing of
files, executors or config parsing: it gets its options and a list of documents.

Reading (``pipeline.io.readers``) comes before them and the dedup keys (``pipeline.dedup``)
after; ``build`` gives them in the order they run.
"""
from __future__ import annotations

from collections import Counter
from typing import Protocol

from ..model import Document
from . import filters
from .langid import DocumentLanguage, SentenceLanguage
from .repair import Repair
from .segment import Segment


class Step(Protocol):
    stage: str
    counts: Counter

    def __call__(self, docs: list[Document]) -> None: ...


def build(cfg) -> list[Step]:
    """The steps for ``cfg`` (a ``pipeline.config.Config``), in order: repair the encoding, find
    each document's language, split paragraphs and sentences, remove sentences in another
    language, then the filters (``filters/``, in their ``order``)."""
    documents = DocumentLanguage(cfg.langid)
    return [Repair(cfg.repair), documents, Segment(cfg.segment), SentenceLanguage(cfg.langid, documents),
            *filters.build(cfg.filters)]
