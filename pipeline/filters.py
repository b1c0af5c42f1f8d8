"""Line filters: truncated sentences and bylines.

``ParagraphFilter`` does the bookkeeping once for every filter: it skips text an earlier stage
already removed, marks what ``judge`` returns with the filter's reason, and counts it as
``filter-<reason>-<rule>`` (for example ``filter-truncated-abbreviation_end``).
"""
from __future__ import annotations

import json
import re
from collections import Counter

from .config import BylineConfig, FiltersConfig, TruncatedConfig
from .model import Document, Paragraph

TERMINAL = ".!?…。！？؟۔।॥‼⁇⁈⁉"
CLOSERS = "\"'”’»›)]}」』】）〕〉》\u200f"
_CJK_LANGS = {"zh", "ja", "ko", "th"}
_BULLET_RE = re.compile(r"^\s*(?:[•·*▪‣◦●○■□►▸–—-]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")

# Abbreviations that cannot end a sentence: they always announce a name or number that follows.
# Keys are lower-cased, with their dots.
NEEDS_CONTINUATION = {
    "en": {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "gen.", "sen.", "rep.", "gov.", "lt.", "col.",
           "sgt.", "capt.", "cpt.", "adm.", "cmdr.", "rev.", "hon.", "pres.", "supt.", "insp.", "det.",
           "no.", "nos.", "vol.", "fig.", "art.", "sec.", "ch.", "pp.", "vs.", "v.", "e.g.", "i.e.",
           "approx.", "ca.", "mt.", "ft.", "feb.", "aug.", "sept.", "oct.", "nov.", "dec.",
           "jan.", "mar.", "apr.", "jun.", "jul."},
    "de": {"hr.", "fr.", "dr.", "prof.", "nr.", "z.b.", "d.h.", "u.a.", "bzgl.", "gem.", "vgl.", "st.",
           "sog.", "ca.", "evtl.", "inkl.", "abs.", "art."},
    "fr": {"m.", "mm.", "mme.", "mlle.", "me.", "dr.", "pr.", "st.", "ste.", "n°.", "no.", "cf.", "p.ex."},
    "es": {"sr.", "sra.", "srta.", "dr.", "dra.", "d.", "dña.", "lic.", "ing.", "núm.", "no.", "p.ej.", "av.", "gral."},
    "it": {"sig.", "sig.ra", "dott.", "dr.", "prof.", "avv.", "ing.", "on.", "n.", "s.", "gen.", "p.es."},
    "pt": {"sr.", "sra.", "dr.", "dra.", "prof.", "n.º", "nº.", "av.", "gen.", "eng.", "p.ex."},
    "ru": {"г-н.", "т.", "им.", "ул.", "д.", "ген.", "проф.", "см.", "ср.", "напр.", "т.е.", "т.к.", "т.н.", "т.наз."},
}
# Abbreviations that legitimately end a sentence (never judged truncated on their own).
MAY_END = {"etc.", "usw.", "ecc.", "etc", "a.m.", "p.m.", "inc.", "ltd.", "co.", "corp.", "llc.", "plc.",
           "jr.", "sr.", "bros.", "d.c.", "u.s.a.", "bzw.", "u.ä.", "o.ä.", "etc.)", "и т.д.", "т.д.", "т.п.",
           "др.", "тыс.", "млн.", "млрд.", "г.", "гг.", "руб.", "usw", "cía.", "s.a.", "ag.", "gmbh.", "s.p.a."}
# Articles that make a following dotted acronym a complete noun phrase ("... in the U.S.").
DETERMINERS_BEFORE_ACRONYM = {"the", "der", "die", "das", "den", "dem", "des", "le", "la", "les", "l'",
                              "el", "los", "las", "il", "lo", "gli", "o", "a", "os", "as", "do", "da",
                              "dos", "das", "no", "na", "nos", "nas", "del", "al", "au", "aux", "du"}

# Words that cannot end a sentence: articles, prepositions, conjunctions, possessives.
FUNCTION_WORDS = {
    "en": "a an the of to in on at by for from with into onto about than as and or but nor that which "
          "whose his her its their our my your this these those is are was were be been has have had "
          "will would can could should may might must very more most also if because while although "
          "when where who whom whether such some any every each no not between among during after "
          "before under over through against without within via per including like",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber dass weil wenn als wie "
          "von zu zum zur mit für auf an in im am aus bei nach über unter vor durch gegen ohne um sein "
          "seine ihr ihre ist sind war waren wird werden hat haben dieser diese dieses sich nicht auch ab bis "
          "seit beim vom ins zwischen während wegen trotz laut gegenüber sowie",
    "fr": "le la les l' un une des du de d' et ou mais que qui dont à au aux en dans sur sous par pour "
          "avec sans entre vers chez son sa ses leur leurs ce cette ces est sont a ont été se ne plus",
    "es": "el la los las un una unos unas de del al y o pero que quien cuyo a en con por para sin sobre "
          "entre hacia desde hasta su sus este esta estos estas es son fue ha han se no más muy como",
    "it": "il lo la i gli le un uno una di del della dei degli delle al allo alla ai agli alle e o ma che "
          "chi a in con per su tra fra da dal dalla nel nella suo sua suoi sue questo questa è sono ha "
          "hanno si non più come",
    "pt": "o a os as um uma uns umas de do da dos das ao à aos às e ou mas que quem em no na nos nas com "
          "por para pelo pela sem sobre entre seu sua seus suas este esta isso é são foi tem se não mais "
          "como",
    "ru": "и в во на с со к ко по за из от до о об при для без через под над между а но или что чтобы "
          "как который которая которые его ее её их этот эта это эти не также же ли бы",
    "ar": "في من إلى على عن مع و أو لكن أن إن التي الذي الذين هذا هذه ذلك تلك كان كانت قد لم لن ما ثم بين "
          "عند حتى منذ خلال بعد قبل حول ضد",
    "nl": "de het een van en of maar dat die in op aan met voor door naar bij uit over onder tussen zijn "
          "haar hun is was",
}
FUNCTION_WORDS = {k: set(v.split()) for k, v in FUNCTION_WORDS.items()}
_CJK_DANGLING = set("的了和与及或在从向对把被将为以及之而且但是就也都很")   # zh particles/conjunctions

_TRAILING_CONT = re.compile(r"[,;:\-–—/&+(\[{«„“‘]$|\b(?:and|or|y|e|et|und|и)$")
_WORD_RE = re.compile(r"[\w'’\.\-]+", re.UNICODE)
_DOTTED_ACRONYM = re.compile(r"^(?:\w{1,3}\.){2,}$|^\w\.$")


class ParagraphFilter:
    """Base: subclasses implement ``judge`` and return ``(sentence_index|None, rule, detail)``."""
    reason = "filter"

    def __init__(self):
        self.counts: Counter = Counter()

    def judge(self, doc: Document, p: Paragraph) -> list[tuple[int | None, str, dict]]:
        raise NotImplementedError

    def apply(self, docs: list[Document]) -> list[Document]:
        for d in docs:
            if d.reason is not None:
                continue
            for p in d.paragraphs:
                if p.reason is not None:
                    continue
                for idx, rule, detail in self.judge(d, p):
                    detail = json.dumps({"rule": rule, **detail}, sort_keys=True, ensure_ascii=False)
                    if idx is None:
                        p.reason, p.detail = self.reason, detail
                    else:
                        s = p.sentences[idx]
                        if s.reason is not None:
                            continue
                        s.reason, s.detail = self.reason, detail
                    self.counts[f"filter-{self.reason}-{rule}"] += 1
        return docs


def _strip_closers(text: str) -> str:
    return text.rstrip().rstrip(CLOSERS).rstrip()


def _unbalanced(text: str) -> bool:
    """An opening bracket or quote that the sentence never closes: "(11:59 p.m."."""
    if text.count("(") > text.count(")") or text.count("[") > text.count("]"):
        return True
    if text.count("«") > text.count("»"):
        return True
    if "„" in text:                                  # German „...“
        return text.count("„") > text.count("“")
    return text.count("“") > text.count("”")


class TruncatedFilter(ParagraphFilter):
    """The last sentence of a paragraph, when it stops before its end."""
    reason = "truncated"

    def __init__(self, cfg: TruncatedConfig):
        super().__init__()
        self.cfg = cfg

    def judge(self, doc, p):
        if not p.sentences:
            return []
        idx = len(p.sentences) - 1
        s = p.sentences[idx]
        if s.reason is not None:
            return []
        text = p.text[s.start:s.end].strip()
        rule = self._rule(text, doc.lang, p, multi=len(p.sentences) > 1)
        if rule is None:
            return []
        return [(idx if len(p.sentences) > 1 else None, rule, {})]

    def _rule(self, text: str, lang: str, p: Paragraph, multi: bool) -> str | None:
        cfg = self.cfg
        if not text:
            return None
        is_list_item = bool(_BULLET_RE.match(p.text))
        core = _strip_closers(text)
        if not core:
            return None
        words = core.split()
        last = words[-1].lower() if words else ""
        cjk = lang in _CJK_LANGS
        if core[-1] in TERMINAL:
            if cfg.check_unbalanced and _unbalanced(text) and core[-1] == ".":
                return "unbalanced"
            if cfg.check_abbreviation_end and core.endswith(".") and not is_list_item:
                if self._abbreviation_cut(words, lang):
                    return "abbreviation_end"
            return None
        if core[-1] in ":":
            return None          # introduces a list or a quote
        if is_list_item:
            return None
        if _TRAILING_CONT.search(core):
            return "dangling_punctuation"
        if cfg.check_function_word_end:
            fw = FUNCTION_WORDS.get(lang)
            if fw and last.strip("'’\"") in fw and len(words) >= 3:
                return "function_word_end"
            if cjk and core[-1] in _CJK_DANGLING and len(core) > 12:
                return "function_word_end"
        if multi:
            return "no_end_punctuation"
        n = len(core) / 2.2 if cjk else len(words)
        if n > cfg.headline_max_words:
            return "no_end_punctuation_long"
        return None

    @staticmethod
    def _abbreviation_cut(words: list[str], lang: str) -> bool:
        last = words[-1].lower()
        if last in MAY_END or len(words) < 2:
            return False
        if last in NEEDS_CONTINUATION.get(lang, ()):
            return True
        bare = last.strip("'’\"“”(")
        if _DOTTED_ACRONYM.match(bare) and bare not in MAY_END and any(c.isupper() for c in words[-1]):
            prev = words[-2].lower().strip(",;:\"'“”")
            if prev in DETERMINERS_BEFORE_ACRONYM:
                return False
            return True
        return False


# Bylines and credits: agency names, "By Name", a bullet followed by just a name.
_AGENCIES = r"(?:AFP|AP|APA|dpa|DPA|EFE|ANSA|Lusa|Reuters|Bloomberg|Xinhua|TASS|ТАСС|Интерфакс|РИА Новости|Europa Press|KNA|epd|SDA|Adnkronos|AGI|Agência Brasil|Kyodo|Yonhap|UPI|PA|IANS|PTI|WAM|SPA|واس|أ ف ب|رويترز)"
_NAME = r"[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’\-]+"
BYLINE_PATTERNS = [
    ("bullet_name", re.compile(rf"^[•·*▪‣◦●]\s*{_NAME}(?:\s+{_NAME}){{1,3}}$")),
    ("by_name", re.compile(
        rf"^(?:By|Von|Por|Par|Di|Door|Av|Af|Автор|От|Reporting by|Writing by|Text|Texto|Written by|Redacción|Mit Material von|Com informações d[aeo]s?|Con información de|Avec)\s*:?\s+"
        rf"(?:{_NAME}|{_AGENCIES})(?:[\s,;]+[\w'’\-.&]+){{0,10}}$")),
    ("by_name_ar", re.compile(r"^(?:بقلم|كتب|كتبت|إعداد)\s*:?\s+\S+(?:\s+\S+){0,4}$")),
    ("agency", re.compile(rf"^[(\[]?{_AGENCIES}(?:\s*[/,]\s*{_AGENCIES})*[)\]]?\.?$")),
    ("source_credit", re.compile(
        rf"^(?:Quelle|Fonte|Fuente|Source|Sources|Источник|Источники|المصدر|Foto|Photo|Fotos|Bild)\s*:\s*(?:{_AGENCIES}|{_NAME}|\S+)(?:[\s,/]+[\w.’'\-]+){{0,6}}\.?$")),
    ("with_agency", re.compile(rf"^(?:Com|Con|Mit|Avec|With)\s+(?:(?:informações|información|Material|information)\s+(?:d[aeo]s?|von|from)\s+)?{_AGENCIES}\.?$")),
    ("copyright", re.compile(r"^(?:Copyright|©|\(c\))\s*.{0,80}?(?:All rights reserved|Alle Rechte vorbehalten|Todos los derechos reservados|Tous droits réservés|Все права защищены)?\.?$", re.I)),
]


class BylineFilter(ParagraphFilter):
    """A short paragraph that only credits an author, an agency or a copyright holder."""
    reason = "byline"

    def __init__(self, cfg: BylineConfig):
        super().__init__()
        self.cfg = cfg

    def judge(self, doc, p):
        text = p.text.strip()
        if "\n" in text or len(text.split()) > self.cfg.max_words:
            return []
        for rule, rx in BYLINE_PATTERNS:
            if rx.match(text):
                return [(None, rule, {})]
        return []


def build_filters(cfg: FiltersConfig) -> list[ParagraphFilter]:
    out: list[ParagraphFilter] = []
    if cfg.byline.enabled:
        out.append(BylineFilter(cfg.byline))
    if cfg.truncated.enabled:
        out.append(TruncatedFilter(cfg.truncated))
    return out
