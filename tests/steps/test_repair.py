"""Encoding repair: mojibake of several scripts undone, correct text untouched."""
import pytest

from pipeline.steps.repair import RepairConfig
from pipeline.steps.repair import repair_text

CFG = RepairConfig()

CLEAN = [
    "Der Bürgermeister sprach von einem „großen Tag“ für die Stadt.",
    "L’été dernier, M. Dupont a dit : « Ça suffit ! »",
    "Президент заявил, что переговоры «прошли успешно».",
    "افتتحت البلدية يوم الأحد مكتبة عامة جديدة.",
    "经过一年的改造，市中心公园于周六重新向市民开放。",
    "東京都は新しい計画を発表した。",
    "He said “it’s over” — and left… for good. 5 € only; naïve café façade.",
    "Ünïcödé 'quotes' & <tags> &amp; stay as they are.",
    "Mixed: Ελληνικά, עברית, हिन्दी, ไทย.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_correct_text_is_unchanged(text):
    res = repair_text(text, CFG)
    assert res.text == text
    assert not res.counts


GOOD = [
    "Der Bürgermeister sprach von einem großen Tag für die Stadt.",
    "Президент заявил, что переговоры прошли успешно и будут продолжены.",
    "افتتحت البلدية يوم الأحد مكتبة عامة جديدة في وسط المدينة.",
    "经过一年的改造，市中心公园于周六重新向市民开放。",
]
CODECS = ["cp1252", "latin-1", "cp1251", "koi8_r", "cp1256", "gbk", "mac_roman"]


def _decodable(codec, text):
    try:
        text.encode("utf-8").decode(codec)
        return True
    except UnicodeDecodeError:
        return False


CASES = [(c, g) for c in CODECS for g in GOOD if _decodable(c, g)]


def test_every_codec_has_cases():
    assert {c for c, _ in CASES} == set(CODECS)


@pytest.mark.parametrize("codec, good", CASES)
def test_utf8_read_as_legacy_codec_is_repaired(codec, good):
    broken = good.encode("utf-8").decode(codec)
    assert broken != good
    fixed = repair_text("Headline\n\n" + broken + "\n\nThe end.", CFG).text
    assert fixed == "Headline\n\n" + good + "\n\nThe end."


def test_double_encoded_text_is_repaired():
    good = "Café Olé, naïve résumé à Paris"
    broken = good.encode("utf-8").decode("cp1252").encode("utf-8").decode("cp1252")
    assert broken.startswith("CafÃƒÂ©")
    assert repair_text(broken, CFG).text == good


def test_controls_zero_width_and_bidi_removed_but_joiners_kept():
    text = "Hello\x00 wor\u200bld\x07!\u202e Emoji 👩\u200d💻 and Persian می\u200cخواهم.\ufeff"
    res = repair_text(text, CFG)
    assert res.text == "Hello world! Emoji 👩\u200d💻 and Persian می\u200cخواهم."
    assert res.counts["repair-control_removed"] == 5
    assert res.removed == {"chars": "\x00\u200b\x07\u202e\ufeff",
                           "kinds": {"bidi_control": 1, "control": 2, "zero_width": 2}}


def test_nfc_and_line_endings():
    res = repair_text("Cafe\u0301\r\nnext\rline", CFG)
    assert res.text == "Café\nnext\nline"


def test_disabled_repair_is_identity():
    text = "Ã©t\x00Ã©"
    assert repair_text(text, RepairConfig(enabled=False)).text == text


@pytest.mark.parametrize("broken, good", [
    # Cyrillic through cp1251 keeps byte 0x98 as a C1 control ("И" is D0 98)
    ("РЎР»РѕР¶РЅРѕ РїСЂРµРґСЃС‚Р°РІРёС‚СЊ, С‡С‚Рѕ РІ Р\x98С‚Р°Р»РёРё РјРµС‚СЂРѕ",
     "Сложно представить, что в Италии метро"),
    ("A cama n√£o era um leito de enferma.", "A cama não era um leito de enferma."),      # mac-roman, one letter
    ("MĂĄm dost tĹ\x99etĂ\xadho tisĂ\xadciletĂ\xad", "Mám dost třetího tisíciletí"),       # cp1250
    ("#╨┐╤Ç╨░╨▓╨╕╨╗╤î╨╜╨╛╨╡", "#правильное"),                                            # cp437
    ("La rГ©gion se trouve Г  lвЂ™ouest", "La région se trouve à l’ouest"),              # cp1251, Latin
])
def test_real_world_mojibake(broken, good):
    assert repair_text(broken, CFG).text == good


def test_lossy_gbk_mojibake_is_mostly_recovered():
    good = "超過330名船員在船上。維加提出，因為這些東西年代久遠，很多人不知道它的歷史。"
    broken = good.encode("utf-8").decode("gbk", "replace")
    assert "\ufffd" in broken
    fixed = repair_text(broken, CFG).text
    assert fixed != broken
    same = sum(a == b for a, b in zip(fixed, good))
    assert len(fixed) == len(good) and same >= len(good) - 3


@pytest.mark.parametrize("text", ["2012—∞", "OK??:(   `¬´    ):", "√2 ≈ 1.414", "“École” est fermée."])
def test_lookalikes_are_left_alone(text):
    assert repair_text(text, CFG).text == text


def test_batch_scan_hints_change_nothing_and_skip_clean_text():
    """``scan`` tells which gates could match a document; with its hint ``repair_text`` gives the
    same result, and plain text in Latin script gets no gate bit (its regexes are skipped)."""
    from pipeline.steps.repair import _FTFY_BITS, scan
    broken = []
    for good in ("Президент заявил, что переговоры прошли успешно.", "افتتحت البلدية يوم الأحد مكتبة عامة جديدة.",
                 "经过一年的改造，市中心公园于周六重新向市民开放。", "Ça va très bien, merci — à demain!"):
        for codec in ("cp1252", "latin-1", "cp1251", "koi8_r", "cp1256", "gbk", "mac_roman"):
            broken.append("Intro.\n\n" + good.encode("utf-8").decode(codec, "replace") + "\n\nThe end.")
    odd = ["a\x00b\u200bc\ufeffd\x85e", "x\ud800y", "l\x92homme", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 √é", "\r\nline\rnext\r\n\r\nÃ©", "",
           "Ð\n\n¿"]
    texts = CLEAN + broken + odd
    hints = scan(texts, CFG)
    for text, hint in zip(texts, hints):
        a, b = repair_text(text, CFG), repair_text(text, CFG, hint)
        assert (a.text, a.counts, a.removed) == (b.text, b.counts, b.removed), text
    assert sum(repair_text(t, CFG).text != t for t in broken) >= 20      # the repairs did happen
    assert scan(["The mayor said the new bridge opens on Monday."], CFG) == [0]
    assert all(h & _FTFY_BITS for h in scan(["Ã©t", "√©t", "‚Äôs", "РЎР»"], CFG))
    # accented letters and Cyrillic capitals before letters are not pairs of any one gate
    assert scan(["Ça va très bien, à demain!", "Сегодня в Москве. Результат"], CFG) == [1, 1]


def test_scan_table_never_misses_a_pair_of_ftfys_gate():
    """Every pair of characters that the ftfy gate matches (each of its first characters before
    every character of the Basic Multilingual Plane) has a start bit followed by that same group's
    follow bit in the pre-scan's table: the scan can only be too cautious, never skip a repair."""
    import re

    import numpy as np

    from pipeline.steps.repair import _FTFY_BITS, _PAIRS, MOJIBAKE_GATE, _scan_table
    table = _scan_table(tuple(CFG.legacy_codecs))
    firsts = sorted({m.group() for f, _ in _PAIRS for m in re.finditer(f, "".join(map(chr, range(0x10000))))})
    assert 60 <= len(firsts) <= 100
    follows = np.arange(0x10000)
    bmp = "".join(map(chr, range(0x10000)))
    for c1 in firsts:
        text = "".join(c1 + c2 + "\n" for c2 in bmp)          # a pair per line: matches cannot overlap
        matched = np.zeros(0x10000, bool)
        starts = [m.start() for m in MOJIBAKE_GATE.finditer(text)]
        assert all(k % 3 == 0 for k in starts)                   # a match is a first character and its follower
        matched[[k // 3 for k in starts]] = True
        bits = table[ord(c1)] & table[follows] >> np.uint32(1) & np.uint32(_FTFY_BITS)
        assert matched.any() and not (matched & (bits == 0)).any(), (c1, np.flatnonzero(matched & (bits == 0))[:5])


def test_rejected_legacy_codecs_leave_no_garbage():
    """Text that a legacy codec cannot have produced (Chinese or French in cp1251, gbk ...) is
    rejected inside an encoding error handler; that must not leave a reference cycle through
    the callers' frames, which would keep a whole shard's documents alive until the cyclic
    collector runs (it is off while a shard is processed)."""
    import gc
    texts = ["西蒙（Simon Krätschmer）在破舊、危險的軍營中獨自探索。",
             "Nos téléphones portables sont tellement plus que ça, de nos jours. C'est impressionnant."]
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        assert [repair_text(t, RepairConfig()).text for t in texts] == texts
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
