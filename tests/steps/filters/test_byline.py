"""The byline filter on real credit lines and on sentences that only look like them."""
import pytest

from pipeline.steps.filters.byline import BylineConfig, BylineFilter
from tests.steps.filters.support import judge


@pytest.mark.parametrize("text", [
    "  • Julie Sanders", "By Peter Novak", "By Sofia Sanders, Reuters", "Von Maria Garcia",
    "Reporting by Anna Schmidt; Editing by Laura Dubois", "(AFP)", "(Reuters)", "Quelle: dpa",
    "Copyright AFP. All rights reserved.", "Com Lusa", "بقلم Julie Novak", "Fonte: Adnkronos",
    "Источник: Интерфакс", "Con información de Europa Press", "Por Maria Keller",
])
def test_bylines(text):
    assert [r for _, r in judge(text, "en", BylineFilter(BylineConfig()))] == ["byline"]


@pytest.mark.parametrize("text", [
    "• Washington slammed the use of force",
    "By the end of the year the council had approved three new schools in the district.",
    "With Obama in office, the economy grew.",
    "Source: the annual report of the central bank shows a surplus of three billion euros this year, more than expected by analysts.",
])
def test_not_bylines(text):
    assert judge(text, "en", BylineFilter(BylineConfig())) == []
