"""Documents as the steps see them, and the one way a step records what it removes.

A document is split into paragraphs, a paragraph into sentences. No step deletes text: it calls
``remove(reason, detail)`` on the document, a paragraph or a sentence, which attaches a
``Removal``; text taken out before the document is split (characters repair removed, the tail
of a too-long document, bytes that were not UTF-8) is a ``Removal`` with its own text and
offsets in ``Document.removals``. The hand-off to phase 2 (``pipeline.run.handoff``) writes every
removal to the ledger and the rest to the documents: that is what makes conservation checkable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .registry import Reason


@dataclass(slots=True, frozen=True)
class Removal:
    reason: Reason
    detail: str = "{}"          # JSON object: the rule that fired and its evidence
    # Only for ``Document.removals`` (text that is not a unit of the document tree): what was
    # removed, as the ledger shows it, and where it was (None: no place in the kept text).
    text: str | None = None
    start: int | None = None
    end: int | None = None


class _Unit:
    __slots__ = ()

    def remove(self, reason: Reason, detail: str = "{}") -> None:
        """Mark this document, paragraph or sentence as removed, for ``reason``."""
        self.removed = Removal(reason, detail)


@dataclass(slots=True)
class Sentence(_Unit):
    start: int          # offset in the paragraph text
    end: int            # exclusive; text[start:end] includes trailing whitespace
    removed: Removal | None = None
    lang: str | None = None      # set when language ID calls it foreign
    score: float | None = None


@dataclass(slots=True)
class Paragraph(_Unit):
    idx: int
    start: int          # offset in the repaired document text
    text: str           # stripped paragraph text
    sentences: list[Sentence] = field(default_factory=list)
    removed: Removal | None = None   # the whole paragraph

    def remaining_text(self) -> str:
        """The paragraph without its removed sentences (ignores a whole-paragraph removal)."""
        for s in self.sentences:        # (a loop, not any(): it ends at the first removed one)
            if s.removed:
                return "".join(self.text[s.start:s.end] for s in self.sentences if not s.removed).strip()
        return self.text


@dataclass(slots=True)
class Document(_Unit):
    doc_id: str
    text: str             # repaired text
    source: str           # file:line or file#row
    order: tuple[int, int]  # (input file index, byte offset or row) -- the input order
    metadata: str         # JSON of passed-through fields
    lang: str = "und"
    lang_score: float = 0.0
    paragraphs: list[Paragraph] = field(default_factory=list)
    removed: Removal | None = None   # the whole document
    removals: list[Removal] = field(default_factory=list)    # text cut before segmentation
