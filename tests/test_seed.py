"""The seed article comes out as issue 2 specifies."""
import json

from tests.support import read_docs, read_ledger


def _norm(s):
    return " ".join(s.split())


def test_headline_and_us_russia_sentence_kept(seed_output):
    docs = read_docs(seed_output)
    assert len(docs) == 1
    text = docs[0]["text"]
    assert docs[0]["lang"] == "en"
    assert text.startswith("Russia blocks UN Security Council condemnation of Syria attack\n\n")
    assert ('Putin said Wednesday that U.S. -Russia relations have "degraded" since President Trump '
            'took office.') in text


def test_spanish_caption_removed_english_quotes_stay(seed_output):
    text = read_docs(seed_output)[0]["text"]
    ledger = read_ledger(seed_output)
    assert "El secretario de Estado" not in text
    rows = [r for r in ledger if r["text"].startswith("El secretario de Estado norteamericano")]
    assert len(rows) == 1
    row = rows[0]
    assert row["reason"] == "foreign_language"
    assert row["text"].endswith("el miércoles 12 de abril de 2017.")
    assert json.loads(row["detail"])["lang"] == "es"
    # the English quotes of the same paragraph stay
    assert '"And we suspect that they have help", a U.S. military official said on April 7.' in text
    assert '"I think it\'s very bad for mankind".' in text


def test_truncated_lines_in_ledger_and_real_us_sentence_kept(seed_output):
    text = read_docs(seed_output)[0]["text"]
    ledger = {r["text"]: r for r in read_ledger(seed_output)}
    for frag in ("Trump's comments on the state of U.S.", "While the most immediate U.S."):
        assert ledger[frag]["reason"] == "truncated"
        assert frag not in text
    assert "The U.S. says Syrian President Bashar Assad's government carried out the attack" in text


def test_byline_in_ledger(seed_output):
    ledger = read_ledger(seed_output)
    rows = [r for r in ledger if "Julie Sanders" in r["text"]]
    assert [r["reason"] for r in rows] == ["byline"]
    assert "Julie Sanders" not in read_docs(seed_output)[0]["text"]


def test_seed_conserved(seed_output):
    from tests.support import SEEDS
    original = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    kept = read_docs(seed_output)[0]["text"]
    removed = [r["text"] for r in read_ledger(seed_output)]
    squash = lambda s: "".join(s.split())
    assert sorted(squash(kept + "".join(removed))) == sorted(squash(original))
    # every removed span sits where the ledger says
    for r in read_ledger(seed_output):
        assert original[r["char_start"]:r["char_end"]].strip() == r["text"]
