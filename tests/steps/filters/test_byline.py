"""The byline filter on real credit lines and on sentences that only look like them."""
import pytest

from pipeline.steps.filters.byline import BylineConfig, BylineFilter
from tests.steps.filters.support import judge


@pytest.mark.parametrize("text", [
    "  • Julie Sanders", "By Peter Novak", "By Sofia Sanders, Reuters", "Von Maria Garcia",
    "Reporting by Anna Schmidt; Editing by Laura Dubois", "(AFP)", "(Reuters)", "Quelle: dpa",
    "Copyright AFP. All rights reserved.", "Com Lusa", "بقلم Julie Novak", "Fonte: Adnkronos",
    "Источник: Интерфакс", "Con información de Europa Press", "Por Maria Keller",
    # credit lines of hand-labelled real pages
    "Autor: Fritz Imhof", "Źródło: PAP", "文章来源：千龙网", "本报记者 王燕平 方云凤 柏建斌", "新京报记者 彭冲 山东冠县报道",
    "Top photo by Jane Doe", "(AP Photo/Evan Vucci)", "AP Photo/Uncredited", "Tribune Staff Reporter",
    "This article originally appeared on Time.com.", "Posted on Tuesday 15 October 2019 at 09:11 by Bradley M. Kuhn.",
    "04.04.2020", "2004-12-10 11:55:08",
])
def test_bylines(text):
    assert [r for _, r in judge(text, "en", BylineFilter(BylineConfig()))] == ["byline"]


@pytest.mark.parametrize("text", [
    "• Washington slammed the use of force",
    "By the end of the year the council had approved three new schools in the district.",
    "With Obama in office, the economy grew.",
    "Source: the annual report of the central bank shows a surplus of three billion euros this year, more than expected by analysts.",
    "Photos by the dozen were taken",
    "The author: a life in letters",
    "This article looks at the budget in detail and explains where the money goes.",
    "Autor des Buches ist ein ehemaliger Minister, der lange in Berlin gelebt hat.",
    "On 04.04.2020 the shops closed.",
])
def test_not_bylines(text):
    assert judge(text, "en", BylineFilter(BylineConfig())) == []
