"""The truncated filter on real sentences, several languages."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.steps.filters.truncated import (
    _COMPANY_SUFFIXES,
    _SUFFIX_AFTER_NAME,
    MAY_END,
    NEEDS_CONTINUATION,
    TruncatedConfig,
    TruncatedFilter,
    _may_be_abbreviation,
)
from tests.steps.filters.support import judge


def truncated(text, lang="en", flt=None):
    return judge(text, lang, flt or TruncatedFilter(TruncatedConfig()))


@pytest.mark.parametrize("text, lang", [
    ("Trump's comments on the state of U.S.", "en"),
    ("While the most immediate U.S.", "en"),
    ("The action on the field was also heated, with St.", "en"),
    ("Discount offer valid through April 13, 2011 (11:59 p.m.", "en"),
    ("Toyota Motor Corp.", "en"),
    ("JPMorgan Chase & Co.", "en"),
    ("The minister urged both sides to return to the table and said the government would not intervene in the", "en"),
    ("Stocks climbed as the figures showed that the economy of the country grew faster than expected in", "en"),
    ("Die Regierung hat am Montag beschlossen, dass die neue Regel ab dem", "de"),
    ("Le ministre a annoncé que la réforme serait présentée au conseil des ministres avant la fin de", "fr"),
    ("La ministra explicó que las obras de las nuevas viviendas comenzarán en otoño y que los", "es"),
    ("Власти обещают открыть ещё две станции до конца года и построить новую линию через", "ru"),
    ("他说这个计划会在明年开始实施，但是", "zh"),
])
def test_truncated_paragraphs_are_caught(text, lang):
    assert truncated(text, lang) == [(text, "truncated")]


def test_paragraph_ending_on_acronym_is_cut_but_mid_paragraph_one_is_kept():
    text = "In the 1980s, he helped the U.S. Later he returned to Texas. He worried about the state of U.S."
    assert truncated(text) == [("He worried about the state of U.S.", "truncated")]


def test_truncated_last_sentence_only():
    text = ("Talks broke down on Wednesday after six hours. The union said its members would walk out "
            "next week and that the")
    assert truncated(text) == [("The union said its members would walk out next week and that the", "truncated")]


@pytest.mark.parametrize("text, lang", [
    ("Russia blocks UN Security Council condemnation of Syria attack", "en"),
    ("He said he had moved back to the U.S. He now lives near his parents in Ohio.", "en"),
    ("Shares of Hastings St.", "en"),
    ("The parts measure 93 mm x 156 mm x 22 mm.", "en"),
    ("I will be on a plane to Houston at 8:00 a.m.", "en"),
    ("Try strawberry, apple, banana, apricot, peach etc.", "en"),
    ("The shares of the group were bought by Eaton Corp.", "en"),
    ("Profile: MedSource Consulting, Inc. Services: clinical trials and regulatory advice.", "en"),
    ("• Washington slammed the use of force and applauded the courage of demonstrators", "en"),
    ("- Zu den dort versteigerten Werken gehören auch solche im Leopold-Museum", "de"),
    ("Tottenham v Brighton", "en"),
    ("Neue Brücke über den Rhein eröffnet", "de"),
    ("FC Porto ganhou em Ovar", "pt"),
    ('"I think it\'s very bad for mankind".', "en"),
    ("It was.", "en"),
    ("Die Brücke war im 19. Jahrhundert zum ersten Mal geplant worden.", "de"),
    ("M. Dupont, le directeur du festival, s'est dit très satisfait.", "fr"),
    ("The following were announced:", "en"),
    ("城市公园完成改造重新开放", "zh"),
    # what real pages end lines with (hand-labelled web pages): places, degrees and acronyms
    ("A suspicious package was found near a train station in Elizabeth, N.J.", "en"),
    ("The North tested weapons in protest of the joint military exercise by South Korea and the U.S.", "en"),
    ("Disney executives took the fall and eventually settled with the SEC.", "en"),
    ("Michael Shadlen, Ph.D.", "en"),
    # German verb particles and quotations
    ("Zverev zieht ins Viertelfinale von Montpellier ein", "de"),
    ("Internationale Gemeinschaft schaut zu", "de"),
    ("„Es darf sich nicht die ganze Herde infizieren“", "de"),
    ("Die Forscher sagen: Hört mehr auf die Wissenschaft!“", "de"),
    # code, URLs, salutations, table rows
    ("pub fn main() -> () {", "en"),
    ("Mehr unter http://www.lavieclaire.com/", "fr"),
    ("Dear Megha M,", "en"),
    # Chinese sentence-final particles and words ending in a preposition's character
    ("图注：测试表明，有关人在高空中喝酒更容易醉的传言是不正确的", "zh"),
    ("盼准确把握国家发展需求 愿寻求机遇回国有所作为", "zh"),
    # a title-cased headline that ends on a preposition
    ("This Is Your Brain On Sad Movies; Plus 5 Films To Cry To", "en"),
])
def test_good_lines_are_kept(text, lang):
    assert truncated(text, lang) == []


def test_context_a_lone_short_line_is_a_heading_and_a_wrapped_piece_goes_on():
    """In a punctuated article a short line of its own is a heading, and a paragraph whose next
    paragraph starts in lower case is a piece of a wrapped sentence; a long cut line is cut."""
    body = "The company said on Monday that its profits had fallen sharply in the third quarter."
    text = (f"Headline of the day\n\n{body}\n\nPricing and the competition\n\n{body}\n\n"
            "The eight films, which stretched out over nearly a\n\ndecade, ended in 2011.\n\n"
            "Analysts had expected the group to report a small gain after two years of losses in its main")
    assert truncated(text) == [("Analysts had expected the group to report a small gain after two years of losses in "
                                "its main", "truncated")]


BODY = {
    "fr": "Le gouvernement a présenté mardi un nouveau projet de loi sur les retraites devant le parlement.",
    "es": "El gobierno presentó el martes un nuevo proyecto de ley sobre las pensiones ante el parlamento.",
    "zh": "政府周二向议会提交了一项关于养老金的新法案，这项法案引起了社会各界广泛而热烈的讨论。",
    "de": "Die Regierung hat am Dienstag einen neuen Gesetzentwurf zur Rente im Parlament vorgestellt.",
    "fi": "Hallitus esitteli tiistaina eduskunnalle uuden lakiesityksen eläkkeistä ja niiden rahoituksesta.",
}


@pytest.mark.parametrize("line, lang", [
    # teasers and captions after a label, rows of fields, table rows, headlines in two parts
    ("Lire aussi : Guerre Israël-Hamas : ce que l’on sait des premières évacuations de la bande de Gaza", "fr"),
    ("Le puede interesar: JEP abrirá tres nuevos macrocasos sobre el conflicto armado en el país", "es"),
    ("图注：巴兹·奥尔德林可能是第二个在月球上行走的人，但他是第一个在月球上喝酒的人", "zh"),
    ("Montauk Yacht Club / schöner, ruhiger Platz am Wasser / mit Restaurant und eigenem Strand", "de"),
    ("Jean-Paul Delevoye, monsieur retraites du gouvernement : Jacques Chirac lui donnait un surnom peu flatteur",
     "fr"),
    ("| Zinsaufwendungen sind als Betriebsausgabe abzugsfähig | Hohe Raten bei kürzerer Dauer |", "de"),
    ("Vuosi 2018 toi kylmää, kuumaa ja kuivaa – muuttuva ilmasto näkyy jo säässä", "fi"),
])
def test_structured_lines_in_an_article_are_kept(line, lang):
    """Such a line between two punctuated paragraphs is kept; the same words as a plain line
    (no label, separators or dash) are judged a cut sentence."""
    doc = f"{BODY[lang]}\n\n{{}}\n\n{BODY[lang]}"
    assert truncated(doc.format(line), lang) == []
    plain = line.replace("：", "，").replace(":", ",").replace(" / ", " ").replace("|", " ").replace(" – ", " ").strip()
    assert truncated(doc.format(plain), lang) == [(plain, "truncated")]


def test_filter_counts_by_rule():
    f = TruncatedFilter(TruncatedConfig())
    truncated("Trump's comments on the state of U.S.\n\nHe met the", flt=f)
    assert f.counts == {"filter-truncated-abbreviation_end": 1, "filter-truncated-function_word_end": 1}


def test_rules_can_be_switched_off():
    f = TruncatedFilter(TruncatedConfig(check_abbreviation_end=False))
    assert truncated("Trump's comments on the state of U.S.", flt=f) == []


_LAST_WORDS = sorted(set().union(*NEEDS_CONTINUATION.values(), MAY_END, _COMPANY_SUFFIXES, _SUFFIX_AFTER_NAME))


@settings(max_examples=400, deadline=None)
@given(words=st.lists(st.one_of(
           st.sampled_from(_LAST_WORDS), st.sampled_from(_LAST_WORDS).map(str.upper),
           st.sampled_from(_LAST_WORDS).map(lambda w: "(“" + w.capitalize()), st.sampled_from(["U.S.", "E.U.", "D.C."]),
           st.text(alphabet="aAzZ.é“(«' 0", min_size=1, max_size=8)), min_size=1, max_size=5),
       lang=st.sampled_from(sorted(NEEDS_CONTINUATION) + ["zh"]))
def test_the_cheap_look_never_hides_an_abbreviation_cut(words, lang):
    core = " ".join(words).strip()
    if core.endswith(".") and TruncatedFilter._abbreviation_cut(core.split(), lang):
        assert _may_be_abbreviation(core)


def test_a_document_whose_headings_end_without_punctuation_keeps_them():
    """Real headings from hand-labelled pages: a document with other heading-sized lines without
    end punctuation uses such lines as headings, so one more is a heading, not a cut sentence;
    alone among punctuated paragraphs the same line is cut (``heading_habit: 0`` turns this off)."""
    body = BODY["es"]
    heading = "El Ejército israelí elevó a 242 la cifra de secuestrados por Hamas en la franja"
    others = ["Tres imputados por secuestro exprés de un menor en San Pedro",
              "Bebé muere electrocutado al recostarse por una columna de su casa"]
    doc = "\n\n".join(["Titular", body, others[0], body, others[1], body, heading, body])
    assert truncated(doc, "es") == []
    off = TruncatedFilter(TruncatedConfig(heading_habit=0))
    assert truncated(doc, "es", off) == [(line, "truncated") for line in (others[0], others[1], heading)]
    alone = "\n\n".join(["Titular", body, body, heading, body])
    assert truncated(alone, "es") == [(heading, "truncated")]


def test_a_line_ending_on_an_emoji_is_complete_and_one_ending_on_a_comma_is_cut():
    body = BODY["de"]
    comment = "Das ist ja krass, lieber Thomas, was für Komplimente Du mir hier machst. Ich werde ja tiefrot 🙂"
    assert truncated(f"{body}\n\n{comment}\n\n{body}", "de") == []
    ar_body = ("وقالت الوزارة في بيان إن العمل في المشروع الجديد سيبدأ في الشهر المقبل بعد موافقة الحكومة عليه.")
    cut = "وأوضحت الصحيفة، أن المعرض سيغلق في مدريد في الثامن عشر من أكتوبر المقبل بعد أن زاره الآلاف،"
    f = TruncatedFilter(TruncatedConfig())
    assert truncated(f"{ar_body}\n\n{cut}\n\n{ar_body}", "ar", f) == [(cut, "truncated")]
    assert f.counts == {"filter-truncated-comma_end": 1}


def test_the_title_block_above_the_body_is_kept():
    """Real decks from hand-labelled pages: one sentence between the headline and the first
    punctuated paragraph is a deck, not a cut sentence; the same line inside the body is cut."""
    for lang, deck in [("es", "Buscan apropiarse ilegalmente de avión de Ricardo Martinelli en Guatemala"),
                       ("pt", "A polícia informou que os autores dos disparos procuravam, supostamente, "
                              "pelo cunhado da vítima")]:
        body = BODY["es"] if lang == "es" else ("O governo apresentou na terça-feira um novo projeto de lei "
                                                "sobre as pensões ao parlamento.")
        assert truncated(f"Titular\n\n{deck}\n\n{body}\n\n{body}", lang) == []
        assert truncated(f"Titular\n\n{body}\n\n{deck}\n\n{body}", lang) == [(deck, "truncated")]


def test_a_heading_whose_words_come_back_below_it_or_the_title_again_is_kept():
    """Subheadings from real pages announce the paragraph below them; a line that repeats the
    title (the page's <title> above the article) is the title. Over an unrelated paragraph, the
    same subheading is judged a cut sentence."""
    body = "The company said on Monday that its profits had fallen sharply in the third quarter."
    heading = "LVMH’s involvement with the purchases of national treasures"
    below = ("LVMH’s most significant involvements in art patronage have centered on acquiring national "
             "treasures. Such support is a win-win for the company.")
    assert truncated(f"Title\n\n{body}\n\n{heading}\n\n{below}", "en") == []
    assert truncated(f"Title\n\n{body}\n\n{heading}\n\n{body}", "en") == [(heading, "truncated")]
    de_heading = "Anne Böcker kommt mit der 200-Meter-Distanz immer besser zurecht"
    de_below = ("Immer mehr freundet sich Anne Böcker (Ski-Club Olpe) mit der 200-Meter-Distanz an. Ihre "
                "Siegerzeit bedeutet für sie eine neue persönliche Bestzeit.")
    assert truncated(f"Titel\n\n{BODY['de']}\n\n{de_heading}\n\n{de_below}", "de") == []
    title = "La perte des terres fertiles et les éléphants en Guinée-Conakry"
    page = f"{title} | Environnement | DW | 23.05.2011\n\n{BODY['fr']}\n\n{title}\n\n{BODY['fr']}"
    assert truncated(page, "fr") == []


def test_a_hard_wrapped_document_is_not_judged_by_its_line_ends():
    """Lines of a hard-wrapped review (a real page): three of them go on in lower case, so the
    two that go on with a name are wrapped pieces too (``hard_wrapped: 0`` turns this off)."""
    lines = ["Fantastic Beasts is a film about a man and his suitcase, and about the many odd",
             "creatures that live in it and get out of it.",
             "Beasts takes place during the Roaring Twenties—are we going to learn that the",
             "Depression was caused by wizards around film four?—and the plot revolves around a",
             "quest for a lost creature, which is as good an excuse as any for a tour of",
             "the city. Redmayne and Waterson are both terrific, charismatic actors, but they are",
             "both tamped down here, particularly Redmayne, who is so obligated to be whimsical in the",
             "Rowling sense that he barely enunciates his dialogue, seemingly whispering all of it.",
             "It was a long film, and it felt long."]
    text = "\n\n".join(lines)
    assert truncated(text) == []
    off = TruncatedFilter(TruncatedConfig(hard_wrapped=0))
    assert truncated(text, "en", off) == [(lines[2], "truncated"), (lines[6], "truncated")]


def test_a_teaser_cut_on_an_ellipsis_above_its_read_more_link():
    """Real teasers: the text stops on an ellipsis and the next line leads to the rest of it (a
    "read more" link or a paywall, which the boilerplate filter takes first). The same text over
    a line of content, or an ellipsis inside a quotation, is kept."""
    from pipeline.steps.filters.boilerplate import BoilerplateConfig, BoilerplateFilter
    from pipeline.model import Document
    from pipeline.steps.segment import SegmentConfig, segment_document

    def run(text, lang):
        d = Document("d", text, "d", (0, 0), "{}", lang=lang)
        segment_document(d, SegmentConfig())
        BoilerplateFilter(BoilerplateConfig())([d])
        TruncatedFilter(TruncatedConfig())([d])
        return [(p.text, p.removed.reason.name) for p in d.paragraphs if p.removed]

    teaser = ("Pour réaliser ce programme, il impose aux populations un nouveau grand récit, le darwinisme social, "
              "qui croyait qu’il suffisait de laisser faire les interactions économi...")
    assert run(f"{BODY['fr']}\n\n{teaser}\n\nPour lire la suite", "fr") == [
        (teaser, "truncated"), ("Pour lire la suite", "boilerplate")]
    assert run(f"{BODY['fr']}\n\n{teaser}\n\n{BODY['fr']}", "fr") == []
    ja = ["その判断は…", "［有料会員限定］ この記事は会員限定です。電子版に登録すると続きをお読みいただけます。"]
    assert run("政府は来年度の予算案を閣議決定した。\n\n" + "\n\n".join(ja), "ja") == [
        (ja[0], "truncated"), (ja[1], "boilerplate")]
    quoted = "Sie nannte ihr neues Buch „Erholung von der Matrix…“"
    assert run(f"{BODY['de']}\n\n{quoted}\n\nWeiterlesen", "de") == [("Weiterlesen", "boilerplate")]


def test_a_line_that_ends_on_a_web_address_is_complete():
    """An embedded post or a pointer ends on its address; "the U.S" or "2.0" are no addresses."""
    body = "The club said on Monday that the new stadium would open in the spring of next year."
    for line in ["Highlights from our 4-1 win at Villa Park and the goals from the weekend pic.twitter.com/BUPgYtgHaY",
                 "Szukasz lokalu handlowego do wynajęcia na dłużej? Zobacz oferty na PropertyStock.pl"]:
        assert truncated(f"{body}\n\n{line}\n\n{body}") == []
    cut = "Analysts had expected the group to report a small gain after two years of losses in the U.S"
    assert truncated(f"{body}\n\n{cut}\n\n{body}") == [(cut, "truncated")]


def test_a_piece_whose_sentence_goes_on_after_a_number_is_wrapped():
    """A real wrapped sentence whose next piece starts with a number, then a word in lower case."""
    piece = ("Además, refirió que el Encuentro Internacional de Solidaridad con Cuba volverá a reunir en La "
             "Habana a más")
    rest = "1 000 amigos del mundo, dispuestos a conocer la realidad cubana."
    assert truncated(f"{BODY['es']}\n\n{piece}\n\n{rest}", "es") == []
    other = "1 000 Menschen kamen am Sonntag zur Kundgebung vor dem Rathaus."
    assert truncated(f"{BODY['es']}\n\n{piece}\n\n{other}", "es") == [(piece, "truncated")]


def test_a_list_of_quantities_does_not_make_a_document_hard_wrapped():
    """Lines such as "200 g flour" start with a number and a lower-case word, like the next piece
    of a wrapped sentence; they do not count towards ``hard_wrapped``."""
    recipe = ["Mix the batter well before you pour it into the pan.", "200 g flour", "2 eggs", "100 g sugar",
              "1 pinch of salt", "Bake the cake for forty minutes until the edges are set and the"]
    assert truncated("\n\n".join(recipe)) == [(recipe[-1], "truncated")]
