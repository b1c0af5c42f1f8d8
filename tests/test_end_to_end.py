"""Output contract, conservation, determinism, resume and cross-run history on a small corpus."""
import json
import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from pipeline.config import REASONS
from pipeline.io.schemas import DOCS_SCHEMA, LEDGER_SCHEMA
from pipeline.steps import repair
from pipeline.steps.repair import RepairConfig
from tests.support import CORPUS, ROOT, exact_hash, file_bytes, make_config, read_docs, read_ledger, run_pipeline
from tests.support import shards_input as _shards_input


def _input_records():
    recs = []
    for n, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        try:
            recs.append((n, json.loads(line)))
        except ValueError:
            recs.append((n, None))
    return recs


def test_schema_is_fixed(corpus_output):
    for path in (corpus_output / "docs").rglob("*.parquet"):
        assert pq.read_schema(path).remove_metadata() == DOCS_SCHEMA
        lang = path.parent.name.split("=", 1)[1]
        assert set(pq.read_table(path).column("lang").to_pylist()) == {lang}
    for path in (corpus_output / "ledger").rglob("*.parquet"):
        assert pq.read_schema(path).remove_metadata() == LEDGER_SCHEMA
    assert {r["reason"] for r in read_ledger(corpus_output)} <= set(REASONS)


def test_every_record_accounted_for(corpus_output):
    """Conservation: each input text is, up to whitespace, its kept text plus its ledger spans."""
    docs = {}
    for d in read_docs(corpus_output):
        docs.setdefault(d["doc_id"], []).append(d["text"])
    ledger = {}
    for r in read_ledger(corpus_output):
        ledger.setdefault(r["doc_id"], []).append(r)
    squash = lambda s: "".join(s.split())
    for n, rec in _input_records():
        if rec is None or not isinstance(rec.get("text"), str):
            key = rec["id"] if rec and "id" in rec else f"corpus.jsonl:{n}"
            assert [r["reason"] for r in ledger[key]] == ["invalid_input"]
            assert ledger[key][0]["source"] == f"corpus.jsonl:{n}"
            continue
        text = repair.repair_text(rec["text"], RepairConfig()).text
        pieces = docs.get(rec["id"], []) + [r["text"] for r in ledger.get(rec["id"], [])]
        assert sorted(squash("".join(pieces))) == sorted(squash(text)), rec["id"]
        for r in ledger.get(rec["id"], []):
            assert text[r["char_start"]:r["char_end"]].strip() == r["text"].strip()


def test_metadata_passes_through(corpus_output):
    d = next(d for d in read_docs(corpus_output) if d["doc_id"] == "en-1")
    assert json.loads(d["metadata"]) == {"source_site": "example-news", "year": 2024}
    assert d["source"] == "corpus.jsonl:1"


def test_languages_partitioned(corpus_output):
    langs = {d["doc_id"]: d["lang"] for d in read_docs(corpus_output)}
    assert langs["de-1"] == "de" and langs["fr-1"] == "fr" and langs["es-1"] == "es"
    assert langs["ru-1"] == "ru" and langs["zh-1"] == "zh" and langs["ar-1"] == "ar"
    assert {p.name for p in (corpus_output / "docs").iterdir()} >= {"lang=en", "lang=de", "lang=zh"}


def test_duplicates_point_at_kept_copy(corpus_output):
    ledger = read_ledger(corpus_output)
    doc_dup = [r for r in ledger if r["reason"] == "duplicate_document"]
    assert [r["doc_id"] for r in doc_dup] == ["en-1-copy"]
    assert json.loads(doc_dup[0]["detail"])["kept_doc_id"] == "en-1"
    para_dup = [r for r in ledger if r["reason"] == "duplicate_exact"]
    assert [(r["doc_id"], json.loads(r["detail"])["kept_doc_id"]) for r in para_dup] == [("en-3", "en-2")]
    # the same-topic article written independently is kept
    assert "en-4" in {d["doc_id"] for d in read_docs(corpus_output)}


def test_manifest_and_stats(corpus_output):
    m = json.loads((corpus_output / "manifest.json").read_text())
    assert m["inputs"][0]["path"] == "corpus.jsonl" and len(m["inputs"][0]["xxh3_128"]) == 32
    for f in m["outputs"]:
        assert (corpus_output / f["path"]).stat().st_size == f["bytes"]
    s = json.loads((corpus_output / "stats.json").read_text())
    assert s["documents"]["in"] == 15
    assert s["ledger"]["by_reason"]["foreign_language"]["rows"] == 2
    assert set(s["timing"]["cpu_seconds"]) >= {"read", "repair", "segment", "langid", "filters", "dedup", "write"}
    assert not (corpus_output / "_work").exists()


def test_same_bytes_for_any_worker_count_and_shard_size(tmp_path):
    src = _shards_input(tmp_path)
    a = run_pipeline([src], tmp_path / "a", **{"executor.workers": 1})
    b = run_pipeline([src], tmp_path / "b", **{"executor.workers": 2, "input.shard_size_mb": 0.001})
    assert b.stats["inputs"]["shards"] > a.stats["inputs"]["shards"]
    da = sorted((d["doc_id"], d["lang"], d["text"]) for d in read_docs(tmp_path / "a"))
    db = sorted((d["doc_id"], d["lang"], d["text"]) for d in read_docs(tmp_path / "b"))
    assert da == db
    la = sorted((r["doc_id"], r["reason"], r["text"], r["detail"]) for r in read_ledger(tmp_path / "a"))
    lb = sorted((r["doc_id"], r["reason"], r["text"], r["detail"]) for r in read_ledger(tmp_path / "b"))
    assert la == lb
    # same shards, different worker counts: byte-identical files
    c = run_pipeline([src], tmp_path / "c", **{"executor.workers": 2, "input.shard_size_mb": 0.001})
    assert c.run_id == b.run_id
    assert file_bytes(tmp_path / "b") == file_bytes(tmp_path / "c")
    sb = json.loads((tmp_path / "b" / "stats.json").read_text())
    sc = json.loads((tmp_path / "c" / "stats.json").read_text())
    sb.pop("timing"), sc.pop("timing")
    assert sb == sc
    # the dedup barrier by hash ranges on the workers: the same bytes and counts
    d = run_pipeline([src], tmp_path / "d", **{"executor.workers": 2, "input.shard_size_mb": 0.001,
                                                "executor.barrier": "ranges"})
    assert d.run_id == b.run_id and d.stats["timing"]["barrier"] == "ranges"
    assert file_bytes(tmp_path / "d") == file_bytes(tmp_path / "b")
    sd = json.loads((tmp_path / "d" / "stats.json").read_text())
    sd.pop("timing")
    assert sd == sb and sb["dedup"]["decisions"] > 0


def test_command_line_workers_give_the_same_bytes(tmp_path):
    """The command line's workers (forked from a warmed-up fork server) write what one worker in
    this process writes."""
    src = _shards_input(tmp_path)
    ref = run_pipeline([src], tmp_path / "ref", **{"executor.workers": 1, "input.shard_size_mb": 0.001})
    r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"),
                        "--input", str(src), "--output", str(tmp_path / "cli"), "--workers", "2", "--quiet",
                        "--set", "input.shard_size_mb=0.001"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ref.stats["inputs"]["shards"] > 2
    assert file_bytes(tmp_path / "cli") == file_bytes(tmp_path / "ref")


def test_parquet_timestamps_read_the_same_in_any_process(tmp_path):
    """Metadata columns of a Parquet input (nanosecond timestamps, as pandas writes them, durations,
    times of day, nested and in an extension type) come out the same from the command line, in its
    own process and its workers, as from this process, with one worker or two."""
    import datetime as dt

    import pyarrow as pa
    src = tmp_path / "in"
    src.mkdir()
    texts = [p for p in (ROOT / "seeds" / os.listdir(ROOT / "seeds")[0]).read_text(encoding="utf-8").split("\n\n")
             if len(p) > 80]
    ns = [1_700_000_000_000_000_001, 1_700_000_000_000_000_000]
    columns = {                          # each in a file of its own: any one of them needs pandas
        "ts": pa.array(ns, pa.timestamp("ns")),
        "took": pa.array([1_001, 5_000], pa.duration("ns")),
        "at": pa.array([1_000_000_001, 2_000_000_000], pa.time64("ns")),
        "seen": pa.array([[ns[0]], []], pa.list_(pa.timestamp("ns", "UTC"))),
        "span": pa.array([{"took": 7}, None], pa.struct([("took", pa.duration("ns"))])),
    }
    if hasattr(pa, "opaque"):            # a canonical extension type, kept by Parquet (pyarrow >= 18)
        columns["wrapped"] = pa.ExtensionArray.from_storage(pa.opaque(pa.timestamp("ns"), "t", "v"),
                                                            pa.array([ns[1], ns[1] + 1_000], pa.timestamp("ns")))
    for f, (name, col) in enumerate(columns.items()):
        pq.write_table(pa.table({"id": [f"p{f}-0", f"p{f}-1"], "text": texts[2 * f:2 * f + 2], name: col,
                                 "day": [dt.date(2026, 12, 1), None]}), src / f"part-{f}.parquet")
    ref = run_pipeline([src], tmp_path / "ref", **{"executor.workers": 1})
    assert ref.stats["inputs"]["shards"] == len(columns)
    for workers in ("1", "2"):
        r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"),
                            "--input", str(src), "--output", str(tmp_path / f"cli{workers}"), "--workers", workers,
                            "--quiet"], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert file_bytes(tmp_path / f"cli{workers}") == file_bytes(tmp_path / "ref"), workers
    meta: dict = {}
    for d in read_docs(tmp_path / "ref"):
        for k, v in json.loads(d["metadata"]).items():
            meta.setdefault(k, []).append(v)
    assert set(columns) <= set(meta)
    assert "2023-11-14 22:13:20.000000001" in meta["ts"]               # pandas' nanoseconds


def test_second_night_drops_what_first_night_emitted(tmp_path):
    state = tmp_path / "state"
    night1 = tmp_path / "n1.jsonl"
    night2 = tmp_path / "n2.jsonl"
    lines = CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)
    night1.write_text("".join(lines[:3]), encoding="utf-8")           # en-1, en-2, de-1
    night2.write_text("".join(lines[3:10]), encoding="utf-8")         # ... en-1-copy, en-3
    run_pipeline([night1], tmp_path / "o1", **{"output.state": str(state)})
    seg1 = next((state / "index").glob("run-*.keys.parquet"))
    r2 = run_pipeline([night2], tmp_path / "o2", **{"output.state": str(state)})
    assert r2.stats["dedup"]["history_rows"] == pq.ParquetFile(seg1).metadata.num_rows > 0
    led = read_ledger(tmp_path / "o2")
    dup = {r["doc_id"]: json.loads(r["detail"]) for r in led if r["reason"].startswith("duplicate")}
    assert dup["en-1-copy"]["kept_doc_id"] == "en-1" and dup["en-1-copy"]["kept_in"].startswith("run ")
    assert dup["en-3"]["kept_doc_id"] == "en-2"
    n1 = {d["doc_id"] for d in read_docs(tmp_path / "o1")}
    assert not n1 & {d["doc_id"] for d in read_docs(tmp_path / "o2")}
    # nothing night 1 emitted comes out again, not even as a paragraph
    emitted = {exact_hash(p) for d in read_docs(tmp_path / "o1") for p in d["text"].split("\n\n")}
    assert not emitted & {exact_hash(p) for d in read_docs(tmp_path / "o2") for p in d["text"].split("\n\n")}
    # rerunning night 2 does not treat its own earlier output as history
    shutil.rmtree(tmp_path / "o2")
    r2b = run_pipeline([night2], tmp_path / "o2", **{"output.state": str(state)})
    assert r2b.run_id == r2.run_id
    assert r2b.stats["ledger"] == r2.stats["ledger"]


def test_foreign_passages_can_be_routed_to_their_language(tmp_path):
    run_pipeline([CORPUS], tmp_path / "o", **{"langid.foreign_routing": "partition"})
    rows = [d for d in read_docs(tmp_path / "o") if d["doc_id"] == "en-1"]
    assert sorted(r["lang"] for r in rows) == ["en", "es"]
    es = next(r for r in rows if r["lang"] == "es")
    assert es["text"].startswith("Las autoridades pidieron")
    assert not [r for r in read_ledger(tmp_path / "o") if r["reason"] == "foreign_language" and r["doc_id"] == "en-1"]


def test_parquet_row_group_in_slices_gives_the_same_output(tmp_path):
    """A Parquet input in one row group (pandas' and pyarrow's default up to a million rows), cut
    into slices of rows across several shards: the same documents and ledger as one shard, and
    byte-identical files with 1 and 2 workers."""
    import pyarrow as pa
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue                                 # (the corpus's broken line)
    rows = [r for r in rows if isinstance(r["text"], str)] * 3
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=len(rows))
    small = (pq.ParquetFile(tmp_path / "in.parquet").metadata.row_group(0).total_byte_size // 5 + 1) / 2**20
    a = run_pipeline([tmp_path / "in.parquet"], tmp_path / "a")
    b = run_pipeline([tmp_path / "in.parquet"], tmp_path / "b", **{"input.shard_size_mb": small,
                                                                 "output.keep_work": True})
    split = next((tmp_path / "b" / "_work").iterdir()) / "split"
    assert split.is_dir() and not list(split.iterdir())        # the slices were written, each read once
    c = run_pipeline([tmp_path / "in.parquet"], tmp_path / "c", **{"input.shard_size_mb": small,
                                                                 "executor.workers": 2})
    assert a.stats["inputs"]["shards"] == 1 and b.stats["inputs"]["shards"] == 5
    for out in (tmp_path / "b", tmp_path / "c"):
        assert sorted((d["doc_id"], d["lang"], d["text"]) for d in read_docs(out)) == \
            sorted((d["doc_id"], d["lang"], d["text"]) for d in read_docs(tmp_path / "a"))
        assert sorted((r["doc_id"], r["reason"], r["text"], r["detail"], r["source"]) for r in read_ledger(out)) == \
            sorted((r["doc_id"], r["reason"], r["text"], r["detail"], r["source"]) for r in read_ledger(tmp_path / "a"))
    assert file_bytes(tmp_path / "b") == file_bytes(tmp_path / "c") and b.run_id == c.run_id
    assert b.stats["documents"]["in"] == len(rows)


def test_a_row_group_that_cannot_be_split_is_reported(tmp_path):
    """A corrupt page in a big row group: the split stops there with a warning naming the row
    group, the slices after it read the file themselves, and every row is a document, a
    duplicate, or counted in an invalid_input row."""
    import pyarrow as pa
    from pipeline.run.runner import run
    n = 2000
    texts = [f"Report number {i}: the council met on Monday and voted {i * 7919 % 1000} to {i % 97} on the "
             f"budget for {1900 + i % 120}, officials said." for i in range(n)]
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(n)], "text": texts}), path, row_group_size=n,
                   compression="snappy", data_page_size=4096, write_batch_size=32, use_dictionary=False)
    md = pq.ParquetFile(path).metadata.row_group(0)
    col = md.column(1)
    data = bytearray(path.read_bytes())
    at = col.data_page_offset + int(col.total_compressed_size * 0.6)
    data[at:at + 16] = bytes(b ^ 0xFF for b in data[at:at + 16])
    path.write_bytes(bytes(data))
    logged = []
    res = run(make_config([path], tmp_path / "o", **{"input.shard_size_mb": (md.total_byte_size // 4 + 1) / 2**20}),
              log=logged.append)
    assert res.stats["inputs"]["shards"] == 4
    assert any("row group 0 could not be split" in m and "in.parquet" in m for m in logged), logged
    led = read_ledger(tmp_path / "o")
    lost = [int(json.loads(r["detail"])["error"].rsplit("(", 1)[1].split()[0]) for r in led
            if r["reason"] == "invalid_input"]
    assert lost and res.stats["documents"]["in"] - len(lost) + sum(lost) == n
