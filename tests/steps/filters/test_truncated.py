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
    ("The actor had signed on as donor-bait for a dinner benefiting 826 D.C.", "en"),
    ("The minister urged both sides to return to the table and said the government would not intervene in the", "en"),
    ("Stocks climbed as the figures showed that the economy of the country grew faster than expected in", "en"),
    ("Die Regierung hat am Montag beschlossen, dass die neue Regel ab", "de"),
    ("Le ministre a annoncé que la réforme serait présentée au conseil des ministres avant la fin de", "fr"),
    ("La ministra explicó que las obras de las nuevas viviendas comenzarán en otoño y que los", "es"),
    ("Власти обещают открыть ещё две станции до конца года и построить новую линию через", "ru"),
    ("我们需要培育一个以中正、和平、理性和开放为根基的公民社会，也需要建立一个以爱和", "zh"),
])
def test_truncated_paragraphs_are_caught(text, lang):
    assert truncated(text, lang) == [(text, "truncated")]


def test_paragraph_ending_on_acronym_is_cut_but_mid_paragraph_one_is_kept():
    text = "In the 1980s, he helped the U.S. Later he returned to Texas. He said he moved back to the U.S."
    assert truncated(text) == [("He said he moved back to the U.S.", "truncated")]


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
])
def test_good_lines_are_kept(text, lang):
    assert truncated(text, lang) == []


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
