"""Per-code-point tables, built once per process, so that stages can classify the characters of a
whole batch of text with numpy instead of a Python loop or regex per sentence.

``code_points(texts)`` gives the texts' code points as one uint32 array; index a table with
``np.minimum(cps, LIMIT - 1)`` (code points beyond the tables are unassigned or private use), or
the ``packed`` table, which covers every code point, with the code points themselves.
"""
from __future__ import annotations

import unicodedata

import numpy as np

LIMIT = 0x30000

# Inclusive code-point ranges of each script (a later script wins where two overlap; none do).
SCRIPTS = {
    "latin": ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF)),
    "cyrillic": ((0x400, 0x4FF),),
    "greek": ((0x370, 0x3FF),),
    "arabic": ((0x600, 0x6FF), (0x750, 0x77F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "hebrew": ((0x590, 0x5FF),),
    "cjk": ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF)),
    "devanagari": ((0x900, 0x97F),),
    "thai": ((0xE00, 0xE7F),),
}
SCRIPT_NAMES = list(SCRIPTS)

_T: dict = {}


def tables() -> dict:
    """``letter``, ``space``, ``word`` (letters, digits and combining marks), ``script`` (index in
    SCRIPT_NAMES + 1, or 0) and ``lower`` (the lower-case code point when it is one character)."""
    if not _T:
        # Loops in C only (map over str methods, str.lower over blocks), not a generator per table:
        # every process that classifies text pays for these tables once.
        cps = np.arange(LIMIT, dtype="<u4")                # little-endian, as utf-32-le reads it
        chars = cps.tobytes().decode("utf-32-le", "surrogatepass")
        _T["letter"] = np.frombuffer(bytes(map(str.isalpha, chars)), dtype=bool)
        _T["space"] = np.frombuffer(bytes(map(str.isspace, chars)), dtype=bool)
        word = np.frombuffer(bytes(map(str.isalnum, chars)), dtype=bool).copy()
        rest = cps[~word]                               # combining marks (Mn, Mc) count as word too
        word[rest] = np.frombuffer(bytes(map({"Mn", "Mc"}.__contains__, map(
            unicodedata.category, rest.tobytes().decode("utf-32-le", "surrogatepass")))), dtype=bool)
        _T["word"] = word
        script = np.zeros(LIMIT, dtype=np.uint8)
        for i, name in enumerate(SCRIPT_NAMES):
            for lo, hi in SCRIPTS[name]:
                script[lo:hi + 1] = i + 1
        _T["script"] = script
        # The lower-case code point where it is one character. A block whose lower case is as long
        # as itself maps each character to one (none maps to none); elsewhere, one at a time. (A
        # test holds every code point to its own lower case, so a context rule such as Greek final
        # sigma could not slip in.)
        lower = cps.copy()
        for lo in range(0, LIMIT, 4096):
            block = chars[lo:lo + 4096]
            low = block.lower()
            if len(low) == len(block):
                lower[lo:lo + len(block)] = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), "<u4")
            else:
                lower[lo:lo + len(block)] = [ord(c) if len(c) == 1 else ord(ch)
                                             for ch, c in zip(block, map(str.lower, block))]
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
