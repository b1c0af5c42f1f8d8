"""The ``segment`` step: documents into paragraphs (runs of non-blank lines), paragraphs into
lines and hard-wrapped lines joined, then sentences (``pipeline/text/sentences.py``).

A line break ends a sentence (list items, table rows, headings, bylines and code are lines),
unless the line was hard-wrapped: it does not end a sentence and the next line continues it
(``pipeline/text/lines.py``). Joined lines keep their line break: a sentence is a span of the paragraph's text,
so offsets in the ledger still point at the original characters.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from ..model import Document, Paragraph, Sentence
from ..registry import option
from ..text.sentences import boundaries, sentence_starts


@dataclass(frozen=True)
class SegmentConfig:
    splitter: Literal["rules", "sentencex"] = option(
        "rules", doc="rules: the project's splitter (pipeline/text/sentences.py); sentencex: plain sentencex")
    join_wrapped_lines: bool = option(True, doc="join a hard-wrapped line with the line that continues it")


def _sentencex_cuts(text: str, lang: str) -> list[int]:
    """sentencex's sentence starts, found back in ``text`` (sentencex may drop whitespace)."""
    import sentencex
    try:
        pieces = sentencex.segment(lang if lang and lang != "und" else "en", text)
    except BaseException as e:                  # noqa: BLE001  (Rust panics are BaseExceptions)
        if type(e).__name__ != "PanicException":
            raise
        return []                               # ("Hello A\u00a0. B": sentencex 1.x panics)
    cuts, pos = [], 0
    for piece in pieces:
        piece = piece.strip()
        at = text.find(piece, pos) if piece else -1
        if at < 0:
            return []
        if at > 0 and pos > 0:
            cuts.append(at)
        pos = at + len(piece)
    return cuts


def _sentences(text: str, lang: str, cfg: SegmentConfig) -> list[Sentence]:
    """Sentence spans that cover the paragraph ``text`` exactly; whitespace between two
    sentences belongs to the first."""
    if not text:
        return []
    split = boundaries if cfg.splitter == "rules" else _sentencex_cuts
    starts = [0, *sentence_starts(text, lang, cfg.join_wrapped_lines, split)]
    return [Sentence(s, e) for s, e in zip(starts, starts[1:] + [len(text)])]


# A paragraph: a run of lines that are not blank, from the start of its first line to the end of its
# last. The possessive quantifiers and the line-start anchor keep it linear on any input.
_PARAGRAPH_RE = re.compile(r"^([^\S\n]*+)\S[^\n]*+(?:\n[^\S\n]*+\S[^\n]*+)*+", re.M)


def segment_document(doc: Document, cfg: SegmentConfig) -> None:
    paras = []
    text, lang = doc.text, doc.lang
    for i, m in enumerate(_PARAGRAPH_RE.finditer(text)):
        body = m.group().strip()
        paras.append(Paragraph(i, m.end(1), body, _sentences(body, lang, cfg)))
    doc.paragraphs = paras


class Segment:
    """The step: every live document into paragraphs and sentences."""
    stage = "segment"

    def __init__(self, cfg: SegmentConfig):
        self.cfg = cfg
        self.counts: Counter = Counter()

    def __call__(self, docs: list[Document]) -> None:
        for d in docs:
            if d.removed is None:
                segment_document(d, self.cfg)     # (repair removed the blank ones: each has a paragraph)
