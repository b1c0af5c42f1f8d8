"""The ``truncated`` filter: the last sentence of a paragraph, when it stops before its end
("Trump's comments on the state of U.S.").
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import NamedTuple

from ...model import Document, Paragraph
from ...registry import FILTERS, option, reason
from .base import Filter, check_rules_off, rules_off_option

TRUNCATED = reason("truncated", "filters", "a sentence or line cut off before its end")


@dataclass(frozen=True)
class TruncatedConfig:
    enabled: bool = option(True)
    check_abbreviation_end: bool = option(True, doc="paragraph ending on an abbreviation that needs a continuation")
    check_function_word_end: bool = option(True, doc="sentence ending on a determiner/preposition/conjunction")
    check_unbalanced: bool = option(True, doc="last sentence opens a bracket it never closes")
    punctuated_doc_share: float = option(0.5, lo=0.0, hi=1.0,
                                         doc="a body line without end punctuation is cut if this share of "
                                             "its document's prose has it")
    heading_habit: int = option(2, lo=0,
                                doc="...unless this many other short lines of its document lack it too (0: off)")
    hard_wrapped: int = option(3, lo=0,
                               doc="...or this many lines go on in the next one: hard-wrapped (0: off)")
    # (in a hard-wrapped document no line is cut for how it ends on a word: no_end_punctuation,
    # comma_end and function_word_end; abbreviations, brackets and teasers are still judged)
    rules_off: tuple[str, ...] = rules_off_option()

    def check(self, prefix: str) -> None:
        check_rules_off(self.rules_off, RULES, prefix)


RULES = ("abbreviation_end", "unbalanced", "function_word_end", "comma_end", "no_end_punctuation", "teaser_cut")

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
MAY_END = {"ph.d.", "m.d.", "b.a.", "m.a.", "b.sc.", "m.sc.", "s.r.o.", "etc.", "usw.", "ecc.", "a.m.", "p.m.", "inc.", "ltd.", "co.", "corp.", "llc.", "plc.", "jr.",
           "sr.", "bros.", "u.ä.", "o.ä.", "т.д.", "т.п.", "др.", "тыс.", "млн.", "млрд.", "г.", "гг.",
           "руб.", "cía.", "s.a.", "ag.", "gmbh.", "s.p.a.", "mm.", "cm.", "km.", "kg.", "min.", "max."}
_COMPANY_SUFFIXES = {"inc.", "corp.", "co.", "ltd.", "llc.", "plc.", "ag.", "gmbh.", "s.a."}
# Street-type suffixes: "Hastings St." ends a sentence; "with St." does not.
_SUFFIX_AFTER_NAME = {"st.", "ave.", "rd.", "blvd.", "dr.", "ln."}
# The last words for which ``_abbreviation_cut`` can say True, besides words with two dots or more
# (dotted acronyms): ``_may_be_abbreviation`` looks at them first, without splitting the sentence.
_THE_ACRONYMS = {"u.s.", "u.k.", "u.n.", "e.u."}
_CUT_WORDS = frozenset(_COMPANY_SUFFIXES.union(*NEEDS_CONTINUATION.values(), _THE_ACRONYMS))

# Words that cannot end a sentence: articles, prepositions, conjunctions, possessives.
FUNCTION_WORDS = {
    "en": "a an the of to in on at by for from with into onto about than as and or but nor whose its "
          "their our my your if because while although whether every each between among during "
          "without within via per including the",
    # (not the prepositions that are also separable verb particles and end sentences: "ein", "an",
    # "auf", "aus", "mit", "zu", "vor", "nach", "bei", "um", "durch", "über", "unter", "ab")
    "de": "der die das den dem des eine einen einem einer eines und oder aber dass weil wenn als wie "
          "von zum zur für in im am gegen ohne seine ihre bis seit beim vom ins zwischen während wegen "
          "trotz laut gegenüber sowie",
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
# zh conjunctions and prepositions that end no word ("的", "了", "在" or "为" end sentences and words:
# "是不正确的", "现在", "作为")
_CJK_DANGLING = ("以及", "而且", "并且", "或者", "但是", "因为", "如果", "虽然", "与", "或", "把", "被")

_DECK_WORDS = 25         # a deck under a headline is a sentence of at most this many words
_TEASER_LINKS = ("read_more", "paywall", "related_links")      # boilerplate rules that lead to more text
_NUMBER_THEN_WORD = re.compile(r"\A\d(?:[\d.,]|[ \u00a0]\d){0,12}+[ \u00a0]++([^\W\d_])")
_FIGURES = re.compile(r"[\d/@]")
_LABELLED = re.compile(r"\A\W{0,3}[^\s:：][^:：]{0,30}[:：]")     # a label then a colon, early in the line
_HEADLINE_DASH = re.compile(r"\s[–—:]\s")      # "X – Y", and in French typography "X : Y"
# a web address at the end: "pic.twitter.com/BUPgYtgHaY", "PropertyStock.pl" (not "U.S", "2.0")
_LINK = re.compile(r"\A(?:[\w-]{2,}+\.)++[a-z]{2,6}+(?:/\S*+)?\Z")
_TRAILING_CONT = re.compile(r"[/&+(\[{«„“‘]$")
_COMMAS = ",،，、"
_WORD_RE = re.compile(r"[\w'’\.\-]+", re.UNICODE)


class _Style(NamedTuple):
    """What a document's other lines say about its unpunctuated ones (see ``_document_style``)."""
    share: float        # share of its prose paragraphs (8+ words) that end in end punctuation
    bare: int           # heading-sized lines past the first that end on a word
    body: int           # index of its first punctuated prose paragraph: the lines above are its title block
    wrapped: int        # lines whose sentence goes on in the next paragraph, in lower case


def _strip_closers(text: str) -> str:
    """Without closing quotes/brackets and U+FFFD (a lost character tells nothing of the end)."""
    return text.rstrip().rstrip(CLOSERS + "\ufffd").rstrip()


def _unbalanced(text: str) -> bool:
    """A bracket opened in the sentence and never closed: "... (11:59 p.m.". Quotes are not used:
    multi-paragraph quotations legitimately leave them open."""
    return ("(" in text and text.count("(") > text.count(")")) or ("[" in text and text.count("[") > text.count("]"))


def _size(text: str, cjk: bool) -> float:
    """Length in words (in a script without spaces, about 2.2 characters to a word)."""
    return len(text) / 2.2 if cjk else len(text.split())


def _letter_share(text: str) -> float:
    return sum(ch.isalpha() for ch in text) / len(text)


def _continues_in_next(doc: Document, p: Paragraph, numbers: bool = True) -> bool:
    """The next paragraph starts with a letter in lower case (not a dash of dialogue or a quote),
    or (with ``numbers``) with a number and then a word in lower case ("... volverá a reunir en La
    Habana a más" over "1 000 amigos del mundo, ..."): this one was a piece of a wrapped sentence.
    Lines of a list ("200 g flour") start that way too, so counting a document's wrapped lines
    leaves numbers out."""
    if p.idx + 1 >= len(doc.paragraphs):
        return False
    nxt = doc.paragraphs[p.idx + 1].text
    if nxt[:1].islower():
        return True
    m = _NUMBER_THEN_WORD.match(nxt) if numbers and nxt[:1].isdigit() else None
    return m is not None and m.group(1).islower()


def _teaser_link_follows(doc: Document, p: Paragraph) -> bool:
    """The next paragraph was taken as a link to the rest (a "read more" link, a paywall): a text that
    stops on an ellipsis above it is a teaser cut off ("... les interactions économi..." over "Pour
    lire la suite", "その判断は…" over "この記事は会員限定です")."""
    if p.idx + 1 >= len(doc.paragraphs):
        return False
    removed = doc.paragraphs[p.idx + 1].removed
    return removed is not None and removed.reason.name == "boilerplate" \
        and json.loads(removed.detail).get("rule") in _TEASER_LINKS


def _stems(text: str, lang: str) -> set[str]:
    """The content words of a text, cut to their first five letters and folded."""
    fw = FUNCTION_WORDS.get(lang, ())
    return {w[:5] for w in (w.casefold().strip("'’\"“”„«»()") for w in text.split()[:60])
            if len(w) >= 4 and w not in fw}


def _announces_next(doc: Document, p: Paragraph, core: str) -> bool:
    """Most content words of the line come back at the start of the next paragraph: a heading
    saying what the paragraph below it is about ("LVMH's involvement with the purchases of
    national treasures" over "LVMH's most significant involvements ... national treasures")."""
    if p.idx + 1 >= len(doc.paragraphs):
        return False
    own = _stems(core, doc.lang)
    if len(own) < 2:
        return False
    below = _stems(doc.paragraphs[p.idx + 1].text[:400], doc.lang)
    return 2 * len(own & below) >= len(own)


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

    * ends on an ellipsis right above a "read more" link or a paywall notice;
    * ends on an abbreviation that needs a continuation ("Mr.", "bzw.") or on a dotted country or
      organisation acronym with nothing after it in the paragraph ("the state of U.S.");
    * opens a bracket it never closes;
    * ends on a comma or a function word (article, preposition, conjunction);
    * has no end punctuation although its document punctuates its paragraphs, unless it is a
      title, a deck or the title again, a heading (capitalised, announcing the paragraph below
      it, or one of the document's many unpunctuated lines), a list item, a table row, a caption,
      a line ending on a web address, or a piece of a hard-wrapped sentence.
    """
    name, order, reason, Config = "truncated", 50, TRUNCATED, TruncatedConfig

    def _style(self, doc: Document) -> _Style:
        # Only needed for a line without end punctuation past its first paragraph: computed then,
        # once per document and batch (it reads the paragraphs' text, which no filter changes).
        style = self.batch.get(id(doc))
        if style is None:
            style = self.batch[id(doc)] = self._document_style(doc)
        return style

    @staticmethod
    def _document_style(doc: Document) -> _Style:
        n = ended = bare = wrapped = 0
        body = len(doc.paragraphs)
        cjk = doc.lang in _CJK_LANGS
        for p in doc.paragraphs:
            t = _strip_closers(p.text)
            if _BULLET_RE.match(p.text):
                continue
            stop = t[-1:] in TERMINAL or t[-1:] == ":"
            if not stop and _continues_in_next(doc, p, numbers=False):
                wrapped += 1
            elif p.idx > 0 and p.text.rstrip()[-1:].isalnum() and 3 <= _size(t, cjk) <= 20:
                bare += 1
            if len(t) < 40 and len(t.split()) < 8:
                continue
            n += 1
            ended += stop
            if stop and p.idx < body:
                body = p.idx
        return _Style(ended / n if n else 0.0, bare, body, wrapped)

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
        if (end == "…" or core.endswith("...")) and core == text.rstrip() and _teaser_link_follows(doc, p):
            return "teaser_cut"
        if end in TERMINAL:
            if end == "." and cfg.check_abbreviation_end and _may_be_abbreviation(core) \
                    and self._abbreviation_cut(core.split(), lang):
                return "abbreviation_end"
            if end == "." and cfg.check_unbalanced and _unbalanced(text):
                return "unbalanced"
            return None
        if end in ":;" or _TRAILING_CONT.search(core) or core != text.rstrip():
            # introduces a list or a quote, ends a list entry; a slash or an opening mark ends URLs,
            # code and German quotations („…“) as often as cut sentences; a closing bracket or
            # quote closes something
            return None
        comma = end in _COMMAS
        if not (end.isalnum() or comma):
            return None          # an emoji or a symbol: a cut sentence stops inside its words
        if _continues_in_next(doc, p):
            return None          # hard-wrapped: the next paragraph goes on with the sentence
        if _BULLET_RE.match(p.text) or "|" in core or (_FIGURES.search(core) and _letter_share(core) < 0.6) \
                or ("." in core[-40:] and _LINK.match(core.rsplit(None, 1)[-1])):
            return None          # a list item, a table row, a date, a row of figures, a link at the end
        words = core.split()
        cjk = lang in _CJK_LANGS
        lone = len(p.sentences) == 1
        if cfg.check_function_word_end:
            fw = FUNCTION_WORDS.get(lang)
            if (fw and words[-1].lower().strip("'’\"") in fw and len(words) >= 3) or \
                    (cjk and core.endswith(_CJK_DANGLING) and len(core) > 12):
                # unless a headline: "This Is Your Brain On Sad Movies; Plus 5 Films To Cry To"
                if lone and _title_like(words) or self._hard_wrapped(doc):
                    return None
                return "function_word_end"
        if p.idx == 0:
            return None
        size = _size(core, cjk)
        if size < 4 or _title_like(words) or (lone and not cjk and size < 8):
            return None          # a lone short line is a heading or a label, not a cut sentence
        if _LABELLED.match(core) or " / " in core or "／" in core or (lone and _HEADLINE_DASH.search(core)):
            # "Lire aussi : ...", "图注：...", "Name / Beschreibung / URL", "X – Y": a teaser, a
            # caption, a row of fields, a headline in two parts
            return None
        style = self._style(doc)
        if lone and ((p.idx < style.body and size <= _DECK_WORDS) or core in doc.paragraphs[0].text):
            # one headline-sized sentence above the first punctuated paragraph of the body (a
            # title, a deck, a kicker: a cut paragraph of the body keeps its earlier sentences, a
            # cut lead is longer), or the title again
            return None
        if cfg.heading_habit and style.bare - 1 >= cfg.heading_habit or self._hard_wrapped(doc):
            # other lines of the document end without punctuation too: they are its headings,
            # captions or furniture, or the pieces of its hard-wrapped sentences, and this one
            # is one of them (a cut line is an accident)
            return None
        if style.share < cfg.punctuated_doc_share or (lone and _announces_next(doc, p, core)):
            return None          # (a heading whose words come back in the paragraph below it)
        return "comma_end" if comma else "no_end_punctuation"

    def _hard_wrapped(self, doc: Document) -> bool:
        return bool(self.cfg.hard_wrapped) and self._style(doc).wrapped >= self.cfg.hard_wrapped

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
        if words[-1].rstrip(".").isupper() and "." not in words[-1].rstrip("."):
            return False       # an acronym, not an abbreviation: "settled with the SEC."
        if last in NEEDS_CONTINUATION.get(lang, ()) or (lang != "en" and last in _THE_ACRONYMS):
            return True
        if prev[:1].isdigit() and words[-1].islower():
            return False       # a unit after a number: "22 mm."
        # U.S., U.K., U.N., E.U. are nouns only with "the" ("in the U.S."); without it they are
        # attributes of a noun that is missing ("the state of U.S.", "the most immediate U.S.").
        # Other dotted acronyms end sentences ("in Elizabeth, N.J.", "Michael Shadlen, Ph.D.").
        return last in _THE_ACRONYMS and prev.lower() != "the"
