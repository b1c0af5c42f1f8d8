"""The hand-off between the phases (run.handoff, run.tables): phase 2 works on columns.
What it builds must be exactly what the plain walk over the documents builds (``reference``, the
rule as README states it): a document the barrier drops keeps only its own ledger row and the rows
from reading; a dropped paragraph's row comes before those of its removed sentences; a document
whose paragraphs are all gone is counted as emptied; foreign sentences go to the ledger or, with
``partition``, to a row in their language."""
from __future__ import annotations

import json
from collections import Counter, defaultdict

import pyarrow as pa
import pytest

from pipeline.config import REASONS
from pipeline.io import atomic
from pipeline.io.inputs import TOO_LONG
from pipeline.io.schemas import DOCS_SCHEMA, LEDGER_SCHEMA
from pipeline.model import Document, Removal
from pipeline.run import tables as tables_mod
from pipeline.run.handoff import Handoff, handoff
from pipeline.run.stats import Counts
from pipeline.run.tables import build_tables
from pipeline.steps import langid
from pipeline.steps.filters.byline import BYLINE
from pipeline.steps.langid import FOREIGN_LANGUAGE, LangidConfig
from pipeline.steps.repair import EMPTY, REMOVED_CHARACTERS
from pipeline.steps.segment import SegmentConfig, segment_document

TEXTS = [
    "Storm closes schools\n\nThe regional council said emergency crews had rescued dozens of residents. "
    "Las autoridades pidieron a los vecinos que no se acercaran a las orillas del río durante la noche. "
    "Roads into the town centre remained closed on Tuesday morning.\n\n• Julie Sanders",
    "",
    "Kurz gemeldet\n\n" + "Nach vier Jahren Bauzeit ist die neue Brücke am Samstag für den Verkehr freigegeben worden. " * 3
    + "\n\nDie Stadt plant ein Fest am Wochenende, zu dem alle Bürger eingeladen sind.",
    "Talks resume in Geneva\n\nDiplomats from both sides met for four hours on Monday and agreed to meet again. "
    "El ministro dijo que la reunión fue productiva y que habrá otra la próxima semana en la capital. "
    "Officials declined to say what had been discussed.\n\nThe talks are the first in two years.",
    "Markets rally\n\nShares rose sharply in early trading as investors welcomed the central bank's decision.",
]


def _docs():
    docs = [Document(f"d{i}", t, f"src:{i}", (0, i * 10), json.dumps({"n": i})) for i, t in enumerate(TEXTS)]
    docs[1].remove(EMPTY, '{"chars": 0}')
    live = [d for d in docs if d.removed is None]
    langid.detect_documents(live, LangidConfig())
    for d in live:
        segment_document(d, SegmentConfig())
    langid.detect_sentences(live, LangidConfig())
    docs[0].paragraphs[2].remove(BYLINE, '{"rule": "bullet_name"}')
    docs[2].removals.append(Removal(REMOVED_CHARACTERS, '{"count": 1}', text="\\u200b"))
    docs[4].removals.append(Removal(TOO_LONG, "{}", text="rest", start=100, end=104))
    foreign = lambda s: s.removed is not None and s.removed.reason is FOREIGN_LANGUAGE
    assert any(foreign(s) for s in docs[0].paragraphs[1].sentences)
    assert any(foreign(s) for s in docs[3].paragraphs[1].sentences)
    return docs


def _decisions(rows):
    return pa.table({"file": pa.array([r[0] for r in rows], pa.int32()), "pos": pa.array([r[1] for r in rows], pa.int64()),
                     "para": pa.array([r[2] for r in rows], pa.int32()), "reason": [r[3] for r in rows],
                     "detail": [r[4] for r in rows]})


def reference(docs, decisions, run_id, routing):
    """The plain walk: decisions marked on the documents, then every document's rows in order."""
    by_key = defaultdict(list)
    if decisions is not None:
        for r in decisions.to_pylist():
            by_key[(r["file"], r["pos"])].append((r["para"], REASONS[r["reason"]], r["detail"]))
    for doc in docs:
        hits = by_key.get(doc.order)
        if hits and doc.removed is None:
            for para, reason, detail in hits:
                if para < 0:
                    doc.remove(reason, detail)
                elif doc.paragraphs[para].removed is None:
                    doc.paragraphs[para].remove(reason, detail)
    out, led, counts = {}, {f.name: [] for f in LEDGER_SCHEMA}, Counts()

    def add_doc(lang, doc, score, text):
        cols = out.setdefault(lang, {f.name: [] for f in DOCS_SCHEMA})
        for k, v in (("doc_id", doc.doc_id), ("lang", lang), ("lang_score", score), ("text", text),
                     ("source", doc.source), ("run_id", run_id), ("metadata", doc.metadata)):
            cols[k].append(v)
        counts.docs_out_by_lang[lang] += 1
        counts.chars_out_by_lang[lang] += len(text)

    def add_led(doc, text, removal, para, sent, start, end):
        for k, v in (("doc_id", doc.doc_id), ("text", text), ("reason", removal.reason.name), ("detail", removal.detail),
                     ("stage", removal.reason.stage), ("para_idx", para), ("sent_idx", sent),
                     ("char_start", start), ("char_end", end), ("source", doc.source), ("run_id", run_id)):
            led[k].append(v)
        counts.ledger_rows.setdefault(removal.reason.name, Counter())[doc.lang] += 1
        counts.ledger_chars[removal.reason.name] += len(text)

    for doc in docs:
        counts.docs_in += 1
        counts.chars_in += len(doc.text)
        counts.docs_in_by_lang[doc.lang] += 1
        counts.chars_in_by_lang[doc.lang] += len(doc.text)
        if doc.removed is not None:
            add_led(doc, doc.text, doc.removed, None, None, 0, len(doc.text))
        else:
            kept, routed = [], defaultdict(list)
            for p in doc.paragraphs:
                if p.removed is not None and p.remaining_text():
                    add_led(doc, p.remaining_text(), p.removed, p.idx, None, p.start, p.start + len(p.text))
                for si, s in enumerate(p.sentences):
                    text = p.text[s.start:s.end].strip()
                    if not s.removed or not text:
                        continue
                    if routing == "partition" and s.removed.reason is FOREIGN_LANGUAGE and s.lang:
                        routed[s.lang].append((p.idx, text, s.score))
                    else:
                        add_led(doc, text, s.removed, p.idx, si, p.start + s.start, p.start + s.start + len(text))
                if p.removed is None and p.remaining_text():
                    kept.append(p.remaining_text())
            if kept:
                add_doc(doc.lang, doc, doc.lang_score, "\n\n".join(kept))
            elif doc.paragraphs:
                counts.docs_emptied += 1
            for rlang in sorted(routed):
                paras = defaultdict(list)
                for para, text, _ in routed[rlang]:
                    paras[para].append(text)
                add_doc(rlang, doc, min(x[2] for x in routed[rlang]), "\n\n".join(" ".join(t) for t in paras.values()))
        for x in doc.removals:
            add_led(doc, x.text, x, None, None, x.start, x.end)
    return ({k: pa.Table.from_pydict(v, schema=DOCS_SCHEMA) for k, v in out.items()},
            pa.Table.from_pydict(led, schema=LEDGER_SCHEMA), counts)


CASES = {
    "no decisions": [],
    "document dropped": [(0, 0, -1, "duplicate_document", '{"kept_doc_id": "x"}')],
    "paragraph with a removed sentence dropped": [(0, 0, 1, "duplicate_near", '{"similarity": 0.9}')],
    "paragraphs of several documents, one twice": [
        (0, 30, 2, "duplicate_exact", "{}"), (0, 20, 1, "duplicate_exact", '{"first": 1}'),
        (0, 20, 1, "duplicate_near", '{"second": 1}'), (0, 40, 0, "duplicate_exact", "{}")],
    "every paragraph dropped (emptied)": [(0, 40, 0, "duplicate_exact", "{}"), (0, 40, 1, "duplicate_exact", "{}")],
    "document and its paragraph": [(0, 30, 2, "duplicate_exact", "{}"), (0, 30, -1, "duplicate_document", "{}")],
    "removed paragraph, removed document, unknown document": [
        (0, 0, 2, "duplicate_exact", "{}"), (0, 10, -1, "duplicate_document", "{}"), (7, 0, -1, "duplicate_document", "{}")],
}


@pytest.mark.parametrize("routing", ["ledger", "partition"])
@pytest.mark.parametrize("case", list(CASES))
def test_columns_give_what_the_walk_over_documents_gives(tmp_path, case, routing):
    decisions = _decisions(CASES[case]) if CASES[case] else None
    h = handoff(_docs(), routing)
    h.write(str(tmp_path / "00000"))                         # through the files, as between the phases
    tables, ledger, counts = build_tables(Handoff.read(str(tmp_path / "00000")), decisions, "run")
    ref_tables, ref_ledger, ref_counts = reference(_docs(), decisions, "run", routing)
    assert sorted(tables) == sorted(ref_tables)
    for lang, t in tables.items():
        assert t.schema == DOCS_SCHEMA and t.equals(ref_tables[lang]), lang
    assert ledger.schema == LEDGER_SCHEMA
    assert ledger.to_pylist() == ref_ledger.to_pylist()
    assert counts == ref_counts
    if case == "every paragraph dropped (emptied)":
        assert counts.docs_emptied == 1 and "d4" not in [x for t in tables.values() for x in t["doc_id"].to_pylist()]
    if case == "paragraph with a removed sentence dropped":
        rows = [r for r in ledger.to_pylist() if r["doc_id"] == "d0"]
        assert [(r["reason"], r["para_idx"]) for r in rows][:2] == [("duplicate_near", 1), ("foreign_language", 1)] \
            or routing == "partition"


def test_text_past_a_string_arrays_limit_is_cut_into_chunks(tmp_path, monkeypatch):
    """A shard's kept or removed text may pass the 2 GB a plain string array holds: phase 2 works in
    large strings and hands plain strings back in chunks (here of 200 bytes instead of 1 GB)."""
    monkeypatch.setattr(tables_mod, "_CHUNK_BYTES", 200)
    decisions = _decisions(CASES["removed paragraph, removed document, unknown document"])
    h = handoff(_docs(), "ledger")
    tables, ledger, counts = build_tables(h, decisions, "run")
    ref_tables, ref_ledger, ref_counts = reference(_docs(), decisions, "run", "ledger")
    assert ledger.column("text").num_chunks > 1 and tables["en"].column("text").num_chunks > 1
    assert ledger.to_pylist() == ref_ledger.to_pylist() and counts == ref_counts
    assert {k: t.to_pylist() for k, t in tables.items()} == {k: t.to_pylist() for k, t in ref_tables.items()}
    path = tmp_path / "l.parquet"
    atomic.write_table(ledger, str(path))
    assert atomic.read_table(str(path)).to_pylist() == ref_ledger.to_pylist()


def test_a_decision_for_a_paragraph_the_document_lacks_stops_the_shard():
    """Decisions from another run's work folder must not be half applied."""
    h = handoff(_docs(), "ledger")
    with pytest.raises(ValueError, match="paragraph 9 of document 4"):
        build_tables(h, _decisions([(0, 40, 9, "duplicate_exact", "{}")]), "run")


def test_a_shard_without_documents_ignores_decisions():
    h = handoff([], "ledger")
    tables, ledger, counts = build_tables(h, _decisions([(0, 40, 0, "duplicate_exact", "{}")]), "run")
    assert tables == {} and ledger.num_rows == 0 and counts.docs_in == 0


def test_an_earlier_attempts_routed_rows_are_not_read(tmp_path):
    base = str(tmp_path / "00000")
    handoff(_docs(), "partition").write(base)
    assert (tmp_path / "00000.routed.parquet").exists()
    handoff(_docs(), "ledger").write(base)
    assert not (tmp_path / "00000.routed.parquet").exists()
    assert Handoff.read(base).routed.num_rows == 0
