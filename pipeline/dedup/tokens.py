"""Tokens and shingles of texts, computed over their code points with no Python object per token.

Text is normalised by lower-casing and keeping only word characters (letters, digits, combining
marks). A token is a run of word characters, or for CJK and Thai text one character; a shingle
is ``dedup.shingle_words`` consecutive tokens (5 for CJK and Thai). The compiled kernels make
one pass per text; numpy computes the same values where they were not built.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash

from ..text import chars
from ..text.kernels import native as _native     # the compiled kernels, or None: numpy computes the same values

SHINGLING = "cp-token-poly64-v2"    # part of the history index identity

_P = np.uint64(0x100000001B3)         # polynomial base for token hashes (odd)
_Q = np.uint64(0x9E3779B97F4A7C15)    # base that combines token hashes into shingle hashes


@dataclass
class Tokens:
    """Tokens of a batch of texts, computed over their code points with no Python object per token.

    Text is normalised by lower-casing and keeping only word characters (letters, digits,
    combining marks): ``norm`` is that sequence, ``norm_offsets`` where each text's part starts.
    A token is a run of word characters, or for CJK and Thai text (more than a third of its word
    characters in those scripts, where words are not separated by spaces) one character."""
    norm: np.ndarray            # uint32 code points of the normalised texts, concatenated
    norm_offsets: np.ndarray    # (texts + 1,) int64
    tok_starts: np.ndarray      # int64 start of each token in ``norm``
    tok_hash: np.ndarray        # uint64 hash of each token's normalised characters
    tok_offsets: np.ndarray     # (texts + 1,) int64
    cjk: np.ndarray             # (texts,) bool

    def exact_many(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """For every i, the hash of the normalised text of texts ``lo[i]`` .. ``hi[i] - 1``
        (joined), without a numpy slice and a copy per text."""
        buf = memoryview(np.ascontiguousarray(self.norm, np.uint32)).cast("B")
        at = (self.norm_offsets * 4).tolist()
        h = xxhash.xxh3_64_intdigest
        return np.array([h(buf[at[a]:at[b]]) for a, b in zip(lo.tolist(), hi.tolist())], np.uint64)

    @property
    def ntok(self) -> np.ndarray:
        return np.diff(self.tok_offsets)


_P_INV = np.uint64(pow(int(_P), -1, 1 << 64))
_POWERS: list = [np.ones(1, np.uint64), np.ones(1, np.uint64)]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(P^j, P^-j) modulo 2^64 for j < n, kept between calls up to 2^20 entries."""
    if len(_POWERS[0]) < n:
        m = max(n, min(2 * len(_POWERS[0]), 1 << 20))
        with np.errstate(over="ignore"):
            pw = np.cumprod(np.r_[np.uint64(1), np.full(m - 1, _P, np.uint64)], dtype=np.uint64)
            inv = np.cumprod(np.r_[np.uint64(1), np.full(m - 1, _P_INV, np.uint64)], dtype=np.uint64)
        if m <= (1 << 20):
            _POWERS[:] = [pw, inv]
        return pw[:n], inv[:n]
    return _POWERS[0][:n], _POWERS[1][:n]


def tokenize(texts: list[str]) -> Tokens:
    """Tokens of ``texts`` (see ``Tokens``); a token's hash is a polynomial over its lower-case
    code points, mixed. The compiled kernel makes one pass per text; ``_tokenize_numpy`` computes
    the same arrays where it was not built."""
    cps, offsets = chars.code_points(texts)
    if _native is None:
        return _tokenize_numpy(cps, offsets)
    n, rows = len(cps), len(texts)
    norm, tok_starts, tok_hash = np.empty(n, np.uint32), np.empty(n, np.int64), np.empty(n, np.uint64)
    norm_offsets, tok_offsets, cjk = np.empty(rows + 1, np.int64), np.empty(rows + 1, np.int64), np.empty(rows, bool)
    m, k = _native.tokens(cps, offsets.astype(np.int64, copy=False), chars.tables()["packed"], norm, norm_offsets,
                          tok_starts, tok_hash, tok_offsets, cjk.view(np.uint8))
    return Tokens(norm[:m], norm_offsets, tok_starts[:k], tok_hash[:k], tok_offsets, cjk)


def _tokenize_numpy(cps: np.ndarray, offsets: np.ndarray) -> Tokens:
    """``tokenize`` in numpy: one gather from the packed code-point table, then numpy passes."""
    v = chars.tables()["packed"][cps]
    word = (v & np.uint32(1 << 22)).astype(bool)
    keep = np.flatnonzero(word)
    v = v[word]
    norm = v & np.uint32(0x1FFFFF)
    is_cjk = (v & np.uint32(1 << 23)).astype(bool)
    norm_offsets = np.searchsorted(keep, offsets)
    n_word = np.diff(norm_offsets)
    n_cjk = np.add.reduceat(np.r_[is_cjk, False].astype(np.int64), norm_offsets[:-1])
    n_cjk[n_word == 0] = 0
    cjk = n_cjk * 3 > n_word
    # A token starts at a word character after a non-word one, at each text's start, and at every
    # character of a CJK text.
    start = np.ones(len(norm), bool)
    if len(norm):
        start[1:] = keep[1:] != keep[:-1] + 1
        start[norm_offsets[:-1][n_word > 0]] = True
        start |= np.repeat(cjk, n_word)
    tok_starts = np.flatnonzero(start)
    # A token's hash is sum((c + 1) * P^k) over its characters c at offsets k from its start,
    # modulo 2^64. With prefix sums S[i] = sum((c_j + 1) * P^j, j <= i) over the whole batch,
    # the token [a, b) is (S[b-1] - S[a-1]) * P^-a (P is odd, so it has an inverse mod 2^64):
    # a few passes over the characters instead of one per step of a per-character formula.
    with np.errstate(over="ignore"):
        pw, inv = _powers(len(norm))
        s = np.cumsum((norm.astype(np.uint64) + np.uint64(1)) * pw, dtype=np.uint64)
        ends = np.r_[tok_starts[1:], len(norm)] - 1
        before = np.where(tok_starts > 0, s[np.maximum(tok_starts - 1, 0)], np.uint64(0))
        tok_hash = chars.fmix64((s[ends] - before) * inv[tok_starts]) if len(tok_starts) else np.zeros(0, np.uint64)
    tok_offsets = np.searchsorted(tok_starts, norm_offsets)
    return Tokens(norm, norm_offsets, tok_starts, tok_hash, tok_offsets, cjk)


def shingle_hashes(toks: Tokens, n_words: int, n_cjk: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every shingle (``n_words`` consecutive tokens, ``n_cjk`` for CJK texts) of every
    text; a text with fewer tokens than that is one shingle. Returns (flat uint64 hashes, row
    offsets as uint64). The compiled kernel where it was built, else numpy: the same values."""
    if _native is not None:
        rows = len(toks.cjk)
        flat, offsets = np.empty(len(toks.tok_hash), np.uint64), np.empty(rows + 1, np.uint64)
        count = _native.shingles(np.ascontiguousarray(toks.tok_hash), toks.tok_offsets.astype(np.int64, copy=False),
                                 toks.cjk.view(np.uint8), n_words, n_cjk, flat, offsets)
        return flat[:count], offsets
    return _shingle_hashes_numpy(toks, n_words, n_cjk)


def _shingle_hashes_numpy(toks: Tokens, n_words: int, n_cjk: int) -> tuple[np.ndarray, np.ndarray]:
    rows = len(toks.cjk)
    ntok = toks.ntok
    n_row = np.where(toks.cjk, n_cjk, n_words)
    T = len(toks.tok_hash)
    tok_row = np.repeat(np.arange(rows), ntok)
    n_tok = n_row[tok_row] if T else np.zeros(0, np.int64)
    parts_h, parts_row = [], []
    with np.errstate(over="ignore"):
        for n in sorted(set(n_row.tolist())):
            first = np.flatnonzero((n_tok == n) & (np.arange(T) + n - 1 < T))
            first = first[tok_row[np.minimum(first + n - 1, T - 1)] == tok_row[first]]
            h = np.zeros(len(first), np.uint64)
            for k in range(n):
                h = h * _Q + toks.tok_hash[first + k]
            parts_h.append(h)
            parts_row.append(tok_row[first])
            short = np.flatnonzero((ntok > 0) & (ntok < n) & (n_row == n))
            if len(short):
                h = np.zeros(len(short), np.uint64)
                for k in range(n - 1):
                    live = ntok[short] > k
                    h[live] = h[live] * _Q + toks.tok_hash[toks.tok_offsets[short[live]] + k]
                parts_h.append(h)
                parts_row.append(short)
    if not parts_h:
        return np.zeros(0, np.uint64), np.zeros(rows + 1, np.uint64)
    h = np.concatenate(parts_h)
    row = np.concatenate(parts_row)
    order = np.argsort(row, kind="stable")
    offsets = np.r_[0, np.cumsum(np.bincount(row, minlength=rows))].astype(np.uint64)
    return chars.fmix64(h[order]), offsets
