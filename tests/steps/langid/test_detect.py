import json

import pytest

from pipeline.steps.langid import LangidConfig
from pipeline.steps.segment import SegmentConfig
from pipeline.steps.langid import detect_documents, detect_sentences
from pipeline.steps.langid.backends import get_backend, norm_code
from pipeline.model import Document
from pipeline.steps.filters.truncated import TRUNCATED
from pipeline.steps.repair import EMPTY
from pipeline.steps.segment import segment_document

SENTENCES = {
    "en": "The regional council said emergency crews had rescued dozens of residents from flooded homes.",
    "es": "Las autoridades pidieron a los vecinos que no se acercaran a las orillas del río durante la noche.",
    "de": "Nach vier Jahren Bauzeit ist die neue Brücke am Samstag für den Verkehr freigegeben worden.",
    "fr": "Plus de cent mille personnes ont assisté au festival ce week-end, selon les organisateurs.",
    "ru": "Новая станция открылась в субботу утром, сообщили в пресс-службе мэрии города.",
    "ar": "افتتحت البلدية يوم الأحد مكتبة عامة جديدة تضم أكثر من خمسين ألف كتاب باللغة العربية.",
    "zh": "经过一年的改造，市中心公园于周六重新向市民开放，新公园增加了儿童游乐区和自行车道。",
    "it": "Il consiglio comunale ha approvato ieri sera il nuovo piano per il traffico del centro storico.",
    "pt": "O governo anunciou nesta terça-feira um novo programa de habitação para famílias de baixa renda.",
}


@pytest.mark.parametrize("backend", ["cld2", "fasttext", "langdetect"])
def test_backends_recognise_clear_sentences(backend):
    b = get_backend(backend, 0)
    for lang, text in SENTENCES.items():
        got, score = b.detect(text)
        assert got == lang, (backend, lang, got)
        assert 0.5 < score <= 1.0


def test_langdetect_is_seeded_and_repeatable():
    b = get_backend("langdetect", 0)
    text = "Ok, merci."          # short and ambiguous: unseeded langdetect varies between runs
    assert len({b.detect(text) for _ in range(20)}) == 1


def test_codes_are_normalised():
    assert norm_code("zh-Hant") == "zh" and norm_code("iw") == "he" and norm_code("un") == "und"
    assert norm_code("zh-cn") == "zh" and norm_code(None) == "und"


def _doc(text):
    d = Document("d", text, "d", (0, 0), "{}")
    detect_documents([d], LangidConfig())
    segment_document(d, SegmentConfig())
    detect_sentences([d], LangidConfig())
    return d


def _flagged(d):
    return [(p.text[s.start:s.end].strip(), s.lang) for p in d.paragraphs for s in p.sentences if s.removed]


def test_embedded_sentence_in_each_direction():
    en = SENTENCES["en"]
    d = _doc(f"{en} {SENTENCES['es']} The council opened two shelters for families who cannot return home.")
    assert d.lang == "en"
    assert _flagged(d) == [(SENTENCES["es"], "es")]
    de = SENTENCES["de"]
    d = _doc(f"{de} Die Anwohner hoffen nun auf weniger Staus in der Innenstadt. {en}")
    assert d.lang == "de" and _flagged(d) == [(en, "en")]
    ru = SENTENCES["ru"]
    d = _doc(f"{ru} Строительство заняло почти три года и обошлось городу дороже. {en}")
    assert d.lang == "ru" and _flagged(d) == [(en, "en")]


def test_names_numbers_short_and_code_are_not_foreign():
    text = ("The regional council said emergency crews had rescued dozens of residents. "
            "Rex Tillerson. Viva España! Angela Merkel und Emmanuel Macron. "
            "for (int i = 0; i < n; i++) { x += 1; } "
            "The road into the town centre stayed closed on Tuesday morning after the storm.")
    assert _flagged(_doc(text)) == []


def test_foreign_detail_names_language_and_score():
    d = _doc(SENTENCES["en"] + " " + SENTENCES["fr"] + " Roads into the town centre remained closed on Tuesday morning after the storm.")
    s = [s for p in d.paragraphs for s in p.sentences if s.removed][0]
    det = json.loads(s.removed.detail)
    assert det["lang"] == "fr" and det["doc_lang"] == "en" and 0.8 <= det["score"] <= 1.0


def test_short_sentences_need_both_detectors_or_another_script():
    en = SENTENCES["en"]
    tail = " Roads into the town centre remained closed on Tuesday morning after the storm."
    assert _flagged(_doc(f"{en} Hay que decirlo de una vez.{tail}")) == [("Hay que decirlo de una vez.", "es")]
    assert _flagged(_doc(f"{en} シモンズ製ベッドはワイドセミダブルが2台。{tail}")) == [
        ("シモンズ製ベッドはワイドセミダブルが2台。", "ja")]
    ar = SENTENCES["ar"] + " وتضم المكتبة قاعات للدراسة ومساحة مخصصة للأطفال."
    assert _flagged(_doc(f"{ar} Just doing a little summer surfing. {ar}")) == [
        ("Just doing a little summer surfing.", "en")]
    # short but English, or a product name in another script inside Arabic text: not foreign
    assert _flagged(_doc(f"{en} It was wrong, he said.{tail}")) == []
    assert _flagged(_doc("أعلنت الشركة عن هاتف Galaxy Note 5 الجديد في مؤتمر صحفي يوم الأحد. " + ar)) == []


def test_c1_controls_do_not_hide_a_foreign_sentence():
    from pipeline.steps.repair import RepairConfig
    from pipeline.steps.repair import repair_text
    text = repair_text(SENTENCES["en"] + " Ils comportent un descriptif détaillé de l\x92action qui a été menée. "
                       "Roads into the town centre remained closed on Tuesday morning.", RepairConfig()).text
    assert "l’action" in text
    assert _flagged(_doc(text)) == [("Ils comportent un descriptif détaillé de l’action qui a été menée.", "fr")]


def test_function_words_shortcut_skips_the_detectors_only_for_native_sentences(monkeypatch):
    """Sentences with two or more function words only their document's language has do not reach
    the detectors; foreign sentences still do, and the result is the same as without the shortcut."""
    from pipeline.steps.langid import backends
    calls = []
    real = backends.Cld2Backend.detect
    monkeypatch.setattr(backends.Cld2Backend, "detect", lambda self, text: calls.append(text) or real(self, text))
    text = (f"{SENTENCES['en']} {SENTENCES['es']} The council has opened two shelters for the families who "
            f"cannot return to their homes.\n\n{SENTENCES['fr']}\n\nIt was the wettest month on record in "
            "the region, and the river is still rising.")
    d = _doc(text)
    with_shortcut = _flagged(d)
    sentence_calls = [c.strip() for c in calls if c != d.text]
    assert SENTENCES["en"] not in sentence_calls                  # native: the, had, from ...
    assert SENTENCES["es"] in sentence_calls and SENTENCES["fr"] in sentence_calls
    assert with_shortcut == [(SENTENCES["es"], "es"), (SENTENCES["fr"], "fr")]
    d2 = Document("d", text, "d", (0, 0), "{}")
    detect_documents([d2], LangidConfig(function_words=False))
    segment_document(d2, SegmentConfig())
    detect_sentences([d2], LangidConfig(function_words=False))
    assert _flagged(d2) == with_shortcut


def test_a_repeated_sentence_is_detected_once_per_batch(monkeypatch):
    """The same foreign caption in several documents of a batch reaches each detector once, and
    every copy is still marked."""
    from pipeline.steps.langid import backends
    calls = []
    for cls in (backends.Cld2Backend, backends.FastTextBackend):
        real = cls.detect
        monkeypatch.setattr(cls, "detect", lambda self, text, real=real: calls.append((self.name, text)) or real(self, text))
    caption = "Foto: los bomberos trabajaron toda la noche para contener el incendio en el monte."
    texts = [f"{SENTENCES['en']} {caption} The fire destroyed {n} hectares of forest before it was put out."
             for n in ("forty", "sixty", "ninety")]
    docs = [Document(f"d{i}", t, "d", (0, i), "{}") for i, t in enumerate(texts)]
    detect_documents(docs, LangidConfig())
    for d in docs:
        segment_document(d, SegmentConfig())
    detect_sentences(docs, LangidConfig())
    assert all(_flagged(d) == [(caption, "es")] for d in docs)
    assert [c for c in calls if c[1].strip() == caption] == [("cld2", caption + " "), ("fasttext", caption + " ")]


def test_function_words_are_exclusive_to_one_language():
    from pipeline.steps.langid.textscan import _exclusive
    excl = _exclusive()
    assert "the" in excl["en"] and "der" in excl["de"] and "что" in excl["ru"]
    assert "не" not in excl["ru"]       # shared with Ukrainian and Bulgarian
    for shared in ("de", "la", "que", "a", "en", "il", "in", "no", "para"):
        assert not any(shared in words for words in excl.values()), shared
    assert all(len(w) > 1 for words in excl.values() for w in words)


NEWS_EN = ("The city council approved the new budget on Tuesday, and the mayor said that the money would be spent "
           "on schools, roads and the renovation of the old library. It was the first budget in three years that "
           "had the support of all the parties on the council. The opposition, which had criticised the plan for "
           "months, said that it was not perfect but that the changes made in the last week were enough. Work on "
           "the roads will start in the spring, and the library is expected to reopen at the end of next year. "
           "Residents who spoke to the local paper were pleased with the decision, although some of them said "
           "they had heard such promises before.")
GALICIAN = ("O Concello da Coruña aprobou onte o orzamento para o próximo ano, que inclúe unha partida importante "
            "para a mellora dos barrios. Segundo o alcalde, as obras comezarán na primavera e estarán rematadas "
            "antes do verán. A oposición criticou que non se tivesen en conta as propostas dos veciños, pero o "
            "goberno local defendeu que o proceso foi aberto e transparente. Ademais, o plan prevé a creación de "
            "novas zonas verdes e a renovación da iluminación pública en varias rúas do centro da cidade.")


def _doc_detector_reads(monkeypatch, text, **cfg):
    """(document, the texts the detector was given) for document-level detection alone."""
    from pipeline.steps.langid import backends
    calls = []
    real = backends.Cld2Backend.detect
    monkeypatch.setattr(backends.Cld2Backend, "detect", lambda self, t: calls.append(t) or real(self, t))
    d = Document("d", text, "d", (0, 0), "{}")
    detect_documents([d], LangidConfig(**cfg))
    return d, calls


def test_clear_function_words_let_the_detector_read_only_a_prefix(monkeypatch):
    from pipeline.steps.langid.textscan import DOC_PREFIX
    d, calls = _doc_detector_reads(monkeypatch, NEWS_EN)
    assert d.lang == "en" and calls == [NEWS_EN[:DOC_PREFIX]]
    assert 0.9 <= d.lang_score <= 1.0            # the share of its function words that are English
    d2, calls2 = _doc_detector_reads(monkeypatch, NEWS_EN, doc_function_words=False)
    assert d2.lang == "en" and calls2 == [NEWS_EN]


def test_document_vote_is_checked_and_falls_back_to_the_whole_text(monkeypatch):
    # A Spanish quote opens an English article: the function words say English, the first 500
    # characters say Spanish, so the detector reads the whole text.
    quote = " ".join([SENTENCES["es"]] * 4)
    text = "\n\n".join([quote] + [NEWS_EN.replace("Tuesday", day) for day in ("Monday", "Tuesday", "Friday", "Sunday")])
    d, calls = _doc_detector_reads(monkeypatch, text)
    assert d.lang == "en" and calls[-1] == text and len(calls) == 2
    # Galician shares do/da/dos/das/foi with Portuguese: never called Portuguese.
    d, _ = _doc_detector_reads(monkeypatch, GALICIAN)
    assert d.lang == "gl"
    # A Chinese article quoting English: most letters are not Latin, no vote.
    zh = " ".join([SENTENCES["zh"]] * 8) + "\n\n" + NEWS_EN[:300]
    d, calls = _doc_detector_reads(monkeypatch, zh)
    assert d.lang == "zh" and calls == [zh]


def test_shared_text_batches_give_the_same_sentences():
    from pipeline.steps.langid.textscan import TextBatches
    texts = [NEWS_EN + " " + SENTENCES["es"] + " " + NEWS_EN[:200], SENTENCES["zh"] * 3 + " " + SENTENCES["en"],
             "", GALICIAN + " " + SENTENCES["de"]]
    results = []
    for shared in (False, True):
        docs = [Document(f"d{i}", t, "d", (0, i), "{}") for i, t in enumerate(texts)]
        live = [d for d in docs if d.text]
        for d in docs:
            if not d.text:
                d.remove(EMPTY)
        text = TextBatches(live) if shared else None
        detect_documents(docs, LangidConfig(), text)
        for d in live:
            segment_document(d, SegmentConfig())
        detect_sentences(docs, LangidConfig(), text)
        results.append([(d.lang, _flagged(d)) for d in docs])
    assert results[0] == results[1]
    assert results[0][0] == ("en", [(SENTENCES["es"], "es")]) and results[0][3][0] == "gl"


@pytest.mark.parametrize("batch_chars", [200_000, 1])
def test_sentences_removed_before_the_sentence_step_are_not_judged(monkeypatch, batch_chars):
    """Sentences that already have a reason (a filter run before language ID) are left out of the
    judgements, and every other sentence is judged exactly as without them: a sentence's kind,
    letters and paragraph depend on its own span only. A paragraph may lose all its sentences, a
    batch all of its (``batch_chars`` 1: a batch per document)."""
    import numpy as np

    from pipeline.text import chars
    from pipeline.steps.langid.detect import judgements
    monkeypatch.setattr(chars, "BATCH_CHARS", batch_chars)
    texts = [NEWS_EN + " " + SENTENCES["es"] + " " + NEWS_EN[:200] + "\n\n" + SENTENCES["en"] + " " + SENTENCES["en"],
             SENTENCES["de"] + " " + SENTENCES["fr"] + "\n\n" + SENTENCES["de"] * 2,
             SENTENCES["zh"] * 4 + "\n\n" + SENTENCES["zh"] + " " + SENTENCES["en"],
             SENTENCES["zh"] * 3 + "\n\n" + SENTENCES["ru"] + " " + SENTENCES["en"]]      # "und": not listed

    def judged(mark):
        docs = [Document(f"d{i}", t, "d", (0, i), "{}") for i, t in enumerate(texts)]
        detect_documents(docs, LangidConfig())
        for d in docs:
            segment_document(d, SegmentConfig())
        assert [d.lang for d in docs] == ["en", "de", "zh", "und"]
        sents = [s for d in docs[:3] for p in d.paragraphs for s in p.sentences]
        for i in mark:
            sents[i].remove(TRUNCATED)
        return sents, judgements(docs, LangidConfig())

    sents, (listed, prefs, *arrays) = judged(())
    assert listed == sents and len(sents) >= 10 and len(prefs) == 6
    para = lambda j: [i for i, s in enumerate(sents) if any(s is x for x in prefs[j][1].sentences)]
    whole_para, whole_doc = para(2), para(0) + para(1)               # the German pair; the English document
    for mark in ([0], [1, len(sents) - 1], whole_para + [3], whole_doc, list(range(len(sents)))):
        marked, (listed2, prefs2, *arrays2) = judged(mark)
        keep = np.ones(len(sents), bool)
        keep[mark] = False
        assert [id(s) for s in listed2] == [id(s) for i, s in enumerate(marked) if keep[i]]
        if not keep.any():                      # nothing left to judge
            assert prefs2 == [] and all(len(b) == 0 for b in arrays2)
            continue
        assert [(d.doc_id, p.idx) for d, p in prefs2] == [(d.doc_id, p.idx) for d, p in prefs]
        for a, b in zip(arrays, arrays2):
            assert np.array_equal(a[keep], b)


def test_code_point_tables_match_the_unicode_definitions():
    """Every code point the tables cover, checked one by one against Python's own Unicode data
    (the tables are built in bulk; a block whose lower case changes length is the odd case)."""
    import unicodedata

    from pipeline.text import chars
    t = chars.tables()
    letter, space, word, lower = (t[k].tolist() for k in ("letter", "space", "word", "lower"))
    for cp in range(chars.LIMIT):
        ch = chr(cp)
        low = ch.lower()
        assert letter[cp] == ch.isalpha() and space[cp] == ch.isspace(), hex(cp)
        assert word[cp] == (ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc")), hex(cp)
        assert lower[cp] == (ord(low) if len(low) == 1 else cp), hex(cp)
    in_script = 0
    for i, name in enumerate(chars.SCRIPT_NAMES):
        for lo, hi in chars.SCRIPTS[name]:
            assert (t["script"][lo:hi + 1] == i + 1).all(), name
            in_script += hi + 1 - lo
    assert int((t["script"] > 0).sum()) == in_script          # and no code point outside them
    # A few fixed points, so that a wrong reading of the definitions above cannot pass unseen.
    assert t["lower"][0x130] == 0x130 and t["lower"][ord("Ä")] == ord("ä") and t["lower"][ord("Ж")] == ord("ж")
    assert t["word"][0x301] and not t["letter"][0x301] and t["space"][0x3000]
    assert [chars.SCRIPT_NAMES[t["script"][ord(c)] - 1] for c in "aЖαعשあ한क" "ก"] == \
        ["latin", "cyrillic", "greek", "arabic", "hebrew", "cjk", "cjk", "devanagari", "thai"]


def test_a_document_never_loses_its_majority_as_foreign():
    """A German article whose language was read wrong (a hidden lorem ipsum made it Latin) keeps
    its German sentences and becomes German; the same sentences in a minority are removed."""
    de = ["An diesem Wochenende waren alle Kinder im Kindergartenalter in die Kirche eingeladen worden.",
          "Melanie Wehmeier ist eifrige Mitarbeiterin im Team, und das schon seit vielen Jahren.",
          "Der Grundsatz ist immer noch, dass wir den Kindern eine biblische Geschichte erzählen."]
    d = Document("d", " ".join(de), "d", (0, 0), "{}", lang="la", lang_score=0.9)
    segment_document(d, SegmentConfig())
    detect_sentences([d], LangidConfig())
    assert _flagged(d) == [] and d.lang == "de" and 0.8 <= d.lang_score <= 1
    en = SENTENCES["en"]
    d = _doc(f"{en} {de[0]} The council opened two shelters for families who cannot return home. "
             "Forecasters expect more rain later in the week, the regional office said on Monday.")
    assert d.lang == "en" and _flagged(d) == [(de[0], "de")]


def test_code_and_table_rows_are_in_no_language():
    """Code lines in a Japanese article and a table row of names in a German one are not foreign."""
    ja = "このプログラムはブラウザの中で動きます。次のように関数を宣言します。\n"
    code = ["fn Document_querySelector(document:i32,query:i32) -> i32;",
            "let canvas = Document_querySelector(d,cstr(\"#screen\"));"]
    d = Document("d", ja + "\n".join(code) + "\n" + ja, "d", (0, 0), "{}", lang="ja", lang_score=0.99)
    segment_document(d, SegmentConfig())
    detect_sentences([d], LangidConfig())
    assert _flagged(d) == []
    de = "Die Saison war für das Team eine große Enttäuschung, sagte der Teamchef am Sonntag in Monza. "
    row = "| vs. Teamkollege | Hartley | Verstappen/Kvyat | Kvyat | Tsunoda | Gasly | Ricciardo |"
    d = _doc(f"{de}\n{row}\n{de}")
    assert d.lang == "de" and _flagged(d) == []


def test_a_numbered_reference_keeps_the_language_of_its_title():
    """The bibliography of a German article lists English books: reference entries, not foreign."""
    de = ("Die Automatisierung verändert die Arbeitswelt schneller, als viele Politiker glauben wollen. "
          "Deshalb fordern wir eine offene Debatte über ein bedingungsloses Grundeinkommen in Deutschland.")
    ref = ("[1] Ford, Martin. 2016. The rise of the robots: technology and the threat of mass unemployment. "
           "Paperback edition. London: Oneworld.")
    d = _doc(f"{de}\n\n{de}\n\n{ref}")
    assert d.lang == "de" and _flagged(d) == []
    d = _doc(f"{de}\n\n{de}\n\n{ref[4:]}")          # the same title as a sentence of the text is foreign
    assert ("The rise of the robots: technology and the threat of mass unemployment.", "en") in _flagged(d)


def test_the_majority_is_the_largest_single_language_and_placeholder_weighs_nothing():
    """A German letter translated into Spanish and English stays German with the translations
    removed (each is smaller than the German text, though together they are larger); a German
    article beside a longer placeholder text ("lorem ipsum") read as Latin becomes German."""
    de = ["An diesem Wochenende waren alle Kinder im Kindergartenalter in die Kirche eingeladen worden.",
          "Melanie Wehmeier ist eifrige Mitarbeiterin im Team, und das schon seit vielen Jahren.",
          "Der Grundsatz ist immer noch, dass wir den Kindern eine biblische Geschichte erzählen."]
    es = ("Somos personas en Alemania, personas de todas las capas de la población que no se benefician de la "
          "crisis. Lamentamos lo que le está pasando a la población griega y lo sentimos por ustedes.")
    en = ("We are people of Germany, people from all parts of society, and we do not benefit from the crisis. "
          "We are so sorry about what is happening in Greece with the population and we feel with you.")
    d = Document("d", " ".join(de) + "\n\n" + es + "\n\n" + en, "d", (0, 0), "{}", lang="de", lang_score=0.6)
    segment_document(d, SegmentConfig())
    detect_sentences([d], LangidConfig())
    assert len(es) + len(en) > len(" ".join(de)) > max(len(es), len(en))
    assert d.lang == "de" and sorted(lang for _, lang in _flagged(d)) == ["en", "en", "es", "es"]
    lorem = ("Dolor ipsam et est cumque. Laboriosam sed delectus rerum sint qui natus tenetur ea. Tenetur debitis "
             "aspernatur sapiente quod repellat ipsa iure et laborum exercitationem. Eos quod nulla voluptatem ut id. "
             "Voluptatem consequuntur id illum dolorem quia quasi voluptas sed repellat ipsam.")
    d = Document("d", " ".join(de) + "\n\n" + lorem, "d", (0, 0), "{}", lang="la", lang_score=0.6)
    segment_document(d, SegmentConfig())
    detect_sentences([d], LangidConfig())
    assert d.lang == "de" and _flagged(d) == []
