"""The in-memory barrier: exact and near copies, keeper rules, what it does with missing files,
and the same decisions with its band pass and Jaccard on workers."""
import json
import pickle
import random
import re

import numpy as np
import pytest

from pipeline.dedup import DedupConfig, ranges, resolve, store
from pipeline.dedup.keys import KEY_FILES, MissingKeys, Segment
from pipeline.run.executors import LocalExecutor
from tests.dedup.support import BASE, WORDS, decide, decide_by_ranges, doc, keys_of


def _resolve(docs_by_shard, tmp_path, **cfg):
    c = DedupConfig(**cfg)
    tmp_path.mkdir(exist_ok=True)
    segs = []
    for shard, docs in enumerate(docs_by_shard):
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    return decide(segs, c).to_pylist()


def test_a_segment_without_its_files_is_an_error(tmp_path):
    """The barrier never skips a segment whose key files are gone (in memory or by ranges): it
    would keep the copies that segment holds."""
    c = DedupConfig()
    segs = []
    for shard, paras in enumerate([BASE, BASE]):
        keys_of([doc(f"d{shard}", shard, 0, paras)], c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    assert decide(segs, c).column("reason").to_pylist() == ["duplicate_document"]     # the second copy
    for suffix in KEY_FILES:
        path = tmp_path / f"00001{suffix}"
        saved = path.read_bytes()
        path.unlink()
        for fn in (lambda: decide(segs, c), lambda: resolve.barrier_items(segs),
                   lambda: decide_by_ranges(segs, c, tmp=str(tmp_path))):
            with pytest.raises(MissingKeys, match=re.escape(f"shard 1's dedup keys: {path} is missing")):
                fn()
        path.write_bytes(saved)
    err = pickle.loads(pickle.dumps(MissingKeys("a segment: x is missing", True)))   # from a worker
    assert str(err) == "a segment: x is missing" and err.hist

def test_exact_and_near_across_shards_keep_first(tmp_path):
    near = [p.replace("said", "stated").replace("more than", "over") for p in BASE]
    a = doc("a", 0, 0, BASE)
    b = doc("b", 1, 0, ["An unrelated headline about markets"] + [BASE[1]])          # exact paragraph
    c = doc("c", 2, 0, near)                                                          # near document
    rows = _resolve([[a], [b], [c]], tmp_path)
    by = {(r["shard"], r["para"]): r for r in rows}
    assert by[(2, -1)]["reason"] == "duplicate_document"
    det = json.loads(by[(2, -1)]["detail"])
    assert det["kept_doc_id"] == "a" and det["match"] == "near" and 0.3 < det["similarity"] < 1
    assert by[(1, 1)]["reason"] == "duplicate_exact"
    assert json.loads(by[(1, 1)]["detail"]) == {"kept_doc_id": "a", "kept_para_idx": 1, "kept_in": "this run",
                                                "match": "exact", "similarity": 1.0}
    assert len(rows) == 2

def test_keep_longest_rule(tmp_path):
    short = doc("short", 0, 0, BASE[:2])
    long = doc("long", 1, 0, BASE)
    rows = _resolve([[short], [long]], tmp_path / "l", keep="longest", paragraphs=True)
    assert {(r["shard"], r["para"], r["reason"]) for r in rows} == {(0, -1, "duplicate_document")}
    rows = _resolve([[short], [long]], tmp_path / "f", keep="first")
    assert {(r["shard"], r["para"], r["reason"]) for r in rows} == {(1, -1, "duplicate_document")}

def test_same_topic_written_independently_is_kept(tmp_path):
    other = doc("o", 1, 0, [
        "Schools across the region stayed shut on Monday because of flooding, according to the authorities.",
        "Rescue teams helped many people leave their houses close to the river during the weekend.",
        "More storms are forecast and two emergency shelters have been opened by the local council.",
    ])
    assert _resolve([[doc("a", 0, 0, BASE)], [other]], tmp_path) == []

def test_decisions_do_not_depend_on_shard_layout(tmp_path):
    rng = random.Random(5)
    docs = []
    for i in range(40):
        paras = [" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(3)]
        if i % 5 == 0 and docs:
            paras[1] = docs[rng.randrange(len(docs))].paragraphs[0].text
        docs.append(doc(f"d{i}", 0, i, paras))
    one = _resolve([docs], tmp_path / "one")
    many = _resolve([docs[i:i + 7] for i in range(0, 40, 7)], tmp_path / "many")
    strip = lambda rows: sorted((r["file"], r["pos"], r["para"], r["reason"], r["detail"]) for r in rows)
    assert strip(one) == strip(many) and len(one) >= 5

def test_decision_details_are_json_whatever_the_kept_ids(tmp_path):
    """The barrier writes each drop's detail column by column; a kept document id with quotes,
    backslashes, control characters or other scripts still gives the JSON ``json.dumps`` writes."""
    ids = ['plain-1', 'say "hi"\\there', 'tab\tand\nnewline\x01', 'Zürich/東京 ✓']
    firsts = BASE + ["Shares of the largest carmaker fell sharply after it cut its sales forecast for the year."]
    docs = [doc(i, 0, k, [firsts[k], f"Unrelated closing line {k} of the item."]) for k, i in enumerate(ids)]
    copies = [doc(f"copy-{k}", 1, k, [d.paragraphs[0].text]) for k, d in enumerate(docs)]
    rows = _resolve([docs, copies], tmp_path)
    kept = {json.loads(r["detail"])["kept_doc_id"] for r in rows}
    assert kept == set(ids) and len(rows) == 4
    for r in rows:
        det = json.loads(r["detail"])
        assert r["detail"] == json.dumps(det, ensure_ascii=False, sort_keys=True)
        assert 0.5 <= det["similarity"] <= 1 and det["match"] in ("exact", "near")

def test_band_pass_on_workers_gives_the_same_decisions(monkeypatch, tmp_path):
    """The barrier's LSH band pass spread over two worker processes decides exactly as in one, and
    so does the Jaccard of the pairs when their signatures do not fit the driver's buffer and are
    scored on the workers, a few pairs per task (by either barrier)."""
    rng = random.Random(5)
    shards = []
    for shard in range(3):
        docs = []
        for i in range(40):
            words = [rng.choice(WORDS) for _ in range(30)]
            paras = [" ".join(words[:15]) + ".", " ".join(words[15:]) + "."]
            if i % 4 == 0 and shards:                       # near copy of an earlier document
                src = shards[0][i].paragraphs
                w = src[0].text.split()
                paras = [" ".join(w[:7] + ["changed"] + w[8:]), src[1].text + " Officials said."]
            docs.append(doc(f"s{shard}-{i}", shard, i, paras))
        shards.append(docs)
    c = DedupConfig()
    segs = []
    for shard, docs in enumerate(shards):
        keys_of(docs, c).write(str(tmp_path / f"{shard:05d}"))
        segs.append(Segment(str(tmp_path / f"{shard:05d}"), shard=shard))
    serial = decide(segs, c)
    monkeypatch.setattr(resolve, "PARALLEL_MIN_ITEMS", 1)
    ex = LocalExecutor(2)
    try:
        stats = {}
        parallel = decide(segs, c, parallel_map=ex.map, tmp=str(tmp_path / "tmp"), stats=stats)
    finally:
        ex.close()
    assert serial.num_rows >= 20
    assert "near" in "".join(serial.column("detail").to_pylist())
    assert parallel.equals(serial)
    assert stats["worker_cpu"] > 0
    assert not list((tmp_path / "tmp").iterdir())          # the hand-off file is removed
    monkeypatch.setattr(store, "SIG_BUFFER", 0)
    monkeypatch.setattr(store, "PAIRS_PER_TASK", 3)
    calls = []
    task = store.jaccard_task
    monkeypatch.setattr(store, "jaccard_task", lambda *a: calls.append(a[4] - a[3]) or task(*a))
    assert decide(segs, c).equals(serial)                  # chunked in the driver: no tasks
    assert not calls
    reader = resolve.Corpus(segs)
    pick = np.random.default_rng(3).integers(0, len(reader), (2, 40))      # unsorted, repeats
    serial_map = lambda fn, args: [fn(*a) for a in args]
    want = reader.jaccard(pick[0], pick[1])
    assert 0 < want.mean() < 1
    assert np.array_equal(reader._jaccard_on_workers(pick[0], pick[1], serial_map, str(tmp_path / "j")), want)
    assert len(calls) == 14
    calls.clear()
    def failing_map(fn, args):
        if fn is store.jaccard_task:
            raise RuntimeError("a worker died")
        return serial_map(fn, args)

    monkeypatch.setattr(store, "task_cpu", lambda t0, driver: 1.0)     # each Jaccard task's CPU, as reported
    ex = LocalExecutor(2)
    try:
        for name, fn in (("memory", resolve.resolve), ("ranges", ranges.resolve)):
            table = decide if name == "memory" else decide_by_ranges
            stats = {}
            got = table(segs, c, parallel_map=serial_map, tmp=str(tmp_path / name), stats=stats)
            assert got.equals(serial), name
            assert len(calls) >= 4 and max(calls) == 3, name         # several tasks of 3 pairs
            with monkeypatch.context() as m:                          # the same without Jaccard tasks
                m.setattr(store, "SIG_BUFFER", 1 << 30)
                without = {}
                table(segs, c, parallel_map=serial_map, tmp=str(tmp_path / name), stats=without)
            assert stats["worker_cpu"] - without["worker_cpu"] == len(calls), name      # each one counted
            calls.clear()
            with pytest.raises(RuntimeError, match="a worker died"):
                fn(segs, c, str(tmp_path / "d.parquet"), parallel_map=failing_map, tmp=str(tmp_path / name))
            assert not list((tmp_path / name).iterdir()), name      # the pairs file is removed
            monkeypatch.setattr(store, "jaccard_task", task)       # the workers need it by name
            got = table(segs, c, parallel_map=ex.map, tmp=str(tmp_path / name), stats=stats)
            monkeypatch.setattr(store, "jaccard_task", lambda *a: calls.append(a[4] - a[3]) or task(*a))
            assert got.equals(serial) and stats["worker_cpu"] > 0, name
            assert not list((tmp_path / name).iterdir()), name
    finally:
        ex.close()


def test_short_repeated_lines_are_not_paragraph_duplicates(tmp_path):
    """A live ticker's "45'" and a footnote's "[45]", or "2 łyżki" twice in a recipe, are no
    duplicate content: paragraphs under ``min_paragraph_chars`` are never deduplicated as
    paragraphs (their documents still are)."""
    short = ["45'", "2 łyżki cukru", "Read more"]
    a = doc("a", 0, 0, [BASE[0], *short])
    b = doc("b", 1, 0, ["[45]", "2 łyżki cukru", "Read more", BASE[2]])
    assert _resolve([[a], [b]], tmp_path / "default") == []
    rows = _resolve([[a], [b]], tmp_path / "zero", min_paragraph_chars=0)
    assert {(r["shard"], r["para"], r["reason"]) for r in rows} == {
        (1, 0, "duplicate_exact"), (1, 1, "duplicate_exact"), (1, 2, "duplicate_exact")}
