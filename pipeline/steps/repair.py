"""Encoding repair and Unicode normalisation: the ``repair`` step.

Correct text must come out unchanged, so nothing expensive runs unless a cheap gate fires:

* ``MOJIBAKE_GATE``: UTF-8 lead byte + continuation byte as they look after a cp1252/latin-1
  decode ("Ã©", "â€™", "Ð¿"). Only paragraphs that match go through ftfy.
* Legacy codecs (cp1251, koi8-r, cp1256, gbk, mac-roman): UTF-8 bytes that were decoded with one
  of them. The repair is exact (``text.encode(codec).decode("utf-8")``) and is taken only when
  the whole paragraph round-trips and several multi-byte characters collapse, which correct text
  in those codecs essentially never does.
* Control characters (C0 but tab/newline, DEL, C1), zero-width spaces, BOMs and bidi controls are
  removed; ZWJ/ZWNJ stay (they are meaningful in Persian, Indic scripts and emoji).
"""
from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import ftfy
import ftfy.fixes
import numpy as np

from ..model import Document, Removal
from ..registry import option, reason
from ..text import chars

REMOVED_CHARACTERS = reason("removed_characters", "repair",
                            "control, zero-width, bidi or lone-surrogate characters removed by repair "
                            "(text shows them escaped; detail counts them by kind)")
EMPTY = reason("empty", "repair", "document with no text after repair")


@dataclass(frozen=True)
class RepairConfig:
    enabled: bool = option(True)
    ftfy: bool = option(True, doc="run ftfy on documents the mojibake gate flags")
    legacy_codecs: tuple[str, ...] = option(
        ("cp1251", "koi8_r", "cp1256", "gbk", "mac_roman"),
        doc="codecs tried for UTF-8 text decoded with the wrong single/double-byte codec",
    )
    normalization: Literal["NFC", "NFKC", "none"] = option("NFC")
    remove_control: bool = option(True, doc="drop C0/C1 controls (not tab/newline), zero-width and bidi controls")

# ftfy as pure configuration: every default that could touch correct text is off.
FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,          # "&amp;" in source text is content, not an error
    remove_terminal_escapes=True,  # ANSI colour codes are never content
    fix_encoding=True,            # the point: undo mojibake
    restore_byte_a0=True,         # "Ã " where a non-breaking space was lost
    replace_lossy_sequences=True,  # sequences that cannot be fully decoded become U+FFFD
    decode_inconsistent_utf8=True,  # mixed good/bad UTF-8 in one line
    fix_c1_controls=True,         # C1 controls are cp1252 characters read as latin-1
    fix_latin_ligatures=False,    # "ﬁ" is legitimate typography; NFKC is a config choice
    fix_character_width=False,    # full-width forms are correct CJK text
    uncurl_quotes=False,          # curly quotes are correct text
    fix_line_breaks=False,        # we normalise line breaks ourselves
    fix_surrogates=True,          # lone surrogates cannot be encoded
    remove_control_chars=False,   # done below, counted
    normalization=None,           # done below, per config
    max_decode_length=1_000_000,
    explain=False,
)

# UTF-8 lead byte (C2-F4) read as latin-1/cp1252, followed by a continuation byte (80-BF) read the
# same way (cp1252 maps 80-9F to punctuation such as € ‚ „ … ‘ ’ “ ” • – —).
_CONT = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
# The same pairs as they look through other codecs ftfy can undo: cp1250 ("MĂĄm", "tĹ™"),
# cp1251 ("РЎР»", "Г©", "вЂ™"), cp437/cp866 ("╨┐╤Ç"), and mac-roman ("√©", "‚Äô", "¬£").
_CP1251_CONT = "\u0080-\u00bf\u0402-\u040f\u0452-\u045f\u0490\u0491\u2013-\u203a\u2116\u20ac\u2122"
_PAIRS = [   # (first character, what may follow it)
    ("[\u00c2-\u00f4]", f"[{_CONT}]"),
    ("[\u0102\u0139\u0104\u0106\u010c\u0118\u011a\u0143\u0147\u0150\u0158\u0164\u0170]",
     "[\u0080-\u00bf\u0100-\u017f\u02c7\u02d8\u02db\u02dd\u2013-\u203a\u20ac\u2122]"),
    ("[\u0420\u0421]", f"[{_CP1251_CONT}]"), ("\u0413", "[\u00a0-\u00bf]"), ("\u0432", "\u0402"),
    ("[\u2568\u2564]", "[\u2500-\u257f\u00a0-\u00ff\u0080-\u009f]"),
    ("\u221a", "[^\\s\\d(]"), ("\u201a", "\u00c4"), ("\u00ac", "[\u00a0-\u00bf]"),
]
# One character class first (the regex engine then skips ahead to candidates quickly, which an
# alternation of pairs does not), then the pair that starts with the character just matched.
MOJIBAKE_GATE = re.compile(
    "[" + "".join(f[1:-1] if f.startswith("[") else f for f, _ in _PAIRS) + "]"
    + "(?:" + "|".join(f"(?<={f}){nxt}" for f, nxt in _PAIRS) + ")")

# Removed characters: C0 controls except \t \n, DEL, C1, zero-width space, word joiner, BOM,
# LRM/RLM/ALM and the bidi embedding/override/isolate controls.
CONTROL_RE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u200e\u200f\u061c"
    "\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_C1_RE = re.compile("[\u0080-\u009f]")
_PARA_SPLIT = re.compile(r"(\n[ \t]*\n)")


@dataclass
class RepairResult:
    text: str
    counts: Counter
    removed: dict | None = None     # characters removed, by kind, for the ledger


def _kind(ch: str) -> str:
    o = ord(ch)
    if 0xD800 <= o <= 0xDFFF:
        return "surrogate"
    if ch in "\u200b\u2060\ufeff":
        return "zero_width"
    if ch in "\u200e\u200f\u061c" or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
        return "bidi_control"
    return "control"


_LOSSY: list[int] = []


def _sloppy_encode(err: UnicodeEncodeError):
    """Encoding error handler: C1 controls stand for their own byte (how broken decoders keep
    undefined bytes); U+FFFD marks bytes already lost, skipped and counted. Anything else is a
    character the codec cannot have produced: not mojibake of this codec."""
    out = bytearray()
    for ch in err.object[err.start:err.end]:
        o = ord(ch)
        if 0x80 <= o <= 0x9F:
            out.append(o)
        elif o == 0xFFFD:
            _LOSSY.append(1)
        else:
            try:
                raise err
            finally:
                # The traceback holds this frame and the frame would hold ``err``: without the
                # del that cycle keeps every caller's frame, the shard's documents included,
                # alive until the cyclic collector runs.
                del err
    return bytes(out), err.end


codecs.register_error("pipeline-sloppy", _sloppy_encode)

_IMPLAUSIBLE = {"Mn", "Me", "Cc", "Cf", "Co", "Cn", "Cs"}


def _badness(text: str) -> int:
    """Characters that rarely occur in correct running text: symbols, controls, combining marks
    without a base, box drawing."""
    n = 0
    for ch in text:
        if ch < "\u0080":
            continue
        cat = unicodedata.category(ch)
        if cat in _IMPLAUSIBLE or cat in ("Sm", "Sk") or "\u2500" <= ch <= "\u257f" or ch == "\ufffd":
            n += 1
    return n


@lru_cache(maxsize=None)
def _legacy_classes(codec: str) -> tuple[str, str | None]:
    """What UTF-8 read as ``codec`` must contain, as (first character, next character) regex
    classes: a lead byte (C2-F4) followed by a continuation byte (80-BF), as that codec shows
    them. For multi-byte codecs (gbk) bytes do not map to single characters: there the text must
    at least contain characters of the codec's script (next is None)."""
    if codecs.lookup(codec).name in ("gbk", "gb2312", "gb18030", "big5", "shift_jis", "euc_jp", "euc_kr"):
        return "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]", None
    lead = "".join(bytes([b]).decode(codec, "ignore") for b in range(0xC2, 0xF5))
    cont = "".join(bytes([b]).decode(codec, "ignore") for b in range(0x80, 0xC0))
    # undefined bytes survive as C1 controls, lost ones as U+FFFD (see _sloppy_encode)
    return f"[{re.escape(lead)}]", f"[{re.escape(cont)}\u0080-\u009f\ufffd]"


@lru_cache(maxsize=None)
def _legacy_gate(codec: str):
    first, nxt = _legacy_classes(codec)
    return re.compile(first + (nxt or ""))


# --------------------------------------------------------------------------- batch pre-scan
# The gates above are regexes run paragraph by paragraph. For a batch of documents one numpy
# pass over code points answers a coarser question first: could a gate match anywhere in this
# document? A per-code-point table holds, for every gate, a bit for "may start a match" and one
# for "may follow"; a document where no start bit is followed by its follow bit cannot match, so
# its regexes are skipped. The answer is a superset (a pair across two paragraphs, or the union
# of ftfy's pairs, may say yes for nothing), never a subset: the regexes still decide.
_B_NON_ASCII, _B_CONTROL, _B_C1 = 1, 2, 4
# ftfy's pairs in two groups, each with a start bit and a follow bit (<< 1): a pair whose follower is
# a negated class ("√" then [^\s\d(]: "√©", "√≠") gets its own, for in one group with the others
# any "é" before a letter would look like a possible pair, and most documents would go through
# the regexes for nothing.
_B_FTFY, _B_FTFY_WIDE = 8, 32
_FTFY_BITS = _B_FTFY | _B_FTFY_WIDE
_ASTRAL = 0x10000            # code points above the BMP share one table entry with every bit set


@lru_cache(maxsize=8)
def _scan_table(codecs_: tuple[str, ...]) -> np.ndarray:
    bmp = "".join(map(chr, range(0x10000)))
    table = np.zeros(0x10001, np.uint32)

    def mark(cls: str, bit: int) -> None:
        for m in re.finditer(f"(?:{cls})+", bmp):    # runs of matching characters
            table[m.start():m.end()] |= np.uint32(bit)

    table[0x80:] |= _B_NON_ASCII
    mark(CONTROL_RE.pattern, _B_CONTROL)
    table[0x80:0xA0] |= _B_C1
    for first, nxt in _PAIRS:
        bit = _B_FTFY_WIDE if nxt.startswith("[^") else _B_FTFY     # a negated class follows nearly anything
        mark(first, bit)
        mark(nxt, bit << 1)
    for k, codec in enumerate(codecs_):
        first, nxt = _legacy_classes(codec)
        mark(first, _codec_bit(k))
        if nxt is None:          # one character is enough: every character may follow
            table |= np.uint32(_codec_bit(k) << 1)
        else:
            mark(nxt, _codec_bit(k) << 1)
    table[_ASTRAL] = np.uint32(0xFFFFFFFF)
    return table


def _codec_bit(k: int) -> int:
    return 1 << (7 + 2 * k)


_MAX_SCAN_CODECS = 12        # 7 + 2 * 12 = 31 bits


def scan(texts: list[str], cfg: RepairConfig) -> list[int | None]:
    """Per text, which gates could match (a bit mask for ``repair_text``'s ``hint``); None when
    the configuration has more codecs than the table holds (no hint: every regex runs)."""
    codecs_ = tuple(cfg.legacy_codecs)
    if len(codecs_) > _MAX_SCAN_CODECS:
        return [None] * len(texts)
    table = _scan_table(codecs_)
    starts = np.uint32(sum(_codec_bit(k) for k in range(len(codecs_))) | _FTFY_BITS)
    singles = np.uint32(_B_NON_ASCII | _B_CONTROL | _B_C1)
    out: list[int | None] = []
    for i, j in chars.batches([len(t) for t in texts]):
        cps, offsets = chars.code_points(texts[i:j])
        f = table[np.minimum(cps, _ASTRAL)]
        pairs = np.zeros(len(f), np.uint32)
        if len(f) > 1:
            pairs[:-1] = f[:-1] & (f[1:] >> np.uint32(1)) & starts
        bits = (f & singles) | pairs
        lengths = np.diff(offsets)
        mask = np.bitwise_or.reduceat(np.r_[bits, np.uint32(0)], offsets[:-1]) if len(lengths) else bits[:0]
        mask[lengths == 0] = 0
        out += mask.tolist()
    return out


def _head_decodes(head: str, codec: str) -> bool:
    """Cheap first look at a long paragraph: could its first characters be UTF-8 read as ``codec``?
    (Correct Russian text encodes to cp1251 but is not valid UTF-8 after two letters.)"""
    _LOSSY.clear()
    try:
        raw = head.encode(codec, "pipeline-sloppy")
    except (UnicodeEncodeError, LookupError):
        return False
    if _LOSSY:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.reason == "unexpected end of data"     # only cut in the middle of a character
    return True


def _try_legacy(para: str, codecs_: tuple[str, ...]) -> tuple[str, str] | None:
    """Undo 'UTF-8 bytes decoded as <codec>' for a whole paragraph.

    Taken only when the bytes are valid UTF-8 (or nearly: a few bytes already lost as U+FFFD) and
    the result is plausible text that is less odd-looking than the input. Correct text in those
    codecs essentially never round-trips: its bytes are not valid UTF-8.
    """
    for codec in codecs_:
        gate = _legacy_gate(codec)
        if gate is not None and not gate.search(para):
            continue
        if len(para) > 96 and not _head_decodes(para[:64], codec):
            continue
        _LOSSY.clear()
        try:
            raw = para.encode(codec, "pipeline-sloppy")
        except (UnicodeEncodeError, LookupError):
            continue
        lost = len(_LOSSY)
        try:
            fixed = raw.decode("utf-8")
        except UnicodeDecodeError:
            if not lost:
                continue
            fixed = raw.decode("utf-8", "replace")
        if fixed == para or not _NON_ASCII.search(fixed):
            continue
        non_ascii = len(_NON_ASCII.findall(fixed))
        replaced = fixed.count("\ufffd")
        if replaced > max(3, 0.1 * non_ascii) or not _plausible(fixed):
            continue
        if len(para) - len(fixed) >= 2 or len(_NON_ASCII.findall(para)) >= 3:
            return fixed, codec
        # A single repaired character ("n√£o" -> "não"): only an accented Latin letter that
        # replaces odd symbols; "2012—∞" stays, it does not become "2012Ѱ".
        new = [ch for ch in fixed if ch >= "\u0080"]
        if (all("\u00c0" <= ch <= "\u024f" for ch in new) and _badness(fixed) < _badness(para)):
            return fixed, codec
    return None


def _plausible(text: str) -> bool:
    """No control or private-use characters, and combining marks only after a letter."""
    prev = ""
    for ch in text:
        if ch >= "\u0080" and ch != "\ufffd":
            cat = unicodedata.category(ch)
            if cat in ("Mn", "Me"):
                if not prev or unicodedata.category(prev)[0] not in "LM":
                    return False
            elif cat in _IMPLAUSIBLE:
                return False
        prev = ch
    return True


def repair_text(text: str, cfg: RepairConfig, hint: int | None = None) -> RepairResult:
    """Repair one document. ``hint``: its mask from ``scan`` (the gates that could match); the
    result is the same with or without it, only faster."""
    counts: Counter = Counter()
    if not cfg.enabled:
        return RepairResult(text, counts)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")   # never creates or breaks a gate pair
    if hint is None:
        hint = 0xFFFFFFFF
    legacy_codecs = tuple(c for k, c in enumerate(cfg.legacy_codecs) if hint & _codec_bit(k))
    use_ftfy = cfg.ftfy and hint & _FTFY_BITS
    changed = False
    if (use_ftfy or legacy_codecs) and _NON_ASCII.search(text):
        parts = _PARA_SPLIT.split(text)
        for i in range(0, len(parts), 2):
            para = parts[i]
            if not para or not _NON_ASCII.search(para):
                continue
            fixed = para
            if use_ftfy and MOJIBAKE_GATE.search(para):
                fixed = ftfy.fix_text(para, FTFY_CONFIG)
                if fixed != para:
                    counts["repair-ftfy"] += 1
            if fixed == para and legacy_codecs:
                legacy = _try_legacy(para, legacy_codecs)
                if legacy:
                    fixed = legacy[0]
                    counts[f"repair-legacy_{legacy[1]}"] += 1
            if fixed != para:
                parts[i] = fixed
                changed = True
        if changed:
            text = "".join(parts)
    if changed:
        hint = 0xFFFFFFFF        # the repaired text was not scanned
    removed = None
    if cfg.remove_control and hint & (_B_CONTROL | _B_C1):
        if hint & _B_C1 and _C1_RE.search(text):
            # Left-over C1 controls are cp1252 characters read as latin-1 ("l\x92homme").
            fixed = ftfy.fixes.fix_c1_controls(text)
            if fixed != text:
                counts["repair-c1_controls"] += 1
                text = fixed
        found = CONTROL_RE.findall(text) if hint & _B_CONTROL else None
        if found:
            gone = "".join(found)
            text = CONTROL_RE.sub("", text)
            counts["repair-control_removed"] += len(gone)
            kinds = Counter(_kind(ch) for ch in gone)
            removed = {"chars": gone, "kinds": dict(sorted(kinds.items()))}
            for k, v in kinds.items():
                counts[f"repair-removed_{k}"] += v
    if cfg.normalization != "none":
        if not unicodedata.is_normalized(cfg.normalization, text):
            text = unicodedata.normalize(cfg.normalization, text)
            counts[f"repair-{cfg.normalization.lower()}"] += 1
    return RepairResult(text, counts, removed)


class Repair:
    """The step: repairs every live document (``repair_text``, with the gates' hints from one scan
    of the batch), puts the characters it removed in the ledger, and removes a document left
    with no text as ``empty``."""
    stage = "repair"

    def __init__(self, cfg: RepairConfig):
        self.cfg = cfg
        self.counts: Counter = Counter()

    def __call__(self, docs: list[Document]) -> None:
        live = [d for d in docs if d.removed is None]
        hints = scan([d.text for d in live], self.cfg) if self.cfg.enabled else [None] * len(live)
        for d, hint in zip(live, hints):
            res = repair_text(d.text, self.cfg, hint)
            d.text = res.text
            self.counts.update(res.counts)
            if res.removed:
                gone = res.removed["chars"]
                d.removals.append(Removal(REMOVED_CHARACTERS,
                                          json.dumps({"kinds": res.removed["kinds"], "count": len(gone)}),
                                          text=gone.encode("unicode_escape").decode("ascii")))
            if not d.text.strip():
                d.remove(EMPTY, json.dumps({"chars": len(d.text)}))
