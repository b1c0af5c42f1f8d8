"""The ``byline`` filter: a short paragraph that only credits an author, an agency, a photographer,
a source or a copyright holder, or only dates the article ("By Jane Doe", "(AFP)", "Foto: dpa",
"Top photo by Jane Doe", "本报记者 王燕平", "© 2024 ...", "04.04.2020")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...registry import FILTERS, option, reason
from .base import Filter

BYLINE = reason("byline", "filters", "credit line: author, agency, photo, source or copyright; a lone dateline")


@dataclass(frozen=True)
class BylineConfig:
    enabled: bool = option(True)
    max_words: int = option(12, lo=1, doc="bylines longer than this (or than 15 characters a word) are not considered")


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
    ("by_name_ar", re.compile(r"^(?:بقلم|كتب|كتبت|إعداد)\s*:?\s+\S+(?:\s+\S+){0,4}$")),
    ("agency", re.compile(rf"^[(\[]?{_AGENCIES}(?:\s*[/,]\s*{_AGENCIES})*[)\]]?\.?$")),
    ("source_credit", re.compile(
        rf"^(?:Quelle|Fonte|Fuente|Source|Sources|Источник|Источники|المصدر|Foto|Photo|Fotos|Bild)\s*:\s*(?:{_AGENCIES}|{_NAME}|\S+)(?:[\s,/]+[\w.’'\-]+){{0,6}}\.?$")),
    ("with_agency", re.compile(rf"^(?:Com|Con|Mit|Avec|With)\s+(?:(?:informações|información|Material|information)\s+(?:d[aeo]s?|von|from)\s+)?{_AGENCIES}\.?$")),
    ("copyright", re.compile(r"^(?:Copyright|©|\(c\))\s*.{0,80}?(?:All rights reserved|Alle Rechte vorbehalten|Todos los derechos reservados|Tous droits réservés|Все права защищены)?\.?$", re.I)),
    # a label and the credited: "Autor: Fritz Imhof", "Źródło: PAP", "文章来源：千龙网", "Редактор:"
    ("labelled_credit", re.compile(
        r"^(?:Autor(?:/-?in)?|Autorin|Autoren|Autores|Autori|Author|Authors|Auteurs?|Redakteur(?:in)?|Redaktion|"
        r"Redacción|Redazione|Редактор|Автор|Автори|Źródło|Zdroj|Kaynak|Bildquelle|Bildnachweis|Fotonachweis|"
        r"Credits?|Photo credits?|Image credits?|Crédits? photos?|Illustration|Grafik|Kuva|来源|文章来源|出品|编辑|"
        r"责任编辑|作者|出典|写真)\s*+[:：︱]\s*+(?:\S.{0,150})?$")),
    # a Chinese reporter's line: "本报记者 王燕平 方云凤", "新京报记者 彭冲 山东冠县报道"
    ("reporter_zh", re.compile(r"^\S{0,8}(?:记者|实习生|實習生|通讯员|通訊員)\s*+[\u4e00-\u9fff·]{2,4}"
                               r"(?:\s++[\u4e00-\u9fff·]{2,4}){0,5}(?:\s*+\S{0,10}报道)?$")),
    ("photo_by", re.compile(rf"^(?:(?:Top|Main|Lead|Header|Cover|Featured?)\s+)?(?:photos?|images?|pictures?|"
                            rf"illustrations?|photographs?)\s+(?:by|courtesy of|via)\s+(?-i:{_NAME}|{_AGENCIES}).{{0,80}}$", re.I)),
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
]

# A caption that ends on its credit may be longer than a byline (its own expression bounds it).
_CAPTION_CHARS = 320
_PHOTO = "Foto|Photo|Фото|Bild|Imagen|Image|Crédito"
_CAPTION_WORDS = re.compile(_PHOTO)

# Rules whose expressions cost more, tried only when a word they need is in the paragraph:
# "Tribune Staff Reporter", "Posted on 15 October 2019 by Bradley M. Kuhn".
GUARDED_PATTERNS = {
    # a caption that ends on its photo credit after a dash, a slash or a bracket: "... — Foto: Mayara
    # Subtil/G1", "... / Фото РБК" (after a full stop, "(von links). Foto: ...", the caption is content)
    "caption_credit": (_CAPTION_WORDS, re.compile(
        rf"^.{{0,240}}?\s[\-—–/|(][ \t]{{0,3}}(?:{_PHOTO})"
        r"(?:[ \t]{0,3}:[ \t]{0,3}|[ \t]{1,3})[^\s.:][^.:]{0,60}\)?$")),
    "staff_line": (re.compile("Staff|Senior|Contributing"), re.compile(
        rf"^(?:(?:By\s+)?{_NAME}(?:\s+{_NAME}){{0,3}}\s*[,|/–-]?\s*)?(?:[A-Z]\w+\s+)?"
        r"(?:Staff Reporter|Staff Writer|Senior (?:Reporter|Writer|Correspondent)|Contributing (?:Writer|Editor))\.?$")),
    "posted_by": (re.compile(" [bB]y "), re.compile(r"^(?:(?:Posted|Published|Written|Submitted)(?:\s+on)?\s+)?(?:\w+,?\s+)?\d{1,2}\.?\s+\w+\s+\d{4}"
                             r"(?:\s+at\s+\d{1,2}:\d{2})?\s+by\s+\S.{0,40}$", re.I)),
}

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
        m = _ANY_BYLINE.match(text)         # the first pattern of the list that matches
        rule = m.lastgroup if m is not None else next(
            (r for r, (hint, rx) in GUARDED_PATTERNS.items() if hint.search(text) and rx.match(text)), None)
        if rule is None or (rule != "caption_credit"
                            and len(text.split(None, self.cfg.max_words)) > self.cfg.max_words):
            return []
        return [(None, rule, {})]
