"""The ``byline`` filter: a short paragraph that only credits an author, an agency, a photographer,
a source or a copyright holder, or only dates the article ("By Jane Doe", "(AFP)", "Foto: dpa",
"Top photo by Jane Doe", "本报记者 王燕平", "© 2024 ...", "04.04.2020"); also a table row of such
credits ("| 编辑： 吕峥 | 来源： 千龙网 |") and a bulleted one ("- Autor: ...")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...registry import FILTERS, option, reason
from ...text.substrings import any_of
from .base import Filter, check_rules_off, rules_off_option

BYLINE = reason("byline", "filters", "credit line: author, agency, photo, source or copyright; a lone dateline")


@dataclass(frozen=True)
class BylineConfig:
    enabled: bool = option(True)
    max_words: int = option(12, lo=1, doc="bylines longer than this (or than 15 characters a word) are not considered")
    rules_off: tuple[str, ...] = rules_off_option()

    def check(self, prefix: str) -> None:
        check_rules_off(self.rules_off, RULES, prefix)


# Bylines and credits: agency names, "By Name", a bullet followed by just a name.
_AGENCIES = r"(?:AFP|AP|APA|dpa|DPA|EFE|ANSA|Lusa|Reuters|Bloomberg|Xinhua|TASS|ТАСС|Интерфакс|РИА Новости|Europa Press|KNA|epd|SDA|Adnkronos|AGI|Agência Brasil|Kyodo|PAP|ANP|Belga|AAP|MTI|ČTK|Notimex|Télam|Yonhap|UPI|PA|IANS|PTI|WAM|SPA|واس|أ ف ب|رويترز)"
_NAME = r"[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’\-]+"
_MONTH = (r"(?:Jan(?:uary|uar|vier)?|Feb(?:ruary|ruar)?|février|Mar(?:ch)?|März|mars|Apr(?:il)?|avril|May|Mai|"
          r"June?|Juni|juin|July?|Juli|juillet|Aug(?:ust)?|août|Sep(?:t|tember)?|septembre|Oct(?:ober)?|Okt(?:ober)?|"
          r"octobre|Nov(?:ember)?|novembre|Dec(?:ember)?|Dez(?:ember)?|décembre|enero|febrero|marzo|abril|mayo|junio|"
          r"julio|agosto|septiembre|octubre|noviembre|diciembre|janeiro|fevereiro|março|maio|junho|julho|setembro|"
          r"outubro|novembro|dezembro|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
          r"stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|grudnia|"
          r"januari|februari|maart|mei|juni|juli|augustus|oktober|Ocak|Şubat|Mart|Nisan|Mayıs|Haziran|Temmuz|"
          r"Ağustos|Eylül|Ekim|Kasım|Aralık)\.?")
_WEEKDAY = (r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?|"
            r"Mo|Di|Mi|Do|Fr|Sa|So|Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|lundi|mardi|mercredi|"
            r"jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|Pazartesi|Salı|"
            r"Çarşamba|Perşembe|Cuma|Cumartesi|Pazar)\.?")
_DATE = (rf"(?:\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{4}}[./-]\d{{1,2}}[./-]\d{{1,2}}|"
         rf"\d{{1,2}}\.?\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})")
_TIME = r"\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s*(?:Uhr|h|am|pm|a\.m\.|p\.m\.))?"
_DATE_LABEL = (r"(?:Published|Posted|Updated|Last updated|Stand|Aktualisiert|Veröffentlicht|Erstellt|Mis à jour|Publié|"
               r"Actualizado|Publicado|Atualizado|Aggiornato|Pubblicato|Opublikowano|Zaktualizowano|Data|Date|Datum)"
               r"(?:\s+(?:on|am|le|el|em|il|the))?")
BYLINE_PATTERNS = [
    ("bullet_name", re.compile(rf"^[•·*▪‣◦●]\s*{_NAME}(?:\s+{_NAME}){{1,3}}$")),
    ("by_name", re.compile(
        rf"^(?:By|Von|Por|Par|Di|Door|Av|Af|Автор|От|Reporting by|Writing by|Text|Texto|Written by|Redacción|Mit Material von|Com informações d[aeo]s?|Con información de|Avec)\s*:?\s+"
        rf"(?:{_NAME}|{_AGENCIES})(?:[\s,;]+[\w'’\-.&]+){{0,10}}$")),
    # lower case, then a name only: "von Daniela Obers", "por CyberCook" ("von Berlin aus ..." is a
    # piece of a sentence)
    ("by_name_lower", re.compile(rf"^(?:by|von|por|par|di|door)\s+{_NAME}(?:\s+{_NAME}){{0,3}}$")),
    ("by_name_ar", re.compile(r"^(?:بقلم|كتب|كتبت|إعداد)\s*:?\s+\S+(?:\s+\S+){0,4}$")),
    ("agency", re.compile(rf"^[(\[]?{_AGENCIES}(?:\s*[/,]\s*{_AGENCIES})*[)\]]?\.?$")),
    ("source_credit", re.compile(
        rf"^(?:Quelle|Fonte|Fuente|Source|Sources|Источник|Источники|المصدر|Foto|Photo|Fotos|Bild)\s*:\s*(?:{_AGENCIES}|{_NAME}|\S+)(?:[\s,/]+[\w.’'\-]+){{0,6}}\.?$")),
    ("with_agency", re.compile(
        rf"^[(\[]?(?:Com|Con|Mit|Avec|With)\s+(?:(?:informações|información|Material|information)\s+(?:d[aeo]s?|von|from)\s+)?"
        rf"{_AGENCIES}(?:(?:,\s*|\s+(?:y|e|and|und|et)\s+){_AGENCIES})*[)\]]?\.?$")),
    ("copyright", re.compile(r"^(?:Copyright|©|\(c\))\s*.{0,80}?(?:All rights reserved|Alle Rechte vorbehalten|Todos los derechos reservados|Tous droits réservés|Все права защищены)?\.?$", re.I)),
    # a label and the credited: "Autor: Fritz Imhof", "Źródło: PAP", "文章来源：千龙网", "Редактор:"
    ("labelled_credit", re.compile(
        r"^[(（【\[]?(?:Autor(?:/-?in)?|Autorin|Autoren|Autores|Autori|Author|Authors|Auteurs?|Redakteur(?:in)?|Redaktion|"
        r"Redacción|Redazione|Редактор|Автор|Автори|Źródło|Zdroj|Kaynak|Bildquelle|Bildnachweis|Fotonachweis|"
        r"Credits?|Photo credits?|Image credits?|Crédits? photos?|Illustration|Grafik|Kuva|来源|文章来源|出品|编辑|"
        r"责任编辑|本版编辑|作者|原标题|出典|写真|Fotos?|Photos?|Bild|Beitragsbild|Titelbild|Images?|Imagen|"
        r"Image illustrative|Źródło zdjęcia(?: głównego)?|Bron|Fuente|Fonte|Quelle|Sources?|حوار)\s*+[:：︱]\s*+(?:\S.{0,150})?$"
        r"|^Photo\s?Credit(?=\S)\S.{0,150}$")),     # "PhotoCreditTed + Chelsea Cavanaugh para The New York Times"
    # "（松花江网编辑 孙桂芳）", "本报记者 王燕平 方云凤", "新京报记者 彭冲 山东冠县报道"
    # (a colon, a space or brackets set the name apart: "视频编辑软件推荐" is a heading)
    ("editor_zh", re.compile(r"^(?:[(（【\[][\u4e00-\u9fff]{0,8}(?:编辑|责编)\s*+[:：]?\s*+[\u4e00-\u9fff·]{2,4}"
                             r"(?:\s++[\u4e00-\u9fff·]{2,4}){0,3}\s*+[)）】\]]"
                             r"|[\u4e00-\u9fff]{0,8}(?:编辑|责编)(?:\s*+[:：]\s*+|\s++)[\u4e00-\u9fff·]{2,4}"
                             r"(?:\s++[\u4e00-\u9fff·]{2,4}){0,3})$")),
    ("reporter_zh", re.compile(r"^\S{0,8}(?:记者|实习生|實習生|通讯员|通訊員)\s*+[\u4e00-\u9fff·]{2,4}"
                               r"(?:\s++[\u4e00-\u9fff·]{2,4}){0,5}(?:\s*+\S{0,10}报道)?$")),
    ("photo_by", re.compile(rf"^(?:(?:Top|Main|Lead|Header|Cover|Featured?)\s+)?(?:photos?|images?|pictures?|"
                            rf"illustrations?|photographs?|videos?)\s+(?:by|courtesy of|via)\s+(?-i:{_NAME}|{_AGENCIES}).{{0,80}}$", re.I)),
    ("agency_photo", re.compile(rf"^\(?{_AGENCIES}\s+(?:Photo|Foto|Images?)\s*/\s*[^()]{{1,60}}\)?\.?$")),
    ("originally_appeared", re.compile(
        r"^This (?:article|story|post|piece) (?:was )?(?:originally |first )?(?:appeared|published) (?:on|in) .{1,80}$")),
    # a date alone, perhaps labelled and timed: "04.04.2020", "2003-7-24 11:55", "19. November 2021",
    # "Published on Apr 13, 2020", "Stand: 28.04.2020 18:00 Uhr", "Mis à jour le 29/10/2012 à 14h03"
    ("date_line", re.compile(
        rf"^(?:{_DATE_LABEL}\s*:?\s+)?(?:{_WEEKDAY},?\s+)?{_DATE}"
        rf"(?:,?\s+(?:{_WEEKDAY},?\s+)?(?:at\s+|um\s+|à\s+|a las\s+|às\s+|-\s+)?{_TIME})?\.?$", re.I)),
    # an editor's initials and the agency: "erb/ots", "aja/PAP"
    ("agency_initials", re.compile(rf"^[a-zäöüß]{{2,4}}(?:/[a-zäöüß]{{2,4}})*/(?:{_AGENCIES}|ots|OTS|apa|kna|afp)$")),
    # who reported, where to reach them: "Heba Habib contributed to this report.", "Jemele Hill can
    # be reached at ...", "Ben Silverman is on Twitter at ben_silverman."
    ("contributor", re.compile(
        rf"^{_NAME}(?:\s+{_NAME}){{0,3}}(?:(?:,\s*|\s+and\s+){_NAME}(?:\s+{_NAME}){{0,3}})*\s+"
        r"(?:contributed(?: reporting)? to this (?:report|story|article)|can be reached at|is on Twitter at|"
        r"reported from)\b.{0,80}$")),
    # a date and a source: "2003-7-24 钱江晚报", "北京新浪網 (2020-01-21 11:12)"
    ("dated_source", re.compile(rf"^{_DATE}(?:\s+{_TIME})?\s+[^\s\d.,，。]{{2,12}}$"
                                rf"|^[^\s\d.,，。]{{2,12}}\s*[(（]{_DATE}(?:\s+{_TIME})?[)）]$")),
]

# A caption that ends on its credit may be longer than a byline (its own expression bounds it).
_CAPTION_CHARS = 320
_PHOTO = "Foto|Photo|Фото|Bild|Imagen|Image|Crédito"
_CAPTION_WORDS = re.compile(_PHOTO)

_RIGHTS_HINT = any_of("eserv", "ESERV", "iservat", "orbehalten", "zastrzeż", "защищен", "chroniony", "版权", "转载",
                      "無断", "Creative")
_STAFF_WORDS = re.compile("Staff|Senior|Contributing")
_BY_WORD = re.compile(" [bB]y ")
_RIGHTS = re.compile(
    r"All rights reserved|Alle Rechte vorbehalten|Todos los derechos reservados|Tous droits réservés|"
    r"Tutti i diritti riservati|Todos os direitos reservados|Wszelkie prawa zastrzeżone|Все права защищены|"
    r"Materiał chroniony prawem autorskim|版权所有|不得转载|無断転載|"
    # a licence notice of the page itself, not a text about the licences
    r"^This (?:website|site|work|article|post|page|content|blog|text|document)\b.{0,80}licen[sc]ed under (?:a|the) "
    r"Creative Commons", re.I)
# Rules that may run longer than ``max_words`` (their own expression bounds them).
_LONG_RULES = ("caption_credit", "rights")

# Rules whose expressions cost more, tried only when a word they need is in the paragraph (the
# first of each pair: a function of the text): "Tribune Staff Reporter", "Posted on 15 October
# 2019 by Bradley M. Kuhn".
GUARDED_PATTERNS = {
    # a caption that ends on its photo credit after a dash, a slash or a bracket: "... — Foto: Mayara
    # Subtil/G1", "... / Фото РБК" (after a full stop, "(von links). Foto: ...", the caption is content)
    "caption_credit": (_CAPTION_WORDS.search, re.compile(
        rf"^.{{0,240}}?\s[\-—–/|(][ \t]{{0,3}}(?:{_PHOTO})"
        r"(?:[ \t]{0,3}:[ \t]{0,3}|[ \t]{1,3})[^\s.:][^.:]{0,60}\)?$")),
    "staff_line": (_STAFF_WORDS.search, re.compile(
        rf"^(?:(?:By\s+)?{_NAME}(?:\s+{_NAME}){{0,3}}\s*[,|/–-]?\s*)?(?:[A-Z]\w+\s+)?"
        r"(?:Staff Reporter|Staff Writer|Senior (?:Reporter|Writer|Correspondent)|Contributing (?:Writer|Editor))\.?$")),
    # rights reserved, in a line of its own: "Materiał chroniony prawem autorskim - zasady przedruków
    # określa regulamin.", "未经授权，不得转载", "... licensed under a Creative Commons ... License"
    "rights": (_RIGHTS_HINT, re.compile(rf"^(?=[^\"“”„«»]{{0,300}}$).*?(?:{_RIGHTS.pattern})", re.I)),
    # a name and its address: "Bradley M. Kuhn <bkuhn@ebb.org>" (an address alone is as often a
    # line of contact details)
    "email": (re.compile("@").search, re.compile(rf"^{_NAME}(?:\s+[A-Z]\.|\s+{_NAME}){{1,3}}\s+<[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+>$")),
    "posted_by": (_BY_WORD.search, re.compile(r"^(?:(?:Posted|Published|Written|Submitted)(?:\s+on)?\s+)?(?:\w+,?\s+)?\d{1,2}\.?\s+\w+\s+\d{4}"
                             r"(?:\s+at\s+\d{1,2}:\d{2})?\s+by\s+\S.{0,40}$", re.I)),
}

# Any of the words of the three expressions above: most paragraphs have none, and one look tells.
_ANY_HINT = re.compile("|".join(rx.pattern for rx in (_CAPTION_WORDS, _STAFF_WORDS, _BY_WORD)))

RULES = (*(rule for rule, _ in BYLINE_PATTERNS), *GUARDED_PATTERNS, "table_credit")

# All of them in one expression, tried in the list's order (one call per paragraph, not seven).
_ANY_BYLINE = re.compile("|".join(
    f"(?P<{rule}>{'(?i:' + rx.pattern + ')' if rx.flags & re.I else rx.pattern})" for rule, rx in BYLINE_PATTERNS))


@FILTERS.add
class BylineFilter(Filter):
    """A short paragraph that only credits an author, an agency or a copyright holder."""
    name, order, reason, Config = "byline", 10, BYLINE, BylineConfig

    def judge(self, doc, p):
        text = p.text.strip()
        if "\n" in text:
            return []
        if len(text) > 15 * self.cfg.max_words and (
                len(text) > _CAPTION_CHARS or not _CAPTION_WORDS.search(text, len(text) - 80)):
            return []                       # a credit line is short (most paragraphs: no expression runs)
        if text[:1] == "|":
            return [(None, "table_credit", {})] if _credit_row(text, self.cfg.max_words) else []
        rule = _rule(text, self.cfg.max_words)
        if rule is None and text[:2] in _LIST_MARKS:
            # "- Autor: www.portalspozywczy.pl"; a list of dates is a list ("- April 2, 2024")
            rule = _rule(text[2:].lstrip(), self.cfg.max_words)
            rule = None if rule in ("date_line", "dated_source") else rule
        if rule == "by_name_lower" and _inside_a_sentence(doc, p):
            return []                       # "by Steven Spielberg" between two pieces of a wrapped sentence
        return [(None, rule, {})] if rule else []


_LIST_MARKS = ("- ", "– ", "• ", "· ", "* ")
_STOPS = ".!?…。！？:;\"'”’»)"


def _inside_a_sentence(doc, p) -> bool:
    """The paragraph before ends without a stop, or the next one starts in lower case."""
    before = doc.paragraphs[p.idx - 1].text.rstrip() if p.idx > 0 else "."
    after = doc.paragraphs[p.idx + 1].text if p.idx + 1 < len(doc.paragraphs) else ""
    return (before[-1:] not in _STOPS) or after[:1].islower()
_LEADING_DATE = re.compile(rf"^{_DATE}(?:\s+{_TIME})?\s*")


def _rule(text: str, max_words: int) -> str | None:
    """The first rule that calls ``text`` a credit line."""
    m = _ANY_BYLINE.match(text)             # the first pattern of the list that matches
    if m is not None:
        rule = m.lastgroup
    elif _ANY_HINT.search(text) or "@" in text or (len(text) >= 18 and _RIGHTS_HINT(text)):
        rule = next((r for r, (hint, rx) in GUARDED_PATTERNS.items() if hint(text) and rx.match(text)), None)
    else:
        return None
    if rule is None or (rule not in _LONG_RULES and len(text.split(None, max_words)) > max_words):
        return None
    return rule


def _credit_row(text: str, max_words: int) -> bool:
    """A table row of credits: "| 编辑： 吕峥 | 来源： 千龙网 |  |", "| 2004-12-10 11:55:08 来源: 网易商业报道 |  |
    发表评论 |". At least one cell is a credit line (after a date that may open it); the others are
    empty, dates, or short labels."""
    found = False
    for cell in text.strip("|").split("|"):
        cell = _LEADING_DATE.sub("", cell.strip())
        if not cell or cell == "\\" or len(cell) <= 4:
            continue
        if _rule(cell, max_words) is None:
            return False
        found = True
    return found
