import pytest

from pipeline.config import SegmentConfig
from pipeline.model import Document
from pipeline.segment import segment_document, split_sentences


def sentences(text, lang="en", splitter="sentencex"):
    return [text[s:e].strip() for s, e in split_sentences(text, lang, splitter)]


def test_spans_cover_the_text_exactly():
    text = "One. Two!  Three?\nFour without end\n“Five.” Six…"
    spans = split_sentences(text, "en")
    assert "".join(text[s:e] for s, e in spans) == text
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_us_abbreviations():
    text = ("Trump's comments on the state of U.S. While the most immediate U.S. The U.S. says Syrian "
            "President Bashar Assad's government carried out the attack. Putin said Wednesday that U.S. "
            "-Russia relations have \"degraded\" since President Trump took office. Mr Tillerson and "
            "Dr. Jones met George W. Bush.")
    assert sentences(text) == [
        "Trump's comments on the state of U.S.",
        "While the most immediate U.S.",
        "The U.S. says Syrian President Bashar Assad's government carried out the attack.",
        'Putin said Wednesday that U.S. -Russia relations have "degraded" since President Trump took office.',
        "Mr Tillerson and Dr. Jones met George W. Bush.",
    ]


@pytest.mark.parametrize("lang, text, expected", [
    ("de", "Die Brücke war im 19. Jahrhundert geplant worden. Sie kam am 3. Oktober.",
     ["Die Brücke war im 19. Jahrhundert geplant worden.", "Sie kam am 3. Oktober."]),
    ("fr", "M. Dupont est arrivé hier. Il était content.", ["M. Dupont est arrivé hier.", "Il était content."]),
    ("ru", "Это было важно, т. е. очень нужно. Потом все ушли.",
     ["Это было важно, т. е. очень нужно.", "Потом все ушли."]),
    ("zh", "我们今天去了公园。天气很好！你呢？", ["我们今天去了公园。", "天气很好！", "你呢？"]),
    ("es", "El Sr. García llegó tarde. ¿Por qué? No lo sé.", ["El Sr. García llegó tarde.", "¿Por qué?", "No lo sé."]),
    ("en", "The rate rose to 3.5 per cent. It fell later.", ["The rate rose to 3.5 per cent.", "It fell later."]),
])
def test_language_rules(lang, text, expected):
    assert sentences(text, lang) == expected


def test_line_breaks_end_sentences():
    assert sentences("• first item\n• second item\nA sentence. Another") == [
        "• first item", "• second item", "A sentence.", "Another"]


def test_regex_splitter_is_a_working_fallback():
    assert sentences("One sentence here. Another one! A third?", splitter="regex") == [
        "One sentence here.", "Another one!", "A third?"]


def test_paragraph_offsets():
    text = "Title\n\n  Para one. Still one.\n\n\n  • Julie Sanders  \n"
    d = Document("x", text, "x", (0, 0), "{}", lang="en")
    segment_document(d, SegmentConfig())
    assert [p.text for p in d.paragraphs] == ["Title", "Para one. Still one.", "• Julie Sanders"]
    for p in d.paragraphs:
        assert text[p.start:p.start + len(p.text)] == p.text
    assert len(d.paragraphs[1].sentences) == 2
