"""What the dedup tests share: documents built by hand, their keys, and the barrier's decisions
as a table."""
from __future__ import annotations

import os
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.dedup import ranges, resolve
from pipeline.dedup.keys import Keys, keys_for_documents
from pipeline.model import Document, Paragraph, Sentence
from tests.support import kept_paragraphs

WORDS = ("council river storm school road rain family shelter crew resident bridge minister union "
         "strike talks train service week month year city centre region officials police report "
         "market price energy water health hospital doctor patient court judge law vote election").split()

BASE = [
    "Heavy rain forced the closure of more than forty schools on Monday, local officials said, after rivers rose quickly overnight.",
    "The regional council said emergency crews had rescued dozens of residents from flooded homes near the river on Sunday.",
    "Forecasters expect more rain later in the week, and the council has opened two shelters for families who cannot return home.",
]


def doc(doc_id, file, pos, paras, lang="en") -> Document:
    """A document of one-sentence paragraphs, at input position (file, pos)."""
    text = "\n\n".join(paras)
    d = Document(doc_id, text, doc_id, (file, pos), "{}", lang=lang)
    start = 0
    for i, p in enumerate(paras):
        d.paragraphs.append(Paragraph(i, start, p, [Sentence(0, len(p))]))
        start += len(p) + 2
    return d


def keys_of(docs, cfg) -> Keys:
    return keys_for_documents(docs, cfg, kept_paragraphs(docs))


def _table(fn, segments, cfg, **kw) -> pa.Table:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "decisions.parquet")
        fn(segments, cfg, out, **kw)
        return pq.read_table(out)


def decide(segments, cfg, **kw) -> pa.Table:
    """The in-memory barrier's decisions, as a table."""
    return _table(resolve.resolve, segments, cfg, **kw)


def decide_by_ranges(segments, cfg, **kw) -> pa.Table:
    """The barrier by hash ranges' decisions, as a table."""
    return _table(ranges.resolve, segments, cfg, **kw)
