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
    # datelines with month names and labels, an editor's initials and the agency, contributors,
    # captions that end on their photo credit
    "19. November 2021", "28 kwietnia 2021, 06:29", "30 Ekim 2020 Cuma 18:28", "Published on Apr 13, 2020",
    "Mis à jour le 29/10/2012 à 14h03", "Stand: 28.04.2020 18:00 Uhr", "erb/ots", "aja/PAP",
    "Heba Habib contributed to this report.", "Jemele Hill can be reached at jemeleespn@gmail.com.",
    "Stella Kim reported from Seoul, and Jennifer Jett from Hong Kong.",
    "Cachorro com deficiência e abandonado em Porto Velho ganhou um lar. — Foto: Mayara Subtil/G1",
    "Прокурори Венедіктової вивчали матеріали, які обґрунтовують підозру Юрченку / Фото РБК",
    # photo labels, lower-case bylines, agencies listed, rights notices, Chinese credits in table
    # cells, a bulleted label, a date and a paper, a name and its address
    "Foto: dahancoo / Pixabay (Symbolbild)", "Źródło zdjęcia głównego: ELVIS GONZALEZ/PAP/EPA",
    "Beitragsbild: Stefan Mang", "PhotoCreditTed + Chelsea Cavanaugh para The New York Times", "Bron: 112 Den Haag",
    "Sources: GreatAgain, Washington Examiner / Photo credit: Carl Icahn/Facebook", "VIDEO COURTESY OF MONOTYPE",
    "von Daniela Obers", "por   CyberCook", "(Con información de AFP, EFE y Reuters)",
    "Materiał chroniony prawem autorskim - zasady przedruków określa regulamin.",
    "【美国The Next Web作品的中文相关权益归腾讯公司独家所有。未经授权，不得转载、摘编等。】",
    "This website and all documents on it are licensed under a Creative Commons Attribution-Share Alike 3.0 United "
    "States License.",
    "| 编辑： 吕峥 | 来源： 千龙网 |  |", "| 2004-12-10 11:55:08 来源: 网易商业报道 |  | 发表评论 |  | 查看评论 |",
    "| 本版编辑:Giki |", "（松花江网编辑 孙桂芳）", "- Autor: www.portalspozywczy.pl", "2003-7-24 钱江晚报",
    "Bradley M. Kuhn <bkuhn@ebb.org>",
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
    "The meeting is on 12 May 2021 in Paris.", "He was born on May 5, 1990, in a small town near Lyon.",
    "- Datum: 31/08/2019", "- April 2, 2024",                      # list items of an event's details
    "Anna Schmidt reported the theft to the police on Monday.",
    "The photo shows the river in flood; the town hall is on the left.",
    "von Berlin aus fuhr er mit dem Zug weiter nach Hamburg",           # a piece of a wrapped sentence
    "redactionrks@yahoo.fr", "Mail  info@markeich.de",                  # contact details
    "Creative Commons ist eine gute Sache. Ich veröffentliche all meine Fotos auf Flickr.",
    "Nach dem Motto – “All rights reserved” – stehen die Lizenzen zwischen Urheberrecht und Gemeinfreiheit.",
    "| 050401 艺术学 |  | 7 |  |  |",                                   # a row of data
    # sentences about rights and licences, a heading with 编辑, a timeline item
    "法院认定被告未经授权使用原告作品，构成侵权。", "著作権法の改正案が国会で可決された。",
    "Sąd uznał, że zdjęcia są chronione prawem autorskim.",
    "The photos are licensed under a Creative Commons license, the museum said.",
    "视频编辑软件推荐", "- 09.11.1989 Mauerfall",
])
def test_not_bylines(text):
    assert judge(text, "en", BylineFilter(BylineConfig())) == []


def test_a_lower_case_byline_inside_a_wrapped_sentence_is_the_sentence():
    flt = BylineFilter(BylineConfig())
    assert judge("The film was directed\n\nby Steven Spielberg\n\nand released in 1993 to great acclaim.", "en",
                 flt) == []
    assert judge("A new film opens today.\n\nby Steven Spielberg\n\nThe film was released in 1993.", "en",
                 flt) == [("by Steven Spielberg", "byline")]
