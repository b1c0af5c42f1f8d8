"""Sentence boundaries in a run of text, in any language.

A boundary only ever follows end punctuation: ``. ! ? …`` and the full stops of other scripts,
then whitespace, or a CJK full stop (``。！？``), which needs none. Whether a full stop ends a
sentence is decided from the word before it and the word after it, by the rules in
``_full_stop``; every other mark ends one unless the sentence plainly goes on. Inside a run of
lines a line break is whitespace; which line breaks end a sentence is decided in ``lines.py``
(all but those after hard-wrapped lines).

Abbreviations come from sentencex's per-language lists (``abbreviations/``, MIT).
"""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain
from importlib import resources
from typing import Callable

from .lines import blocks
from .punctuation import CLOSERS, FULLWIDTH_STOPS, OPENERS, STOPS as _STOPS

_CLOSE = re.escape(CLOSERS)

# Marks that end sentences in one language only: the Greek question mark, the Armenian full stop
# typed as a colon.
EXTRA_STOPS = {"el": ";", "hy": ":"}


_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_RANGES}]")
_CJK_TAIL = re.compile(f"[{_CJK_RANGES}][^{_CJK_RANGES}]*\\Z")
_FULLWIDTH = re.compile(f"[{FULLWIDTH_STOPS}]")
_DIGIT = re.compile(r"\d")
_WORD_CHAR = re.compile(r"\w")
_SHORT_CAPITAL = re.compile(r"[^\W\d_]{1,3}\.(?!\w)")     # "И.", "UU." (checked to start in upper case)


@lru_cache(maxsize=None)
def _candidates(lang: str) -> tuple[re.Pattern, re.Pattern]:
    """Runs of end punctuation and closing quotes or brackets (one character class: the search
    is the splitter's largest cost), and the pattern that parts such a run into its end
    punctuation and what closes after it."""
    stops = re.escape(_STOPS + EXTRA_STOPS.get(lang, "") + FULLWIDTH_STOPS)
    return (re.compile(rf"[{stops}][{stops}{_CLOSE}]*"), re.compile(rf"([{stops}]+)([{_CLOSE}]*)\Z"))


_REFERENCES = re.compile(r"(?:\[\d{1,3}\])+")       # footnote marks after a stop: ".[7][8]"
_TOKEN_WINDOW = 64      # how far back a token is looked for: a longer one is no word

_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"[^\s.,;:!?…]+")
_ROMAN = re.compile(r"[IVXLC]+")
# Characters that may open a sentence besides letters, digits and opening quotes: dashes of
# dialogue, bullets.
BULLETS = "•⁃◦▪·*-–—"
_OPENING_MARKS = set(OPENERS) | set(BULLETS) | set("#@…")
_DASHES = "—–-"
# Short dotted tokens are initialisms or abbreviations ("U.S", "z.B", "Ph.D", "EE.UU"); longer
# ones are names of hosts or files ("example.com", "index.html").
_INITIALISM = re.compile(r"(?:\w{1,3}\.)+\w{1,3}")
# Brand names with an exclamation mark inside a sentence.
EXCLAIMED_NAMES = frozenset("yahoo jeopardy yum".split())
# Abbreviations of "number" in every language: never the end of a sentence before a number.
NUMBER_SIGNS = frozenset("n n° nº no nr №".split())
_OPENER_OF = {"”": "“", "’": "‘", "」": "「", "』": "『", "）": "（", ")": "(", "》": "《", "]": "[", "】": "【", "〉": "〈"}

# Languages that write ordinal numbers with a full stop ("am 14. Juni", "27. Große Strafkammer").
ORDINAL_DOT = frozenset("de da no nb nn fi is et lv cs sk sl hr sr bs hu tr pl eu fo".split())

# Abbreviations that can end a sentence: after them a capitalised word starts a new one. Those of
# years ("1916 г.", "1919 гг.") only after a number: "г. Москва" is a city.
ENDING = frozenset("etc usw usf ecc inc ltd co corp jr sr bros a.m p.m min вв др пр э d.c a.c p.e.v a.e.v "
                   "a.d b.c".split())
ENDING_AFTER_NUMBER = {"ru": frozenset("г гг".split())}
# Titles: never the end of a sentence, whatever follows.
TITLES = frozenset("mr mrs ms dr prof st sig sr sra dott ing gen col lt sgt rev hon hr fr frau mme mlle mgr "
                   "e.g i.e z.b d.h u.a bzw vgl cf p.s ps".split())

# Capitalised words that start sentences: after an initialism ("in the U.S. The"), a capital
# initial ("Thutmosis III. Die") or an ordinal ("auf 14. Die"), such a word says a new sentence
# starts; any other capitalised word is more likely a name ("U.S. Army", "George W. Bush",
# "am 14. Juni").
STARTERS = {
    "en": "a an the this that these those it its he she we they i you there here his her their our my "
          "in on at for but and so if when while after before as what who how why where some many most all "
          "one no not however meanwhile then yet still also both each every",
    "de": "der die das den dem des ein eine einer er sie es wir ich ihr man in im am auf nach bei mit von vor "
          "seit als wenn doch aber und auch dies diese dieser dieses damit dann da so zu zum zur nun noch "
          "schon bereits heute jetzt seine sein ihre dort hier damals später danach deshalb daher trotzdem "
          "zudem außerdem dabei jedoch allerdings",
    "fr": "le la les l un une des il elle ils elles on nous vous je ce cette ces en dans au aux à pour mais "
          "et si quand alors puis depuis selon son sa ses leur",
    "es": "el la los las un una unos unas él ella ellos nosotros yo en con por para pero y si cuando este "
          "esta estos estas ese esa su sus desde según no",
    "it": "il lo la i gli le un una uno egli ella lui lei loro noi io in con per ma e se quando questo "
          "questa questi queste nel nella dal dalla suo sua secondo non",
    "pt": "o a os as um uma ele ela eles elas nós eu em no na com por para mas e se quando este esta estes "
          "estas esse essa seu sua segundo não",
    "nl": "de het een hij zij ze wij we ik in op met voor maar en als toen dit deze dat die er zijn haar",
    "da": "den det de der en et jeg du han hun vi i hvad hvor hvem hvis men og så da når efter som",
    "sv": "den det de där en ett jag du han hon vi ni vad var vem om men och så när efter som",
    "no": "den det de der en et jeg du han hun vi dere hva hvor hvem hvis men og så da når etter som",
    "ru": "в на с по и а но он она они мы я это этот эта эти так после когда если его ее её их при для "
          "однако также то",
}


@lru_cache(maxsize=None)
def _starters(lang: str) -> frozenset[str]:
    return frozenset(STARTERS.get(lang, "").split())


@lru_cache(maxsize=None)
def abbreviations(lang: str) -> frozenset[str]:
    """The language's abbreviations (lower case, no final dot); English's where it has none."""
    folder = resources.files(__package__) / "abbreviations"
    for name in (lang, "en"):
        path = folder / f"{name}.txt"
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            return frozenset(w for w in lines if w and not w.startswith("#"))
    return frozenset()


def _next_word(text: str, pos: int) -> str:
    m = _WORD.match(text, pos)
    return m.group().strip(OPENERS).lower() if m else ""


def _first_letter(text: str, pos: int) -> str:
    """The first letter or digit at most 4 characters after ``pos`` ('"¿Qué', '— деді')."""
    for ch in text[pos:pos + 4]:
        if ch.isalnum():
            return ch
    return ""


def _is_capitalised(word: str) -> bool:
    word = word.lstrip(OPENERS)
    return bool(word) and word[0].isupper()


class _Splitter:
    """One text's candidates, in order, with what the rules need to remember: where the current
    sentence started and the list number or letter that opened it."""

    def __init__(self, text: str, lang: str):
        self.text, self.lang = text, lang
        self.abbrevs = abbreviations(lang)
        self.starters = _starters(lang)
        self.ordinal_dot = lang in ORDINAL_DOT
        self.start = 0              # where the current sentence starts
        self.marker = None          # the list number or letter that opened the current sentence

    def boundaries(self, first: re.Match) -> list[int]:
        """The boundaries from candidate ``first`` on."""
        text, n, out = self.text, len(self.text), []
        runs, parts = _candidates(self.lang)
        abbrevs = self.abbrevs
        for m in chain((first,), runs.finditer(text, first.end())):
            end = m.end()
            if end >= n:
                break
            run = m.group()
            after = text[end]
            if run == "." and after == " " and end + 1 < n and text[end + 1].isupper():
                # the common case, a plain word and a capital ("was. The"): what _full_stop
                # decides for it, sooner
                word = text[text.rfind(" ", max(0, end - 1 - _TOKEN_WINDOW), end) + 1:end - 1]
                if len(word) > 1 and word.isalpha() and word.islower() and word not in abbrevs:
                    out.append(end + 1)
                    self.start = end + 1
                    continue
            fullwidth = not run.isascii() and _FULLWIDTH.search(run)
            if not (fullwidth or after.isspace() or after == "[" or _CJK.match(after)):
                continue                    # inside a token: "3.5", "news.asp?id=9", "e.g"
            nxt = _SPACE.match(text, end).end()
            if nxt >= n:
                break
            if len(run) == 1:
                term, close, stop = run, "", m.start()
            else:
                parted = parts.search(run)
                if parted is None:
                    continue                # (a run that ends in a stray bracket)
                term, close = parted.groups()
                stop = m.start() + parted.start()
            if fullwidth and _FULLWIDTH.search(term):
                at = self._cjk_stop(stop, end, close, nxt)
            elif nxt == end and text[end] != "[":
                lo = max(0, stop - _TOKEN_WINDOW)
                word = text[max(text.rfind(" ", lo, stop), lo - 1) + 1:stop]
                # "...from the war.那么，这其间": a Latin sentence ends where CJK text starts; an
                # initialism, an abbreviation or CJK text does not ("B.C.的警方", "Jr.）的", "信貸...雖然")
                tail = word[-2:]
                at = end if (term in ".!?" and not close and len(word) > 1 and tail.isalpha() and tail.isascii()
                             and "." not in word and word.lower() not in abbrevs) else None
            elif nxt == end:
                refs = _REFERENCES.match(text, end)
                if refs is None or not text[refs.end():refs.end() + 1].isspace():
                    continue                # no space after: "3.5", "news.asp?id=9", "e.g"
                nxt = _SPACE.match(text, refs.end()).end()      # "martyr.[1] The emperor"
                if nxt < n and text[nxt].isupper():
                    at = nxt
                else:
                    continue
            else:
                lo = max(0, stop - _TOKEN_WINDOW)
                tok_start = max(text.rfind(" ", lo, stop), text.rfind("\n", lo, stop), lo - 1) + 1
                if not text[tok_start:stop].isascii():
                    cjk = _CJK_TAIL.search(text, tok_start, stop)
                    if cjk is not None:
                        tok_start = cjk.start() + 1     # "聖羅斯季斯拉夫(St. Rastislav)": the word is "(St"
                at = self._decide(text[tok_start:stop], tok_start, term, close, nxt, text[nxt])
            if at is not None and at > self.start:
                out.append(at)
                self.start = at
        return out

    def _cjk_stop(self, start: int, end: int, close: str, nxt: int) -> int | None:
        text = self.text
        if text[start] == "．" and nxt == end and text[nxt].isdigit():
            return None                     # a full-width decimal point: "３．２９％"
        if text.rfind("《", self.start, start) > text.rfind("》", self.start, start):
            return None                     # inside a title: "《摔跤吧！爸爸》"
        if close:
            quote = close[0]
            opener = _OPENER_OF.get(quote)
            before = text[self.start:start]
            if opener is None or quote in "“‘":
                closes = quote == '"' and before.count('"') % 2 == 1
            else:
                closes = before.count(opener) > before.count(quote)
            if not closes:
                return end - len(close)     # the quotation mark opens the next sentence: "。“所以"
            if nxt == end and text[nxt] not in OPENERS:
                return None                 # "「……。」と言った": a quotation inside a sentence
        return nxt

    def _decide(self, tok: str, tok_start: int, term: str, close: str, nxt: int, c: str) -> int | None:
        """Where the sentence after token ``tok``, its end punctuation ``term`` and closing marks
        ``close`` starts (``nxt``), or None when the sentence goes on."""
        text = self.text
        if not (c.isalnum() or c in _OPENING_MARKS or text.startswith("...", nxt)):
            return None                     # "41,76 hab. / km²", "Nr. 5, ..."
        lower = c.islower() or (not c.isalnum() and _first_letter(text, nxt).islower())
        if c in _DASHES and lower:
            return None                     # dialogue: "Бірақ оның енді не керегі бар? — деді."
        if term != ".":
            if term.strip(".") == "" or term == "…":
                if tok and tok[0] in "[(" and close and close[0] in "])":
                    return None             # an elision: "[...]"
                return None if lower or c.isdigit() else nxt
            if close and lower:
                return None                 # '"Are you sure?" she asked'
            if term == "!" and tok.lower().strip(OPENERS) in EXCLAIMED_NAMES:
                return None                 # "She works at Yahoo! in the accounting department."
            return nxt
        word = tok.lstrip(OPENERS + BULLETS)
        word_start = tok_start + len(tok) - len(word)
        marker = self._list_marker(word, word_start)
        if marker is not None:
            return marker if marker > self.start else None
        if close:
            return None if lower else nxt   # "(Laughter.) This", '"Go." He'
        return self._full_stop(word, word_start, nxt, c, lower)

    def _list_marker(self, word: str, word_start: int) -> int | None:
        """List numbering ("1. The first item 2. The second item", "• a. ... • b. ..."): a number
        or a letter with a full stop at a sentence start is a list marker, not a sentence; the
        next number or letter in sequence starts the next item, bullet included. Returns where the
        item starts, -1 for a marker that opens the current sentence, None for no list marker."""
        if not word or len(word) > 3 or not (word.isdigit() or (len(word) == 1 and word.isalpha())):
            return None
        value = int(word) if word.isdigit() else ord(word.lower())
        text, start = self.text, word_start
        while start > self.start and (text[start - 1].isspace() or text[start - 1] in BULLETS):
            start -= 1
        if start == self.start:
            self.marker = value
            return -1
        if self.marker is not None and value == self.marker + 1:
            self.marker = value
            while start < word_start and text[start].isspace():
                start += 1
            return start
        return None

    def _full_stop(self, word: str, word_start: int, nxt: int, c: str, lower: bool) -> int | None:
        """A full stop after ``word`` with whitespace and ``c`` after it."""
        if not word or not _WORD_CHAR.search(word):
            return None if lower else nxt   # " . . . This", "« très raisonnable ». Guitariste"
        if lower:
            return self._before_lower(word, nxt)
        upper = not c.isdigit()
        low = word.lower()
        if not word.isdigit() and _SHORT_CAPITAL.match(self.text, nxt) and len(word) <= 3 and word[0].isupper():
            return None                     # a run of initials or abbreviations: "А. И. Семенов", "EE. UU."
        if c.isdigit() and low in NUMBER_SIGNS:
            return None                     # "N. 1 nel mondo", "No. 5"
        if word.isdigit():
            if self.ordinal_dot and len(word) <= 3 and _next_word(self.text, nxt) not in self.starters:
                return None                 # "am 14. Juni", "die 27. Große Strafkammer"
            return nxt
        if _DIGIT.search(word) or "/" in word or "@" in word:
            return nxt                      # "$100.00.", "1026.253.553.", a URL, an e-mail
        if c.isdigit() and len(word) == 1:
            return None                     # a page or a number: "auf S. 225", "p. 5"
        if low in ENDING_AFTER_NUMBER.get(self.lang, ()):
            before = self._word_before(word_start)
            return nxt if upper and before[-1:].isdigit() else None    # "в 1916 г. Самым"
        if len(word) == 1 or _ROMAN.fullmatch(word):
            if word.islower():
                return nxt if upper and low in ENDING else None         # "т. е.", "z. B.", "н. э. В"
            if upper and _next_word(self.text, nxt) not in self.starters:
                before = self._word_before(word_start)
                if not self.starters or _is_capitalised(before) or len(before.rstrip(".")) == 1:
                    return None             # an initial: "George W. Bush", "J. R. R. Tolkien"
            return nxt
        if "." in word:
            if not _INITIALISM.fullmatch(word):
                return nxt                  # "example.com. Please"
            if low in ENDING:
                return nxt if upper and c != "(" else None      # "at 10 a.m. (CDT)" goes on
            if low in TITLES:
                return None                 # "e.g.", "z.B."
            return nxt if _next_word(self.text, nxt) in self.starters else None   # "the U.S. The"
        if word.isupper() and len(word) > 1:
            return nxt                      # an acronym: "radio e TV. Teoricamente"
        if low in self.abbrevs or low in NUMBER_SIGNS:
            if low in ENDING:
                return None if c == "(" else nxt   # "Example Inc. (“Company A”)" goes on
            if low not in TITLES and _next_word(self.text, nxt) in self.starters:
                return nxt                  # "si legge sul post. La polizia"
            return None
        return nxt

    def _before_lower(self, word: str, nxt: int) -> int | None:
        """A full stop before a word in lower case ends a sentence after a plain word: informal
        text starts sentences in lower case ("you are retarded. why do you think"). After an
        abbreviation, an initial, a number or a dotted token it does not ("т. е. пример")."""
        low = word.lower()
        if len(word) == 1 or "." in word or word.isdigit() or low in self.abbrevs or low in NUMBER_SIGNS:
            return None
        return nxt

    def _word_before(self, pos: int) -> str:
        """The word that ends before the whitespace before ``pos``."""
        text = self.text
        end = pos - 1
        while end > 0 and text[end - 1].isspace():
            end -= 1
        start = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end)) + 1
        return text[start:end]


# "1) The first item 2) The second item": a text that opens with a number and a parenthesis is a
# list; each next number in sequence starts an item.
_PAREN_ITEM = re.compile(r"(?<!\s)\s*+(\d{1,2}|[a-z])\)\s")
_PAREN_ITEMS = re.compile(r"(?<=\s)(\d{1,2}|[a-z])\)\s")


def _item_value(label: str) -> int:
    return int(label) if label.isdigit() else ord(label)


def _paren_items(text: str) -> list[int]:
    value, out = _item_value(_PAREN_ITEM.match(text).group(1)), []
    for m in _PAREN_ITEMS.finditer(text):
        if _item_value(m.group(1)) == value + 1:
            out.append(m.start())
            value += 1
    return out


def boundaries(text: str, lang: str) -> list[int]:
    """Offsets where a sentence starts in ``text``, the first one (0) left out."""
    if _PAREN_ITEM.match(text):
        return _paren_items(text)
    first = _candidates(lang)[0].search(text)
    if first is None or _SPACE.match(text, first.end()).end() >= len(text):
        return []                           # most paragraphs: one sentence
    return _Splitter(text, lang).boundaries(first)


def sentence_starts(text: str, lang: str, join_wrapped: bool = True,
                    split: Callable[[str, str], list[int]] = boundaries) -> list[int]:
    """Offsets where a sentence starts in the paragraph ``text``, 0 left out: at every line
    break but those after hard-wrapped lines (``lines.wrapped``), and where ``split`` finds one
    inside a run of lines."""
    if "\n" not in text:
        return split(text, lang)
    starts = []
    for a, b in blocks(text, join_wrapped):
        if a:
            starts.append(a)
        starts.extend(a + k for k in split(text[a:b], lang) if k)
    return starts


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of one paragraph, in order, without the whitespace between them: what the
    segment step makes of it with its default options.

    ``lang`` is an ISO 639-1 code ("en", "de", "zh", ...); a language without its own rules gets
    the general ones. A line break ends a sentence unless the line was hard-wrapped ("It was a
    cold" / "night in the city.").
    """
    cuts = [0, *sentence_starts(text, lang), len(text)]
    return [s for a, b in zip(cuts, cuts[1:]) if (s := text[a:b].strip())]
