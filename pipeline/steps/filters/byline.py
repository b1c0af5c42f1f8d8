"""The ``byline`` filter: a short paragraph that only credits an author, an agency or a copyright
holder ("By Jane Doe", "(AFP)", "Foto: dpa", "© 2024 ...")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...registry import FILTERS, option, reason
from .base import Filter

BYLINE = reason("byline", "filters", "author, agency or copyright credit line")


@dataclass(frozen=True)
class BylineConfig:
    enabled: bool = option(True)
    max_words: int = option(12, lo=1, doc="bylines longer than this are not considered")


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
        m = _ANY_BYLINE.match(text)         # the first pattern of the list that matches
        if m is None or len(text.split(None, self.cfg.max_words)) > self.cfg.max_words:
            return []
        return [(None, m.lastgroup, {})]
