"""The in-memory shape of a batch between stages, and the fixed output schemas.

A document is split into paragraphs, a paragraph into sentences. A stage never deletes text: it
marks a sentence or a whole paragraph with a ``reason`` (from ``REASONS``) and a ``detail``; the
writer then puts marked spans in the ledger and the rest in the documents. That is what makes
conservation checkable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

# Ledger reasons: the documented vocabulary (README "Output contract").
REASONS = {
    "truncated": "a sentence or line cut off before its end",
    "foreign_language": "a sentence or paragraph in another language than its document",
    "byline": "author, agency or copyright credit line",
    "duplicate_exact": "paragraph identical (after normalisation) to one kept elsewhere",
    "duplicate_near": "paragraph whose MinHash Jaccard to a kept paragraph is above the threshold",
    "duplicate_document": "whole document duplicating (exactly or nearly) a kept document",
    "empty": "document with no text after repair",
    "invalid_input": "record or file that could not be read (bad JSON, wrong type, corrupt file)",
    "too_long": "text beyond input.max_doc_chars, cut from a very long document",
    "removed_characters": "control, zero-width, bidi or lone-surrogate characters removed by repair "
                          "(text shows them escaped; detail counts them by kind)",
}


@dataclass(slots=True)
class Sentence:
    start: int          # offset in the paragraph text
    end: int            # exclusive; text[start:end] includes trailing whitespace
    reason: str | None = None
    detail: str | None = None
    lang: str | None = None
    score: float | None = None


@dataclass(slots=True)
class Paragraph:
    idx: int
    start: int          # offset in the repaired document text
    text: str           # stripped paragraph text
    sentences: list[Sentence] = field(default_factory=list)
    reason: str | None = None   # whole-paragraph removal
    detail: str | None = None

    def kept_text(self) -> str:
        return "" if self.reason else self.remaining_text()

    def remaining_text(self) -> str:
        """The paragraph without its removed sentences (ignores a whole-paragraph removal)."""
        for s in self.sentences:        # (a loop, not any(): it ends at the first removed one)
            if s.reason:
                return "".join(self.text[s.start:s.end] for s in self.sentences if not s.reason).strip()
        return self.text


@dataclass(slots=True)
class Document:
    doc_id: str
    text: str             # repaired text
    source: str           # file:line or file#row
    order: tuple[int, int]  # (input file index, byte offset or row) -- the input order
    metadata: str         # JSON of passed-through fields
    lang: str = "und"
    lang_score: float = 0.0
    paragraphs: list[Paragraph] = field(default_factory=list)
    reason: str | None = None   # whole-document removal
    detail: str | None = None
    extra_ledger: list[dict] = field(default_factory=list)  # e.g. text cut by max_doc_chars

    def kept_paragraphs(self) -> list[tuple[Paragraph, str]]:
        out = []
        for p in self.paragraphs:
            if not p.reason:
                t = p.remaining_text()
                if t:
                    out.append((p, t))
        return out


# ``lang`` is dictionary-encoded: readers that turn the ``lang=xx`` folders into a (dictionary)
# partition column, such as pandas.read_parquet and pyarrow.parquet.read_table, then see the
# same type in the files and load the folder as it is.
DOCS_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("lang", pa.dictionary(pa.int32(), pa.string())),
    ("lang_score", pa.float32()),
    ("text", pa.string()),
    ("source", pa.string()),
    ("run_id", pa.string()),
    ("metadata", pa.string()),
])

LEDGER_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("text", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("stage", pa.string()),
    ("para_idx", pa.int32()),
    ("sent_idx", pa.int32()),
    ("char_start", pa.int64()),
    ("char_end", pa.int64()),
    ("source", pa.string()),
    ("run_id", pa.string()),
])

# Which stage assigns which reason (ledger column "stage").
STAGE_OF_REASON = {
    "truncated": "filters", "byline": "filters", "foreign_language": "langid",
    "duplicate_exact": "dedup", "duplicate_near": "dedup", "duplicate_document": "dedup",
    "empty": "repair", "invalid_input": "read", "too_long": "read", "removed_characters": "repair",
}
