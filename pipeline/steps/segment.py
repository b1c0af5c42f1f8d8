"""The ``segment`` step: documents into paragraphs (blank lines) and sentences (sentencex +
language rules).

A line break always ends a sentence (lists, bylines and headlines are lines). Inside a line the
splitter is sentencex (accurate and fast on the public gold of several languages), with merge
rules for the cases it gets wrong: German ordinals ("19. Jahrhundert"), French "M.",
initials ("George W. Bush") and any piece that starts in lower case ("т. е. пример").
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ..model import Document, Paragraph, Sentence
from ..registry import option


@dataclass(frozen=True)
class SegmentConfig:
    splitter: Literal["sentencex", "regex"] = option("sentencex")

_LINE_RE = re.compile(r"[^\n]*\n?")

# Regex fallback splitter: end punctuation (+ closing quotes/brackets), then space or CJK end mark.
_REGEX_SPLIT = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+|(?<=[。！？!?])[」』”’）)]*\s*")

# Matched against the last whitespace-separated token of the piece before a split.
_DE_ORDINAL = re.compile(r"\d{1,2}\.")
_FR_TITLE = re.compile(r"(?:M|MM|Mme|Mlle|Me|Dr|Pr)\.")
_INITIAL = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁ]\.")
# (?<!...) lets a match start only where a run of spaces/quotes starts, and the possessive
# quantifiers never give characters back: linear even under search() on a megabyte of spaces.
_STARTS_LOWER = re.compile(r"(?<![\s\"'“‘«(])\s*+[\"'“‘«(]*+[a-zß-öø-ÿа-яё]")
_GERMAN_NEXT = re.compile(r"(?<!\s)\s*+(?:Jahrhundert|Jh\.|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Platz|Lebensjahr|Mal|Stock|Bundesliga|Klasse|Liga|Runde|Spieltag|Etage)\b")


@lru_cache(maxsize=None)
def _sentencex_lang(lang: str) -> str:
    return lang if lang and lang != "und" else "en"


def _regex_split(line: str) -> list[str]:
    pieces, pos = [], 0
    for m in _REGEX_SPLIT.finditer(line):
        if m.end() > pos:
            pieces.append(line[pos:m.end()])
            pos = m.end()
    if pos < len(line):
        pieces.append(line[pos:])
    return pieces


def _should_merge(prev: str, nxt: str, lang: str) -> bool:
    if _STARTS_LOWER.match(nxt):
        return True
    if prev.rstrip()[-1:] != ".":
        return False                    # the rules below all need a last word ending in "."
    words = prev.rsplit(None, 1)        # scans from the end only
    if not words:
        return False
    last = words[-1]
    if lang == "de" and _DE_ORDINAL.fullmatch(last) and _GERMAN_NEXT.match(nxt):
        return True
    if lang == "fr" and _FR_TITLE.fullmatch(last):
        return True
    return len(words) > 1 and _INITIAL.fullmatch(last) is not None


def split_sentences(text: str, lang: str, splitter: str = "sentencex") -> list[tuple[int, int]]:
    """Sentence spans of a paragraph; together they cover ``text`` exactly. A piece that is only
    whitespace is glued to the sentence before it."""
    return [(s.start, s.end) for s in _sentences(text, lang, splitter)]


def _sentencex(lang: str, line: str) -> list[str]:
    """sentencex's pieces of a line; the regular-expression splitter's where sentencex fails.
    (sentencex 1.x panics, a BaseException, when a capital letter, a multi-byte space and a
    full stop meet: "Hello A\u00a0. B world".)"""
    import sentencex
    try:
        return sentencex.segment(lang, line)
    except BaseException as e:                  # noqa: BLE001  (Rust panics are BaseExceptions)
        if type(e).__name__ != "PanicException":
            raise
        return _regex_split(line)


def _sentences(text: str, lang: str, splitter: str) -> list[Sentence]:
    if not text:
        return []
    first = None                            # sentencex's pieces of a one-line text
    if splitter == "sentencex":
        segment, sx_lang = _sentencex, _sentencex_lang(lang)
        if "\n" not in text and text.strip():  # most paragraphs are one line
            first = segment(sx_lang, text)
            if len(first) == 1:             # and one sentence
                return [Sentence(0, len(text))]
    lines = _LINE_RE.findall(text) if "\n" in text else (text,)
    out: list[Sentence] = []
    pos = 0
    for line in lines:
        if not line:
            continue
        if not line.strip():
            pieces = [line]
        elif splitter == "sentencex":
            pieces = first if first is not None else segment(sx_lang, line)
            if len(pieces) == 1:
                pieces = pieces if pieces[0] == line else [line]
            elif "".join(pieces) != line:   # never lose a character
                pieces = [line]
            elif not all(pieces):
                pieces = [x for x in pieces if x]
        else:
            pieces = _regex_split(line)
        if len(pieces) > 1:
            merged = [pieces[0]]
            for piece in pieces[1:]:
                if _should_merge(merged[-1], piece, lang):
                    merged[-1] += piece
                else:
                    merged.append(piece)
            pieces = merged
        for piece in pieces:
            end = pos + len(piece)
            if out and piece.isspace():
                out[-1].end = end
            else:
                out.append(Sentence(pos, end))
            pos = end
    return out


# A paragraph: a run of lines that are not blank, from the start of its first line to the end of its
# last. The possessive quantifiers and the line-start anchor keep it linear on any input.
_PARAGRAPH_RE = re.compile(r"^([^\S\n]*+)\S[^\n]*+(?:\n[^\S\n]*+\S[^\n]*+)*+", re.M)


def segment_document(doc: Document, cfg: SegmentConfig) -> None:
    paras = []
    text, lang, splitter = doc.text, doc.lang, cfg.splitter
    for i, m in enumerate(_PARAGRAPH_RE.finditer(text)):
        body = m.group().strip()
        paras.append(Paragraph(i, m.end(1), body, _sentences(body, lang, splitter)))
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
