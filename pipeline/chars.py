"""Per-code-point tables, built once per process, so that stages can classify the characters of a
whole batch of text with numpy instead of a Python loop or regex per sentence.

``code_points(texts)`` gives the texts' code points as one uint32 array; index a table with
``np.minimum(cps, LIMIT - 1)`` (code points beyond the tables are unassigned or private use), or
the ``packed`` table, which covers every code point, with the code points themselves.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np

LIMIT = 0x30000

SCRIPTS = {
    "latin": r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]",
    "cyrillic": r"[\u0400-\u04ff]",
    "greek": r"[\u0370-\u03ff]",
    "arabic": r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]",
    "hebrew": r"[\u0590-\u05ff]",
    "cjk": r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]",
    "devanagari": r"[\u0900-\u097f]",
    "thai": r"[\u0e00-\u0e7f]",
}
SCRIPT_NAMES = list(SCRIPTS)

_T: dict = {}


def tables() -> dict:
    """``letter``, ``space``, ``word`` (letters, digits and combining marks), ``script`` (index in
    SCRIPT_NAMES + 1, or 0) and ``lower`` (the lower-case code point when it is one character)."""
    if not _T:
        chars = "".join(map(chr, range(LIMIT)))
        _T["letter"] = np.frombuffer(bytes(ch.isalpha() for ch in chars), dtype=bool)
        _T["space"] = np.frombuffer(bytes(ch.isspace() for ch in chars), dtype=bool)
        _T["word"] = np.frombuffer(bytes(ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc")
                                         for ch in chars), dtype=bool)
        script = np.zeros(LIMIT, dtype=np.uint8)
        for i, name in enumerate(SCRIPT_NAMES):
            for m in re.finditer(SCRIPTS[name], chars):
                script[m.start()] = i + 1
        _T["script"] = script
        lower = np.arange(LIMIT, dtype=np.uint32)
        for cp in np.flatnonzero(np.frombuffer(bytes(ch != ch.lower() for ch in chars), dtype=bool)):
            low = chars[cp].lower()
            if len(low) == 1:
                lower[cp] = ord(low)
        _T["lower"] = lower
        # One gather gives everything tokenising needs: lower-case code point (bits 0-20), word
        # character (bit 22), CJK or Thai character (bit 23).
        packed = np.arange(0x110000, dtype=np.uint32)
        packed[:LIMIT] = lower
        packed[:LIMIT] |= _T["word"].astype(np.uint32) << 22
        cjk = np.isin(script, [SCRIPT_NAMES.index("cjk") + 1, SCRIPT_NAMES.index("thai") + 1])
        packed[:LIMIT] |= cjk.astype(np.uint32) << 23
        _T["packed"] = packed
        # Character classes for language ID, over every code point: letter (bit 0), space
        # (bit 1), script (bits 4-7).
        classes = np.zeros(0x110000, dtype=np.uint8)
        classes[:LIMIT] = _T["letter"] | (_T["space"].astype(np.uint8) << 1) | (script << 4)
        _T["classes"] = classes
    return _T


BATCH_CHARS = 200_000     # numpy temporaries of this size stay in cache (multi-MB ones are mapped and zeroed)


def batches(lengths: list[int]) -> list[tuple[int, int]]:
    """(start, end) ranges of consecutive items with about BATCH_CHARS characters in all (an item
    longer than that is a batch of its own)."""
    out, start, size = [], 0, 0
    for j, n in enumerate(lengths):
        if size >= BATCH_CHARS:
            out.append((start, j))
            start, size = j, 0
        size += n
    if start < len(lengths):
        out.append((start, len(lengths)))
    return out


def code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(code points of all texts concatenated, uint32; offsets of each text, int64)."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return cps, np.concatenate([[0], np.cumsum(lengths)])


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit over the output."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> np.uint64(33))
