"""The ``truncated`` filter: the last sentence of a paragraph, when it stops before its end
("Trump's comments on the state of U.S.").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...model import Document, Paragraph
from ...registry import FILTERS, option, reason
from .base import Filter

TRUNCATED = reason("truncated", "filters", "a sentence or line cut off before its end")


@dataclass(frozen=True)
class TruncatedConfig:
    enabled: bool = option(True)
    check_abbreviation_end: bool = option(True, doc="paragraph ending on an abbreviation that needs a continuation")
    check_function_word_end: bool = option(True, doc="sentence ending on a determiner/preposition/conjunction")
    check_unbalanced: bool = option(True, doc="last sentence opens a bracket it never closes")
    punctuated_doc_share: float = option(0.5, lo=0.0, hi=1.0,
                                         doc="a body line without end punctuation is truncated when at least this "
                                             "share of its document's prose paragraphs end in punctuation")

TERMINAL = ".!?…。！？؟۔।॥‼⁇⁈⁉"
CLOSERS = "\"'”’»›)]}」』】）〕〉》\u200f"
_CJK_LANGS = {"zh", "ja", "ko", "th"}
_BULLET_RE = re.compile(r"^\s*(?:[•·*▪‣◦●○■□►▸–—-]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")

# Abbreviations that cannot end a sentence: titles, conjunction-like and reference abbreviations
# always announce something that follows. Keys are lower-cased, with their dots.
NEEDS_CONTINUATION = {
    "en": {"mr.", "mrs.", "ms.", "dr.", "prof.", "gen.", "sen.", "rep.", "gov.", "lt.", "col.", "sgt.",
           "capt.", "cpt.", "adm.", "cmdr.", "rev.", "hon.", "pres.", "supt.", "insp.", "det.", "no.",
           "nos.", "vol.", "fig.", "art.", "sec.", "ch.", "pp.", "vs.", "v.", "e.g.", "i.e.", "cf.",
           "approx.", "ca.", "mt.", "ft.", "univ.", "dept.", "st.", "jan.", "feb.", "mar.", "apr.", "jun.",
           "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec."},
    "de": {"hr.", "fr.", "dr.", "prof.", "nr.", "z.b.", "d.h.", "u.a.", "bzw.", "bzgl.", "gem.", "vgl.",
           "st.", "sog.", "ca.", "evtl.", "inkl.", "abs.", "art.", "s.", "z.t.", "u.u."},
    "fr": {"m.", "mm.", "mme.", "mlle.", "me.", "dr.", "pr.", "st.", "ste.", "no.", "cf.", "p.ex."},
    "es": {"sr.", "sra.", "srta.", "dr.", "dra.", "d.", "dña.", "lic.", "ing.", "núm.", "p.ej.", "av.", "gral."},
    "it": {"sig.", "dott.", "dr.", "prof.", "avv.", "ing.", "on.", "gen.", "p.es.", "ad es."},
    "pt": {"sr.", "sra.", "dr.", "dra.", "prof.", "av.", "gen.", "eng.", "p.ex."},
    "ru": {"г-н.", "т.", "им.", "ул.", "ген.", "проф.", "см.", "ср.", "напр.", "т.е.", "т.к.", "т.н."},
}
# Abbreviations that legitimately end a sentence (company suffixes, times, "etc.", units).
MAY_END = {"etc.", "usw.", "ecc.", "a.m.", "p.m.", "inc.", "ltd.", "co.", "corp.", "llc.", "plc.", "jr.",
           "sr.", "bros.", "u.ä.", "o.ä.", "т.д.", "т.п.", "др.", "тыс.", "млн.", "млрд.", "г.", "гг.",
           "руб.", "cía.", "s.a.", "ag.", "gmbh.", "s.p.a.", "mm.", "cm.", "km.", "kg.", "min.", "max."}
_COMPANY_SUFFIXES = {"inc.", "corp.", "co.", "ltd.", "llc.", "plc.", "ag.", "gmbh.", "s.a."}
# Street-type suffixes: "Hastings St." ends a sentence; "with St." does not.
_SUFFIX_AFTER_NAME = {"st.", "ave.", "rd.", "blvd.", "dr.", "ln."}
# The last words for which ``_abbreviation_cut`` can say True, besides words with two dots or more
# (dotted acronyms): ``_may_be_abbreviation`` looks at them first, without splitting the sentence.
_CUT_WORDS = frozenset(_COMPANY_SUFFIXES.union(*NEEDS_CONTINUATION.values(), {"u.s.", "u.k.", "u.n."}))

# Words that cannot end a sentence: articles, prepositions, conjunctions, possessives.
FUNCTION_WORDS = {
    "en": "a an the of to in on at by for from with into onto about than as and or but nor whose its "
          "their our my your if because while although whether every each between among during "
          "without within via per including the",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber dass weil wenn als wie "
          "von zu zum zur mit für auf an in im am aus bei nach über unter vor durch gegen ohne um seine "
          "ihre ab bis seit beim vom ins zwischen während wegen trotz laut gegenüber sowie",
    "fr": "le la les l' un une des du de d' et ou mais que qui dont à au aux en dans sur sous par pour "
          "avec sans entre vers chez son sa ses leur leurs ce cette ces ne",
    "es": "el la los las un una unos unas de del al y o pero que cuyo a en con por para sin sobre entre "
          "hacia desde hasta su sus este esta estos estas se",
    "it": "il lo la i gli le un uno una di del della dei degli delle al allo alla ai agli alle e o ma che "
          "a in con per su tra fra da dal dalla nel nella suo sua suoi sue questo questa si",
    "pt": "o a os as um uma uns umas de do da dos das ao à aos às e ou mas que em no na nos nas com por "
          "para pelo pela sem sobre entre seu sua seus suas este esta se",
    "ru": "и в во на с со к ко по за из от до о об при для без через под над между а но или что чтобы "
          "который которая которые его её их этот эта это эти",
    "ar": "في من إلى على عن مع و أو لكن أن إن التي الذي الذين هذا هذه ذلك تلك قد لم لن ثم بين عند حتى منذ "
          "خلال بعد قبل حول ضد",
    "nl": "de het een van en of maar dat die in op aan met voor door naar bij uit over onder tussen",
}
FUNCTION_WORDS = {k: set(v.split()) for k, v in FUNCTION_WORDS.items()}
_CJK_DANGLING = set("的了和与及或在从向对把被将为以及之而且但是就也都很")   # zh particles/conjunctions

_TRAILING_CONT = re.compile(r"[,/&+(\[{«„“‘]$")
_WORD_RE = re.compile(r"[\w'’\.\-]+", re.UNICODE)
_DOTTED_ACRONYM = re.compile(r"^(?:\w{1,3}\.){2,}$")


def _strip_closers(text: str) -> str:
    """Without closing quotes/brackets and U+FFFD (a lost character tells nothing of the end)."""
    return text.rstrip().rstrip(CLOSERS + "\ufffd").rstrip()


def _unbalanced(text: str) -> bool:
    """A bracket opened in the sentence and never closed: "... (11:59 p.m.". Quotes are not used:
    multi-paragraph quotations legitimately leave them open."""
    return ("(" in text and text.count("(") > text.count(")")) or ("[" in text and text.count("[") > text.count("]"))


def _title_like(words: list[str]) -> bool:
    """Most words capitalised: a heading or a fixture line ("Leicester v Blackpool")."""
    cased = [w for w in words if any(ch.isalpha() for ch in w)]
    if not cased or not any(ch.upper() != ch.lower() for ch in "".join(cased)):
        return False           # caseless script: no evidence either way
    caps = sum(1 for w in cased if next(ch for ch in w if ch.isalpha()).isupper())
    return caps >= 0.6 * len(cased)


def _may_be_abbreviation(core: str) -> bool:
    """A cheap first look for ``_abbreviation_cut``: False when the last word cannot make it say
    True (neither two dots nor one of ``_CUT_WORDS``), so most sentences are not split into words."""
    last = core.rsplit(None, 1)[-1].lower().lstrip("(\"'“‘«")
    return last in _CUT_WORDS or last.count(".") >= 2


@FILTERS.add
class TruncatedFilter(Filter):
    """The last sentence of a paragraph, when it stops before its end.

    * ends on an abbreviation that needs a continuation ("Mr.", "bzw.") or on a dotted country or
      organisation acronym with nothing after it in the paragraph ("the state of U.S.");
    * opens a bracket it never closes;
    * ends on a comma or a function word (article, preposition, conjunction);
    * has no end punctuation although its document punctuates its paragraphs, unless it is the
      first paragraph (the headline), a list item, or a capitalised heading-like line.
    """
    name, order, reason, Config = "truncated", 50, TRUNCATED, TruncatedConfig

    def __init__(self, cfg: TruncatedConfig):
        super().__init__(cfg)
        self._style: dict[int, float] = {}

    def __call__(self, docs: list[Document]) -> None:
        # A document's punctuation share is only needed for a line without end punctuation past
        # its first paragraph: computed then, once per document (it reads the paragraphs' text,
        # which no filter changes).
        self._style = {}
        try:
            super().__call__(docs)
        finally:
            self._style = {}

    def _doc_style(self, doc: Document) -> float:
        share = self._style.get(id(doc))
        if share is None:
            share = self._style[id(doc)] = self._punctuation_share(doc)
        return share

    @staticmethod
    def _punctuation_share(doc: Document) -> float:
        """Share of the document's prose paragraphs (8+ words) that end in end punctuation."""
        n = ended = 0
        for p in doc.paragraphs:
            t = _strip_closers(p.text)
            if len(t) < 40 and len(t.split()) < 8 or _BULLET_RE.match(p.text):
                continue
            n += 1
            ended += t[-1:] in TERMINAL or t[-1:] == ":"
        return ended / n if n else 0.0

    def judge(self, doc, p):
        if not p.sentences:
            return []
        idx = len(p.sentences) - 1
        s = p.sentences[idx]
        if s.removed is not None:
            return []
        text = p.text[s.start:s.end].strip()
        rule = self._rule(text, doc, p)
        if rule is None:
            return []
        return [(idx if len(p.sentences) > 1 else None, rule, {})]

    def _rule(self, text: str, doc: Document, p: Paragraph) -> str | None:
        cfg, lang = self.cfg, doc.lang
        core = _strip_closers(text)
        if not core:
            return None
        end = core[-1]
        if end in TERMINAL:
            if end == "." and cfg.check_abbreviation_end and _may_be_abbreviation(core) \
                    and self._abbreviation_cut(core.split(), lang):
                return "abbreviation_end"
            if end == "." and cfg.check_unbalanced and _unbalanced(text):
                return "unbalanced"
            return None
        if end in ":;":
            return None          # introduces a list or a quote; ends a list entry
        if _TRAILING_CONT.search(core):
            return "dangling_punctuation"
        if _BULLET_RE.match(p.text):
            return None          # a list item
        words = core.split()
        cjk = lang in _CJK_LANGS
        if cfg.check_function_word_end:
            fw = FUNCTION_WORDS.get(lang)
            if fw and words[-1].lower().strip("'’\"") in fw and len(words) >= 3:
                return "function_word_end"
            if cjk and core[-1] in _CJK_DANGLING and len(core) > 12:
                return "function_word_end"
        if p.idx == 0:
            return None
        size = len(core) / 2.2 if cjk else len(words)
        if size < 4 or _title_like(words):
            return None
        if self._doc_style(doc) >= cfg.punctuated_doc_share:
            return "no_end_punctuation"
        return None

    @staticmethod
    def _abbreviation_cut(words: list[str], lang: str) -> bool:
        if len(words) < 2:
            return False
        last = words[-1].lower().lstrip("(\"'“‘«")
        prev = words[-2]
        if last in _COMPANY_SUFFIXES and len(words) <= 5 and _title_like(words):
            return True        # a bare company name: the subject of a sentence that was cut off
        if last in MAY_END:
            return False
        if last in _SUFFIX_AFTER_NAME and prev[:1].isupper() and prev.lower() not in ("the", "a", "an"):
            return False
        if last in NEEDS_CONTINUATION.get(lang, ()) or (lang != "en" and last in ("u.s.", "u.k.", "u.n.")):
            return True
        if prev[:1].isdigit() and words[-1].islower():
            return False       # a unit after a number: "22 mm."
        # dotted acronyms (U.S., U.K., U.N., E.U.): a paragraph does not end on one
        return bool(_DOTTED_ACRONYM.match(last)) and len(last) > 2 and sum(ch.isupper() for ch in words[-1]) >= 2
