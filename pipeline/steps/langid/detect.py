"""The ``langid`` step: the language of each document and of each sentence.

A document's language comes from its detector (``langid.backend``; ``backends.py``), or from a
clear vote of its function words confirmed on its first characters (``textscan.py``). A
sentence is foreign only when it is long enough to judge, is mostly letters, the primary
detector is confident it is another language, and the confirming detector agrees. A paragraph
whose judged sentences are all foreign in one language is foreign as a whole.
"""
from __future__ import annotations

import itertools
import json
import operator
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...model import Document
from ...registry import option, reason
from ...text import chars
from ...text.placeholder import is_placeholder
from .backends import Backend, Memo, get_backend
from .textscan import DOC_PREFIX, FW_INDEX, TextBatches, own_function_words, span_counts

FOREIGN_LANGUAGE = reason("foreign_language", "langid",
                          "a sentence or paragraph in another language than its document")


@dataclass(frozen=True)
class LangidConfig:
    backend: Literal["cld2", "fasttext", "langdetect"] = option("cld2")
    confirm_backend: Literal["fasttext", "cld2", "langdetect", "none"] = option(
        "fasttext", doc="second detector that must agree before a sentence is called foreign")
    langdetect_seed: int = option(0, doc="langdetect is random unless seeded")
    doc_min_score: float = option(0.5, lo=0.0, hi=1.0, doc="below this a document's language is 'und'")
    sentence_min_chars: int = option(30, lo=1, doc="shorter sentences (letters only) are never foreign")
    sentence_min_words: int = option(4, lo=1, doc="fewer words (not for CJK) are never foreign")
    confirm_min_score: float = option(0.7, lo=0.0, hi=1.0,
                                      doc="confidence the confirming detector needs to agree that a sentence is foreign")
    sentence_min_score: float = option(0.80, lo=0.0, hi=1.0, doc="confidence needed to call a sentence foreign")
    short_sentence_min_score: float = option(0.90, lo=0.0, hi=1.0,
                                             doc="shorter sentences (3+ words) need both detectors this sure")
    doc_function_words: bool = option(True, doc="a document whose function words clearly say one language: "
                                                "confirmed on its first 500 characters")
    function_words: bool = option(True, doc="a sentence with 2+ function words only its document's language "
                                            "has (2x any other) is in it: no detector runs")
    foreign_routing: Literal["ledger", "partition"] = option(
        "ledger", doc="ledger: foreign spans go to the ledger; partition: a row in their own language")


class DocumentLanguage:
    """The step that gives every live document its language (``detect_documents``). It scans the
    text once for both language steps and keeps the scan for ``SentenceLanguage`` (the text does
    not change in between)."""
    stage = "langid"

    def __init__(self, cfg: LangidConfig):
        self.cfg = cfg
        self.counts: Counter = Counter()
        self.text: TextBatches | None = None

    def __call__(self, docs: list[Document]) -> None:
        self.text = TextBatches([d for d in docs if d.removed is None])
        detect_documents(docs, self.cfg, self.text)


class SentenceLanguage:
    """The step that removes sentences and paragraphs in another language than their document
    (``detect_sentences``), after segmentation."""
    stage = "langid"

    def __init__(self, cfg: LangidConfig, documents: DocumentLanguage | None = None):
        self.cfg, self.documents = cfg, documents
        self.counts: Counter = Counter()

    def __call__(self, docs: list[Document]) -> None:
        text = None
        if self.documents is not None:
            text, self.documents.text = self.documents.text, None
        detect_sentences(docs, self.cfg, text)


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


def same_language(a: str, b: str, short: bool) -> bool:
    if a == b:
        return True
    group = _CONFUSE.get(b)
    if group and a in group:
        return short or not (a in _SHORT_ONLY and b in _SHORT_ONLY)
    return False


def detect_documents(docs: list[Document], cfg: LangidConfig, text: TextBatches | None = None) -> list[Document]:
    """Document language and its score: the detector's on the whole (repaired) text, or, when the
    document's function words clearly say one language and the detector puts its first
    DOC_PREFIX characters in the same language (``langid.doc_function_words``), that language and
    the share of its function words in it (a prefix's detector score would understate a clear
    document). ``text``: the batches of these documents (built here when not given)."""
    backend = get_backend(cfg.backend, cfg.langdetect_seed)
    if cfg.doc_function_words:
        votes = (text or TextBatches([d for d in docs if d.removed is None])).votes()
    else:
        votes = [(d, None, 0.0) for d in docs if d.removed is None]
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
_REMOVED, _START, _END = operator.attrgetter("removed"), operator.attrgetter("start"), operator.attrgetter("end")


def judgements(docs: list[Document], cfg: LangidConfig, text: TextBatches | None = None):
    """The live sentences of the documents whose language is known, in order, and their judgement:
    (sentences, [(document, paragraph)] of the paragraphs listed, per sentence the index of its
    paragraph in that list, kind codes (index in KINDS), letters, paragraph numbers).
    Character counts come from the character classes of a batch of documents (``textscan.span_counts``),
    not a regex per sentence.

    Kinds: 'script': written in another script than its document (judged even when short);
    'long': long enough for one confident detector; 'short': needs both detectors, very sure;
    'native': long or short, but its function words say it is in its document's language;
    None: too short, or mostly digits and symbols (numbers, code, tables)."""
    cjk_code = chars.SCRIPT_NAMES.index("cjk") + 1
    if text is None:
        text = TextBatches([d for d in docs if d.removed is None and d.lang != "und"])
    sentences, prefs, pref_idx, kinds, letter_counts, para_ids, n_paras = [], [], [], [], [], [], 0
    for batch, offsets, cls, hit_starts, hit_buckets, _ntok, _letters in text.batches:
        # per paragraph listed: its number, its document's index in the batch, its start in the
        # batch, how many sentences it has; the sentences' attributes are then read by maps in C
        # (not two lists built per paragraph in Python, which cost more than the rest of the step)
        sents, pids, pdoc, pbase, counts, first = [], [], [], [], [], len(prefs)
        for k, d in enumerate(batch):
            if d.removed is not None or d.lang == "und":
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
        live = np.fromiter(map(operator.is_, map(_REMOVED, sents), itertools.repeat(None)), bool, len(sents))
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
        main, letters, nonspace, words, own, cjk = span_counts(cls, offsets, se, doc_idx, cjk_code)
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
            doc_fw = np.array([FW_INDEX.get(d.lang, -1) for d in batch], np.int8)
            kind[(kind >= 2) & own_function_words(hit_starts, hit_buckets, se, doc_fw[doc_idx])] = 4
        kinds.append(kind)
        letter_counts.append(letters)
        para_ids.append(np.repeat(np.array(pids, np.int64), counts))
        pref_idx.append(np.repeat(np.arange(first, len(prefs), dtype=np.int64), counts))
    if not sentences:
        empty = np.zeros(0, np.int64)
        return [], [], empty, np.zeros(0, np.int8), np.zeros(0, np.int32), empty
    return (sentences, prefs, np.concatenate(pref_idx), np.concatenate(kinds), np.concatenate(letter_counts),
            np.concatenate(para_ids))


def _foreign(text: str, kind: str, letters: int, doc_lang: str, primary: Backend, confirm: Backend | None,
             cfg: LangidConfig) -> tuple[str, float] | None:
    """(language, score) when the sentence is confidently in another language than its document."""
    lang, score = primary.detect(text)
    short = kind != "long" or letters < 80
    if lang == "und" or same_language(lang, doc_lang, short):
        return None
    need = cfg.sentence_min_score if kind != "short" else cfg.short_sentence_min_score
    if score < need:
        return None
    if confirm is not None or kind == "short":
        other = confirm or get_backend("fasttext" if cfg.backend != "fasttext" else "cld2")
        lang2, score2 = other.detect(text)
        if lang2 != lang and not same_language(lang2, lang, True):
            return None
        if same_language(lang2, doc_lang, short) or score2 < (need if kind == "short" else cfg.confirm_min_score):
            return None          # the confirming detector must lean clearly too: no removal on a guess
        score = min(score, score2)
    return lang, score


_CODE_OR_TABLE = re.compile(r"[|{}]|\s/\s|->|=>|\w\([^)\n]{0,200}\)[ \t]*;|^[ \t]*+(?:let|fn|def|var|const|return|import|#include)\s",
                            re.M)


_REFERENCE = re.compile(r"\A\s*+\[\d{1,3}\]")


def _mark(s, lang: str, score: float, doc_lang: str, **extra) -> None:
    s.lang, s.score = lang, round(score, 4)
    s.remove(FOREIGN_LANGUAGE, json.dumps({"lang": lang, "score": s.score, "doc_lang": doc_lang, **extra},
                                          sort_keys=True))


def detect_sentences(docs: list[Document], cfg: LangidConfig, text: TextBatches | None = None) -> list[Document]:
    """Mark sentences (and whole paragraphs) confidently in another language than the document.
    ``text``: the batches built for ``detect_documents`` (the text has not changed since)."""
    primary = Memo(get_backend(cfg.backend, cfg.langdetect_seed))
    confirm = None if cfg.confirm_backend in ("none", cfg.backend) else Memo(get_backend(
        cfg.confirm_backend, cfg.langdetect_seed))
    sentences, prefs, pref_idx, kind, letters, para = judgements(docs, cfg, text)
    if not sentences:
        return docs
    judged = np.bincount(para, weights=kind > 0)                 # judged sentences per paragraph
    touched: dict[int, tuple] = {}                               # paragraph -> (doc, paragraph, languages)
    run = np.flatnonzero((kind >= 1) & (kind <= 3))                # the detectors run on these only
    for i, k, n, j in zip(run.tolist(), kind[run].tolist(), letters[run].tolist(), pref_idx[run].tolist()):
        s = sentences[i]
        d, p = prefs[j]
        found = _foreign(p.text[s.start:s.end], KINDS[k], n, d.lang, primary, confirm, cfg)
        if found and not _CODE_OR_TABLE.search(p.text, s.start, s.end) and not _REFERENCE.match(p.text):
            # (code, table rows and rows of fields are in no language: "fn main() -> i32;",
            # "| a | b |", "Name / Ort / URL"; a numbered reference keeps its title's language)
            _mark(s, found[0], found[1], d.lang)
            touched.setdefault(int(para[i]), (d, p, set()))[2].add(found[0])
    # When all judged sentences of a paragraph are foreign in one language, the short sentences in
    # it (a dateline, "Foto: EFE.") belong to the same foreign passage.
    for q, (d, p, langs) in touched.items():
        flagged = [x for x in p.sentences if x.removed is not None and x.removed.reason is FOREIGN_LANGUAGE]
        if len(flagged) == judged[q] and len(langs) == 1 and len(flagged) < len(p.sentences):
            lang = next(iter(langs))
            for x in p.sentences:
                if x.removed is None:
                    _mark(x, lang, flagged[0].score, d.lang, context="paragraph")
    keep_the_majority({id(d): d for d, _, _ in touched.values()}.values())
    return docs


def keep_the_majority(docs) -> None:
    """A document never loses most of its text as foreign: when the passages judged foreign in
    one language outweigh what is left in the document's language, that language was wrong (a German article with a hidden lorem
    ipsum read as Latin, an English page quoting German at length). Those marks are undone and
    the document takes the language of the passages. Placeholder text ("Lorem ipsum ...") is no
    language and weighs nothing (the boilerplate filter removes it)."""
    for d in docs:
        foreign: Counter = Counter()
        scored = total = 0.0
        for p in d.paragraphs:
            if p.removed is not None or is_placeholder(p.text):
                continue
            for s in p.sentences:
                n = s.end - s.start
                total += n
                if s.removed is not None and s.removed.reason is FOREIGN_LANGUAGE:
                    foreign[s.lang] += n
                    scored += n * s.score
        if not foreign or max(foreign.values()) <= total - sum(foreign.values()):
            continue             # the document's language still holds the most text
        for p in d.paragraphs:
            for s in p.sentences:
                if s.removed is not None and s.removed.reason is FOREIGN_LANGUAGE:
                    s.removed, s.lang, s.score = None, None, None
        d.lang = max(sorted(foreign), key=foreign.__getitem__)
        d.lang_score = round(scored / sum(foreign.values()), 4)
