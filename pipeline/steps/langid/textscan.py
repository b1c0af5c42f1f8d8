"""One pass over a batch of documents' text for language ID: character classes, scripts and the
function words that only one language has, as numpy arrays (the compiled kernel where it was
built). The document step takes a language from a clear function-word vote; the sentence step
counts letters, words and scripts per sentence and skips the detectors for a sentence whose
function words say it is in its document's language.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...model import Document
from ...text import chars
from ...text.kernels import native as _kernel     # the compiled kernels, or None: numpy computes the same values

# Frequent function words. Only the words of one language that no other list has are used
# (``_exclusive``), and never single letters: "die" is German, "the" English, but "de", "la", "que"
# or "a" say nothing. A sentence with at least two of its document language's words and twice as
# many as of any other language is in its document's language without asking a detector.
FUNCTION_WORDS = {
    "en": "the of and to in is was that for with as on by at from his her this which have has had were are "
          "been would will their they there not but an it its who said also after",
    "de": "der die das und ist nicht mit den dem des sich auf für ein eine einen einem einer auch wird wurde "
          "sind war hat haben nach bei aus wie oder noch nur über zum zur vom an in was will um da er als also",
    "fr": "le la les de des est une dans pour qui que sur avec sont pas par ont été aux cette ces mais ou leur "
          "elle il ils du au plus son sa ses aussi entre non en",
    "es": "el la los las de del que en una por con para es se su sus al como más pero fue ha han este esta "
          "está sobre entre también sin cuando muy hasta desde no son te",
    "it": "il la le gli dei delle della del che di per con una sono è non nel nella alla anche come più ha "
          "questo questa stato dal dalla sul sulla degli tra in al da",
    "pt": "o a os as de do da dos das que em um uma para com não por se no na nos nas ao pelo pela foi são mais "
          "como também seu sua está entre sobre desde ou te",
    "nl": "de het een van en is dat op te zijn voor met niet aan er ook als bij door werd om nog maar wordt "
          "naar uit in",
    # Words Russian shares with Ukrainian or Bulgarian (не, на, за, по, для, так, или ...) are left out:
    # a long Ukrainian sentence in a Russian document is foreign.
    "ru": "что как это из его её их был была было были быть только уже бы же когда который которые также "
          "ещё этого этом",
    "ar": "في من على إلى عن أن التي الذي هذا هذه مع كان قد بين ذلك كما بعد لا ما وقد إن حيث عند",
}
_FW_LANGS = sorted(FUNCTION_WORDS)
FW_INDEX = {lang: i for i, lang in enumerate(_FW_LANGS)}


def _exclusive() -> dict[str, set[str]]:
    sets = {lang: {w for w in words.split() if len(w) > 1} for lang, words in FUNCTION_WORDS.items()}
    return {lang: s - set().union(*(o for other, o in sets.items() if other != lang)) for lang, s in sets.items()}


@lru_cache(maxsize=1)
def fw_table() -> tuple[np.ndarray, np.ndarray, int]:
    """A direct-mapped lookup table of the exclusive function words: (keys by bucket, language
    index in _FW_LANGS by bucket, -1 = empty; longest word). Buckets are the key's top bits, sized
    so that no two words share one."""
    words = [(w, _FW_LANGS.index(lang)) for lang, ws in sorted(_exclusive().items()) for w in sorted(ws)]
    longest = max(len(w) for w, _ in words)
    cps, offsets = chars.code_points([w for w, _ in words])
    keys = _token_keys(cps, offsets[:-1], np.diff(offsets))
    bits = 12
    while len(np.unique(keys >> np.uint64(64 - bits))) < len(keys):
        bits += 1
    table = np.zeros(1 << bits, np.uint64)
    lang = np.full(1 << bits, -1, np.int8)
    table[keys >> np.uint64(64 - bits)] = keys
    lang[keys >> np.uint64(64 - bits)] = [i for _, i in words]
    return table, lang, longest


def _token_keys(low: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit key per token from its lower-case code points ``low[start:start+length]``."""
    key = lengths.astype(np.uint64)
    power = np.uint64(1)
    with np.errstate(over="ignore"):
        for k in range(int(lengths.max()) if len(lengths) else 0):
            power *= np.uint64(0x100000001B3)
            c = low[np.minimum(starts + k, len(low) - 1)].astype(np.uint64) * (lengths > k)
            key += c * power
        return chars.fmix64(key)


# A document's function-word vote is taken when it is clear: at least DOC_FW_DISTINCT distinct
# exclusive function words of one language, DOC_FW_DOMINANCE of all function-word hits in that
# language, DOC_FW_DENSITY of all its words (median share in news of 100+ words: 0.06 for Russian,
# whose list is short, 0.10-0.15 for es, pt, fr, it, ar, 0.22-0.25 for de, en), and
# DOC_FW_SCRIPT of its letters in that language's script. The detector then reads only the first
# DOC_PREFIX characters to confirm it; a related language without a list (Galician for
# Portuguese, Afrikaans for Dutch) fails that check and the whole text is read.
DOC_FW_DISTINCT, DOC_FW_DOMINANCE, DOC_FW_DENSITY, DOC_FW_SCRIPT, DOC_PREFIX = 6, 0.9, 0.08, 0.9, 500
_FW_SCRIPT = {lang: "latin" for lang in FUNCTION_WORDS} | {"ru": "cyrillic", "ar": "arabic"}


class TextBatches:
    """One pass over the documents' text, shared by the document and sentence steps (the text
    does not change between them): per cache-sized batch of documents (~200,000 characters), the
    character classes (letter, space, script) and where the exclusive function words are. About
    one byte per character is kept until the sentence step is done. The compiled kernel
    (``pipeline.text._native.scan``) does it in one loop; numpy computes the same arrays where it was
    not built."""

    def __init__(self, docs: list[Document]):
        t = chars.tables()
        table, _, longest = fw_table()
        # (documents, offsets, classes, function-word starts, table buckets, word runs per document,
        #  letters per document by script)
        self.batches = []
        for i, j in chars.batches([len(d.text) for d in docs]):
            cps, offsets = chars.code_points([d.text for d in docs[i:j]])
            if _kernel is not None:
                cls, n = np.empty(len(cps), np.uint8), len(cps)
                hit_starts, hit_buckets, ntok = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(j - i, np.int64)
                letters = np.empty((j - i, 16), np.int64)
                hits = _kernel.scan(cps, offsets.astype(np.int64, copy=False), t["packed"], t["classes"], table,
                                    longest, cls, hit_starts, hit_buckets, ntok, letters)
                self.batches.append((docs[i:j], offsets, cls, hit_starts[:hits], hit_buckets[:hits], ntok, letters))
                continue
            packed = t["packed"][cps]
            word = (packed & np.uint32(1 << 22)).astype(bool)
            prev = np.r_[False, word[:-1]]
            nxt = np.r_[word[1:], False]
            prev[offsets[:-1]] = False                  # no token runs across documents
            nxt[np.maximum(offsets[1:] - 1, 0)] = False
            starts = np.flatnonzero(word & ~prev)
            lengths = np.flatnonzero(word & ~nxt) + 1 - starts
            ntok = np.diff(np.searchsorted(starts, offsets))
            small = (lengths >= 2) & (lengths <= longest)
            starts, lengths = starts[small], lengths[small]
            keys = _token_keys(packed & np.uint32(0x1FFFFF), starts, lengths)
            bucket = keys >> np.uint64(64 - (len(table).bit_length() - 1))
            hit = table[bucket] == keys
            cls = t["classes"][cps]
            is_letter = np.flatnonzero(cls & 1)
            doc_of = np.repeat(np.arange(j - i), np.diff(offsets))[is_letter]
            letters = np.bincount(doc_of * 16 + (cls[is_letter] >> 4), minlength=(j - i) * 16).reshape(j - i, 16)
            self.batches.append((docs[i:j], offsets, cls, starts[hit], bucket[hit].astype(np.int64), ntok,
                                 letters.astype(np.int64)))

    def votes(self) -> list[tuple[Document, str | None, float]]:
        """Per document: the language its function words clearly say (see DOC_FW_*) or None, and
        the share of its function-word hits in that language."""
        table, table_lang, _ = fw_table()
        n_lang = len(_FW_LANGS)
        script_of = np.array([chars.SCRIPT_NAMES.index(_FW_SCRIPT[x]) + 1 for x in _FW_LANGS])
        out = []
        for docs, offsets, _cls, hs, hb, ntok, letters in self.batches:
            n = len(docs)
            did = np.searchsorted(offsets, hs, side="right") - 1
            occ = np.bincount(did * n_lang + table_lang[hb], minlength=n * n_lang).reshape(n, n_lang)
            pairs = np.sort(did * len(table) + hb)
            pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]][:len(pairs)]]     # distinct (document, word)
            dist = np.bincount((pairs // len(table)) * n_lang + table_lang[pairs % len(table)],
                               minlength=n * n_lang).reshape(n, n_lang)
            best = occ.argmax(axis=1)
            top = occ[np.arange(n), best]
            clear = ((dist[np.arange(n), best] >= DOC_FW_DISTINCT) & (top >= DOC_FW_DOMINANCE * occ.sum(axis=1))
                     & (top >= DOC_FW_DENSITY * ntok))
            in_script = letters[np.arange(n), script_of[best]]
            clear &= in_script >= DOC_FW_SCRIPT * letters.sum(axis=1)
            share = top / np.maximum(occ.sum(axis=1), 1)
            out += [(d, _FW_LANGS[b] if c else None, x)
                    for d, b, c, x in zip(docs, best.tolist(), clear.tolist(), share.tolist())]
        return out


def span_counts(cls: np.ndarray, offsets: np.ndarray, se: np.ndarray, doc_idx: np.ndarray, cjk_code: int):
    """Per document of a batch, its main script (the most frequent; -1 when none), and per span
    ``se`` (sorted, not overlapping) of document ``doc_idx``: letters, non-space characters,
    words, characters in its document's main script, CJK characters (int32). The compiled kernel
    where it was built, else numpy passes over the batch: the same arrays."""
    if _kernel is not None:
        main = np.empty(len(offsets) - 1, np.int64)
        out = [np.empty(len(se), np.int32) for _ in range(5)]
        _kernel.span_counts(cls, offsets.astype(np.int64, copy=False), np.ascontiguousarray(se[:, 0]),
                            np.ascontiguousarray(se[:, 1]), doc_idx, cjk_code, main, *out)
        return (main, *out)
    n_scripts = len(chars.SCRIPT_NAMES) + 1
    letter = (cls & 1).astype(bool)
    space = (cls & 2).astype(bool)
    sc = cls >> 4
    lengths = np.diff(offsets)
    n_docs = len(lengths)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
    per_script = np.bincount(np.repeat(np.arange(0, n_docs * n_scripts, n_scripts, dtype=np.int32), lengths) + sc,
                             minlength=n_docs * n_scripts)
    per_script = per_script.reshape(n_docs, n_scripts)[:, 1:]
    main = np.where(per_script.any(axis=1), per_script.argmax(axis=1) + 1, -1).astype(np.int64)
    word_start = ~space
    word_start[1:] &= space[:-1]
    empty = se[:, 1] <= se[:, 0]
    bounds = se.ravel()

    def span_sums(x):
        # spans are sorted and do not overlap: one reduceat over their bounds
        r = np.add.reduceat(np.r_[x, False].view(np.uint8), bounds, dtype=np.int32)[::2]
        r[empty] = 0
        return r

    letters, nonspace, words = span_sums(letter), span_sums(~space), span_sums(word_start)
    own, cjk = span_sums(sc == main[doc_of]), span_sums(sc == cjk_code)
    # a word that starts at the sentence's first character after a non-space counts too
    first_cont = ~space[np.minimum(se[:, 0], len(space) - 1)] & (se[:, 0] > 0)
    first_cont &= ~space[np.maximum(se[:, 0] - 1, 0)]
    words = (words + (first_cont & (se[:, 1] > se[:, 0]))).astype(np.int32)
    return main, letters, nonspace, words, own, cjk


def own_function_words(starts: np.ndarray, bucket: np.ndarray, se: np.ndarray, doc_lang: np.ndarray) -> np.ndarray:
    """Per sentence span: does it have 2+ distinct exclusive function words of its document's
    language (``doc_lang``: index in _FW_LANGS, -1 when it has no list), and at least twice as
    many as of all other languages together? ``starts``, ``bucket``: where the batch's exclusive
    function words are and which they are."""
    table, table_lang, _ = fw_table()
    sid = np.searchsorted(se[:, 0], starts, side="right") - 1
    inside = (sid >= 0) & (starts < se[np.maximum(sid, 0), 1])
    # distinct words per sentence: "to ... to" is one English word
    pairs = np.sort(sid[inside] * len(table) + bucket[inside])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]][:len(pairs)]]     # np.unique, without its overhead
    sid, tok_lang = pairs // len(table), table_lang[pairs % len(table)]
    same = tok_lang == doc_lang[sid]
    own = np.bincount(sid[same], minlength=len(se))
    other = np.bincount(sid[~same], minlength=len(se))
    return (doc_lang >= 0) & (own >= 2) & (own >= 2 * other)
