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


def test_hand_off_between_the_phases_keeps_what_the_second_needs():
    """stages.docs_to_table / table_to_docs: paragraph offsets for every paragraph, and reasons and
    sentences only where something was removed; the output built from the round trip is the same."""
    from pipeline import langid, write
    from pipeline.config import LangidConfig
    from pipeline.model import Document
    from pipeline.stages import docs_to_table, table_to_docs
    texts = [
        "Storm closes schools\n\nThe regional council said emergency crews had rescued dozens of residents. "
        "Las autoridades pidieron a los vecinos que no se acercaran a las orillas del río durante la noche. "
        "Roads into the town centre remained closed on Tuesday morning.\n\n• Julie Sanders",
        "",
        "Kurz gemeldet\n\n" + "Nach vier Jahren Bauzeit ist die neue Brücke am Samstag für den Verkehr freigegeben worden. " * 3,
    ]
    docs = [Document(f"d{i}", t, f"src:{i}", (0, i * 10), "{}") for i, t in enumerate(texts)]
    docs[1].reason, docs[1].detail = "empty", '{"chars": 0}'
    live = [d for d in docs if d.reason is None]
    langid.detect_documents(live, LangidConfig())
    for d in live:
        segment_document(d, SegmentConfig())
    langid.detect_sentences(live, LangidConfig())
    docs[0].paragraphs[2].reason, docs[0].paragraphs[2].detail = "byline", '{"rule": "bullet_name"}'
    back = table_to_docs(docs_to_table(docs))
    assert [(d.doc_id, d.text, d.order, d.lang, d.reason) for d in back] == \
           [(d.doc_id, d.text, d.order, d.lang, d.reason) for d in docs]
    for a, b in zip(docs, back):
        assert [(p.idx, p.start, p.text, p.reason, p.detail) for p in a.paragraphs] == \
               [(p.idx, p.start, p.text, p.reason, p.detail) for p in b.paragraphs]
        for p, q in zip(a.paragraphs, b.paragraphs):
            if any(s.reason for s in p.sentences):        # kept only where one was removed
                assert [(s.start, s.end, s.reason, s.lang) for s in p.sentences] == \
                       [(s.start, s.end, s.reason, s.lang) for s in q.sentences]
    assert any(s.reason == "foreign_language" for s in back[0].paragraphs[1].sentences)
    for x, y in zip(write.build_tables(docs, "r", "ledger")[:2], write.build_tables(back, "r", "ledger")[:2]):
        if isinstance(x, dict):
            assert {k: v.to_pylist() for k, v in x.items()} == {k: v.to_pylist() for k, v in y.items()}
        else:
            assert x.to_pylist() == y.to_pylist()
