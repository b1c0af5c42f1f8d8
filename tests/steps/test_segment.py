import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.steps.segment import SegmentConfig
from pipeline.model import Document
from pipeline.steps.segment import segment_document, split_sentences


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


def _runs_of_non_blank_lines(text):
    """The definition of a paragraph, spelled out line by line."""
    spans, pos, start, end = [], 0, -1, -1
    for line in text.split("\n"):
        if line.strip():
            if start < 0:
                start = pos
            end = pos + len(line)
        elif start >= 0:
            spans.append((start, end))
            start = -1
        pos += len(line) + 1
    if start >= 0:
        spans.append((start, end))
    return spans


_pieces = st.one_of(st.text(max_size=40), st.sampled_from(
    ["\n", "\n\n", " \n \n", "\t", "\u00a0", "\u2028", "\r", "\x0b", "\x85", "One. Two.", "Mr. Smith went.", "  x  "]))


@settings(max_examples=300, deadline=None)
@given(text=st.lists(_pieces, max_size=12).map("".join), splitter=st.sampled_from(["sentencex", "regex"]))
def test_paragraphs_are_the_runs_of_non_blank_lines_and_sentences_cover_them(text, splitter):
    d = Document("d", text, "s", (0, 0), "{}", lang="en")
    segment_document(d, SegmentConfig(splitter=splitter))
    spans = _runs_of_non_blank_lines(text)
    assert len(d.paragraphs) == len(spans)
    for i, (p, (a, b)) in enumerate(zip(d.paragraphs, spans)):
        raw = text[a:b]
        assert (p.idx, p.text, p.start) == (i, raw.strip(), a + len(raw) - len(raw.lstrip()))
        assert p.sentences and p.sentences[0].start == 0 and p.sentences[-1].end == len(p.text)
        assert all(x.end == y.start for x, y in zip(p.sentences, p.sentences[1:]))
        assert [(s.start, s.end) for s in p.sentences] == split_sentences(p.text, "en", splitter)


@pytest.mark.parametrize("text", ["Hello A\u00a0. B world", "Bonjour M. A\u00a0. Dupont est là. Il parle.",
                                  "The court heard from J\u3000. Smith on Monday. He denied it."])
def test_a_line_sentencex_cannot_split_is_split_by_the_expression(text):
    """sentencex 1.x panics on a capital letter, a multi-byte space and a full stop; the run must
    not stop there: the regular-expression splitter splits that line."""
    spans = split_sentences(text, "en")
    assert "".join(text[a:b] for a, b in spans) == text
    assert len(spans) >= 2
