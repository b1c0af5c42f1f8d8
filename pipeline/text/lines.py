"""Which line breaks inside a paragraph end a sentence: all of them, except after a hard-wrapped
line (``wrapped``). List items, table rows, headings and code stay lines of their own."""
from __future__ import annotations

import re

from .punctuation import CLOSERS, FULLWIDTH_STOPS, OPENERS, STOPS

_LINE_RE = re.compile(r"[^\n]*\n?")
_ENDS_SENTENCE = re.compile(f"[{re.escape(STOPS + FULLWIDTH_STOPS)}][{re.escape(CLOSERS)}]*$")
# A line that starts a list item: a bullet, "1." / "1)" / "a)" then a space.
# (The look-behind lets a match start only where a run of spaces starts, and the possessive
# quantifiers never give characters back: linear even under search() on a megabyte of spaces.)
_ITEM = re.compile(r"(?<!\s)\s*+(?:[-*•◦▪·–—>]|\d{1,3}[.)]|[a-zA-Z][.)])\s")
# Code (on a line without trailing space): it ends in a brace or in a semicolon after code
# characters, or starts like a block's end or a comment.
_CODE = re.compile(r"(?:[{}]|[)\]\w]\s*+;)$|^\s*+[}\]#]|^\s*+(?://|/\*)")
_WRAP_WIDTH = (40, 120)     # hard-wrapped text is this many characters wide


def _is_structural(line: str) -> bool:
    """A line that stands alone: a table row, code, an indented block."""
    return "|" in line or "\t" in line or line.startswith("    ") or _CODE.search(line) is not None


def _continues(line: str) -> str:
    """The first letter of a line after its opening quotes or brackets ("" when none)."""
    for ch in line[:4]:
        if ch.isalnum():
            return ch
        if ch not in OPENERS:
            return ""
    return ""


def wrapped(line: str, nxt: str, width: int) -> bool:
    """Whether ``line`` was hard-wrapped and ``nxt`` goes on with its sentence: ``line`` does not
    end a sentence or a clause that announces a list (":"), neither line is a list item, a table
    row or code, and ``nxt`` starts with punctuation that continues a sentence, or in lower case
    after a line of prose, or (caseless scripts, a capitalised word) ``line`` fills the
    paragraph's width, which a heading does not."""
    line, nxt = line.rstrip(), nxt.rstrip()
    if not line or not nxt or _ENDS_SENTENCE.search(line) or line.endswith(":"):
        return False
    if _ITEM.match(nxt) or _is_structural(line) or _is_structural(nxt):
        return False
    if nxt[0] in ".,;:!?)]}":
        return True                 # "... for pricing" / ". Pricing"
    first = _continues(nxt)
    if not first:
        return False
    if first.islower():
        # prose of several words as wide as the paragraph, not a menu ("features" / "contact us")
        return (len(line) >= 0.6 * width or len(line) >= 30) and len(line.split()) >= 3
    full = _WRAP_WIDTH[0] <= width <= _WRAP_WIDTH[1] and len(line) >= 0.8 * width
    return full and (line[-1].isalnum() or line[-1] in ",;-–") and not _ITEM.match(line)


def blocks(text: str, join: bool) -> list[tuple[int, int]]:
    """The paragraph's runs of joined lines, as (start, end) spans that cover it."""
    lines = _LINE_RE.findall(text)
    if lines and not lines[-1]:
        lines.pop()
    if len(lines) == 1:
        return [(0, len(text))]
    width = max(len(x.rstrip()) for x in lines[:-1])
    spans, start, pos = [], 0, 0
    for k, line in enumerate(lines):
        pos += len(line)
        if k + 1 == len(lines) or not (join and wrapped(line, lines[k + 1], width)):
            spans.append((start, pos))
            start = pos
    return spans


