"""Input formats and bad records: every record becomes a document or an invalid_input ledger row."""
import gzip
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from pipeline.io import inputs, readers
from pipeline.io.inputs import InputConfig, plan
from pipeline.io.readers import ShardReader
from tests.support import ROOT, read_docs, read_ledger, run_pipeline

TEXT = "Heavy rain forced the closure of more than forty schools on Monday, local officials said."


def _reason(d):
    return d.removed.reason.name if d.removed else None


def _detail(d):
    return d.removed.detail if d.removed else None


def _read_all(paths, **kw):
    cfg = InputConfig(**kw)
    _files, shards = plan([str(p) for p in paths], cfg)
    return [d for s in shards for d in ShardReader(s, cfg)]


def test_txt_folder_ids_are_relative_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "one.txt").write_text(TEXT)
    (tmp_path / "two.txt").write_text(TEXT)
    (tmp_path / "notes.md").write_text("ignored")
    docs = _read_all([tmp_path])
    assert [d.doc_id for d in docs] == ["a/b/one.txt", "two.txt"]


def test_jsonl_compressed_and_custom_fields(tmp_path):
    lines = [json.dumps({"uid": f"u{i}", "body": TEXT, "url": f"http://x/{i}"}) for i in range(3)]
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    (tmp_path / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    docs = _read_all([tmp_path], id_field="uid", text_field="body")
    assert [(d.doc_id, d.source) for d in docs] == [
        ("u0", "a.jsonl.gz:1"), ("u1", "a.jsonl.gz:2"), ("u2", "a.jsonl.gz:3"),
        ("u0", "b.jsonl.zst:1"), ("u1", "b.jsonl.zst:2"), ("u2", "b.jsonl.zst:3")]
    assert json.loads(docs[0].metadata) == {"url": "http://x/0"}


def test_parquet_input_with_metadata_and_row_group_shards(tmp_path):
    n = 50
    t = pa.table({"id": [f"p{i}" for i in range(n)], "text": [f"{TEXT} Item {i}." for i in range(n)],
                  "score": [i / 10 for i in range(n)]})
    pq.write_table(t, tmp_path / "in.parquet", row_group_size=10)
    size = pq.ParquetFile(tmp_path / "in.parquet").metadata.row_group(0).total_byte_size
    docs = _read_all([tmp_path / "in.parquet"], shard_size_mb=size / 2**20)
    _files, shards = plan([str(tmp_path / "in.parquet")], InputConfig(shard_size_mb=size / 2**20))
    assert [(s.start, s.end, s.rows) for s in shards] == [(i, i + 1, None) for i in range(5)]
    assert [d.doc_id for d in docs] == [f"p{i}" for i in range(n)]
    assert docs[7].source == "in.parquet#7" and json.loads(docs[7].metadata) == {"score": 0.7}


def _one_row_group(path, n, compression="zstd", **kw):
    """A Parquet file of ``n`` rows in one row group, as pandas and pyarrow write up to 1,048,576
    rows by default; row 7 has no text."""
    texts = [f"{TEXT} Item {i}, {i * 7919 % 1000} people." for i in range(n)]
    texts[7] = None
    t = pa.table({"id": [f"p{i}" for i in range(n)], "text": texts, "score": [i / 10 for i in range(n)]})
    pq.write_table(t, path, row_group_size=n, compression=compression, **kw)
    return pq.ParquetFile(path).metadata.row_group(0).total_byte_size


def test_a_big_row_group_is_read_in_slices_of_rows(tmp_path, monkeypatch):
    """A row group of several shards' size is cut into slices of rows (one worker held a whole
    one: 1.9 GB for 97 MB of text), read in batches that do not line up with the slices; together
    the slices give the same records, in the same order, as the row group read whole."""
    monkeypatch.setattr(readers, "_PARQUET_BATCH_BYTES", 64 * 150)     # ~64 rows
    size = _one_row_group(tmp_path / "in.parquet", 1000)
    whole = _read_all([tmp_path / "in.parquet"], shard_size_mb=size * 2 / 2**20)
    eighth = (size // 8 + 1) / 2**20
    _files, shards = plan([str(tmp_path / "in.parquet")], InputConfig(shard_size_mb=eighth))
    assert [s.rows for s in shards] == [(125 * i, 125 * (i + 1)) for i in range(8)]
    sliced = _read_all([tmp_path / "in.parquet"], shard_size_mb=eighth)
    key = lambda d: (d.doc_id, d.source, d.text, d.metadata, _reason(d), _detail(d), d.order)
    assert [key(d) for d in sliced] == [key(d) for d in whole] and len(whole) == 1000
    assert _reason(sliced[7]) == "invalid_input" and sliced[130].source == "in.parquet#130"
    # a slice of a row group, and a shard of whole ones, as the plan writes them in the manifest
    assert all(inputs.ShardSpec.from_dict(json.loads(json.dumps(s.to_dict()))) == s for s in shards)


def test_a_row_group_is_split_once_into_its_slices(tmp_path, monkeypatch):
    """``split_row_group`` reads a row group once and writes each slice's rows to its own file,
    which the slice's shard then reads: the same records as the row group read whole. A split
    stopped midway writes the rest when run again; a row group that cannot be read on leaves its
    later slices to read (and report) the file themselves."""
    import dataclasses
    monkeypatch.setattr(readers, "_PARQUET_BATCH_BYTES", 64 * 150)     # ~64 rows a batch
    path = tmp_path / "in.parquet"
    size = _one_row_group(path, 1000, "snappy", data_page_size=2048, write_batch_size=32, use_dictionary=False)
    cfg = InputConfig(shard_size_mb=(size // 8 + 1) / 2**20)
    whole = _read_all([path], shard_size_mb=size * 2 / 2**20)
    slices = [dataclasses.replace(s, split=str(tmp_path / f"{s.shard_id}.arrow")) for s in plan([str(path)], cfg)[1]]
    done = lambda r: (r["shard"], r["written"], r["error"])
    assert done(readers.split_row_group(slices[:3])) == (0, 3, None)
    assert done(readers.split_row_group(slices)) == (0, 5, None)                 # the rest
    assert done(readers.split_row_group(slices)) == (0, 0, None)
    key = lambda d: (d.doc_id, d.source, d.text, d.metadata, _reason(d), _detail(d), d.order)
    assert [key(d) for s in slices for d in ShardReader(s, cfg)] == [key(d) for d in whole]
    # a corrupt page three quarters into the row group
    col = pq.ParquetFile(path).metadata.row_group(0).column(1)
    data = bytearray(path.read_bytes())
    at = col.data_page_offset + int(col.total_compressed_size * 0.75)
    data[at:at + 16] = bytes(b ^ 0xFF for b in data[at:at + 16])
    path.write_bytes(bytes(data))
    for s in slices:
        os.remove(s.split)
    r = readers.split_row_group(slices)
    written = r["written"]
    assert "Corrupt snappy compressed data" in r["error"]
    assert 3 < written < 8 and [os.path.exists(s.split) for s in slices] == [i < written for i in range(8)]
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]
    docs = [d for s in slices for d in ShardReader(s, cfg)]
    lost = [int(json.loads(_detail(d))["error"].rsplit("(", 1)[1].split()[0]) for d in docs
            if _reason(d) == "invalid_input" and "corrupt row group" in _detail(d)]
    assert len(lost) == 8 - written and sum(_reason(d) is None for d in docs) + 1 + sum(lost) == 1000


def test_a_slice_is_read_without_its_whole_row_group(tmp_path):
    """Reading the last slice of a big row group holds a few batches, not the row group: pyarrow's
    pre-buffering loaded every compressed column chunk of it first (in a fresh process, Arrow's
    peak was 90 MB for a 52 MB row group, against 23 MB)."""
    import base64
    import subprocess
    import sys

    import numpy as np
    rng = np.random.default_rng(3)
    texts = [base64.b64encode(rng.bytes(1950)).decode() for _ in range(40_000)]     # ~2.6 KB each
    pq.write_table(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}), tmp_path / "in.parquet",
                   row_group_size=len(texts))
    md = pq.ParquetFile(tmp_path / "in.parquet").metadata.row_group(0)
    compressed = sum(md.column(i).total_compressed_size for i in range(md.num_columns))
    code = ("import sys, pyarrow as pa\n"
            "from pipeline.io.inputs import InputConfig\n"
            "from pipeline.io.inputs import plan\n"
            "from pipeline.io.readers import ShardReader\n"
            "cfg = InputConfig(shard_size_mb=4)\n"
            "shards = plan([sys.argv[1]], cfg)[1]\n"
            "n = sum(1 for d in ShardReader(shards[-1], cfg) if d.removed is None)\n"
            "print(len(shards), *shards[-1].rows, n, pa.default_memory_pool().max_memory())\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "in.parquet")], cwd=ROOT, capture_output=True,
                       text=True, check=True)
    n_shards, a, b, n, peak = map(int, r.stdout.split())
    assert n_shards > 20 and b == 40_000 and n == b - a > 0
    assert peak < compressed / 2, (peak, compressed)


def test_a_corrupt_page_in_a_slice_is_ledgered_with_its_rows(tmp_path, monkeypatch):
    """Corrupt data in the middle of a sliced row group: the rows before it are read, and each
    slice accounts for the rows it lost in one invalid_input record."""
    monkeypatch.setattr(readers, "_PARQUET_BATCH_BYTES", 64 * 150)     # ~64 rows
    path = tmp_path / "in.parquet"
    size = _one_row_group(path, 1000, "snappy", data_page_size=2048, write_batch_size=32, use_dictionary=False)
    col = pq.ParquetFile(path).metadata.row_group(0).column(1)
    data = bytearray(path.read_bytes())
    at = col.data_page_offset + int(col.total_compressed_size * 0.75)
    data[at:at + 16] = bytes(b ^ 0xFF for b in data[at:at + 16])
    path.write_bytes(bytes(data))
    docs = _read_all([path], shard_size_mb=(size // 4 + 1) / 2**20)
    good = [d for d in docs if _reason(d) is None]
    lost = [d for d in docs if _reason(d) == "invalid_input" and "corrupt row group 0" in _detail(d)]
    assert 500 < len(good) < 750 and [d.doc_id for d in good] == [f"p{i}" for i in range(len(good) + 1) if i != 7]
    assert len(lost) == 2 and lost[0].source == f"in.parquet#{len(good) + 1}" and lost[1].source == "in.parquet#750"
    rows = [int(json.loads(_detail(d))["error"].rsplit("(", 1)[1].split()[0]) for d in lost]
    assert len(good) + 1 + sum(rows) == 1000          # every row: read, null (row 7), or counted as lost


@pytest.mark.parametrize("table, error", [
    (pa.table({"id": ["a"], "body": ["x"]}), "no column 'text'"),
    (pa.table({"id": ["a"], "text": [3]}), "is int64, not a string"),
])
def test_parquet_without_usable_text_column_goes_to_ledger(tmp_path, table, error):
    pq.write_table(table, tmp_path / "bad.parquet")
    docs = _read_all([tmp_path / "bad.parquet"])
    assert [_reason(d) for d in docs] == ["invalid_input"] and error in _detail(docs[0])


def test_bad_records_are_ledgered_and_the_run_goes_on(tmp_path):
    src = tmp_path / "in.jsonl"
    with open(src, "wb") as fh:
        fh.write(json.dumps({"id": "ok", "text": TEXT}).encode() + b"\n")
        fh.write(b'{"id": "broken", "text": "unterminated\n')
        fh.write(b'["a", "list"]\n')
        fh.write(b'{"id": "latin1", "text": "caf\xe9 au lait is served in the morning at the station."}\n')
        fh.write(b'{"id": "nul", "text": "a\\u0000b \\ud800 lone surrogate and more text here."}\n')
        fh.write(b'{"text": "A record without an id still gets one: its file and line number."}\n')
    (tmp_path / "corrupt.jsonl.gz").write_bytes(gzip.compress(b'{"id": "z", "text": "x"}\n')[:-12] + b"garbage!")
    (tmp_path / "corrupt.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"id": "y", "text": "x"}\n' * 50)[:-9])
    out = tmp_path / "out"
    run_pipeline([src, tmp_path / "corrupt.jsonl.gz", tmp_path / "corrupt.jsonl.zst"], out)
    led = read_ledger(out)
    bad = {(r["doc_id"], r["source"]): json.loads(r["detail"])["error"] for r in led if r["reason"] == "invalid_input"}
    assert any(k == ("in.jsonl:2", "in.jsonl:2") and "malformed JSON" in v for k, v in bad.items())
    assert any(k[1] == "in.jsonl:3" and "not an object" in v for k, v in bad.items())
    assert any(k == ("latin1", "in.jsonl:4") and "invalid UTF-8" in v for k, v in bad.items())
    assert any(k[1].startswith("corrupt.jsonl.gz") for k in bad)
    assert any(k[1].startswith("corrupt.jsonl.zst") for k in bad)
    docs = {d["doc_id"]: d["text"] for d in read_docs(out)}
    assert docs["ok"] == TEXT
    assert docs["in.jsonl:6"].startswith("A record without an id")          # a missing id becomes file:line
    assert "\x00" not in docs["nul"] and "\ud800" not in docs["nul"]
    assert docs["latin1"].startswith("caf\ufffd au lait")
    removed = [r for r in led if r["reason"] == "removed_characters"]
    assert [(r["doc_id"], json.loads(r["detail"])["kinds"]) for r in removed] == [
        ("nul", {"control": 1, "surrogate": 1})]
    assert removed[0]["text"] == "\\x00\\ud800"


def test_very_long_document_is_cut_and_the_rest_ledgered(tmp_path):
    para = "The council met again on Monday to discuss the budget for the coming year. " * 20
    text = "\n\n".join([para.strip()] * 30)
    src = tmp_path / "long.jsonl"
    src.write_text(json.dumps({"id": "long", "text": text}) + "\n")
    out = tmp_path / "out"
    run_pipeline([src], out, **{"input.max_doc_chars": 10_000, "dedup.enabled": False})
    led = [r for r in read_ledger(out) if r["reason"] == "too_long"]
    assert len(led) == 1 and led[0]["char_start"] <= 10_000 and led[0]["char_end"] == len(text)
    kept = read_docs(out)[0]["text"]
    assert len(kept) <= 10_000
    assert "".join(kept.split()) + "".join(led[0]["text"].split()) == "".join(text.split())


@pytest.mark.slow
def test_huge_single_line_document_is_bounded(tmp_path):
    import random
    import time
    rng = random.Random(1)
    words = "the council said emergency crews had rescued dozens of residents near the river".split()
    text = " ".join(rng.choice(words) for _ in range(4_000_000))[:20_000_000]
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps({"id": "huge", "text": text}) + "\n" +
                   json.dumps({"id": "small", "text": "A normal document. It has two sentences."}) + "\n")
    t0 = time.process_time()
    run_pipeline([src], tmp_path / "out", **{"input.max_doc_chars": 2_000_000})
    assert time.process_time() - t0 < 60
    led = read_ledger(tmp_path / "out")
    assert [(r["doc_id"], r["reason"], r["char_start"]) for r in led] == [("huge", "too_long", 2_000_000)]
    assert {d["doc_id"] for d in read_docs(tmp_path / "out")} == {"huge", "small"}


def test_decompression_bomb_and_overlong_line_are_stopped(tmp_path):
    bomb = tmp_path / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        fh.write(json.dumps({"id": "first", "text": TEXT}).encode() + b"\n")
        line = json.dumps({"id": "x", "text": "a" * 1_000_000}).encode() + b"\n"
        for _ in range(400):                                   # 400 MB of text in about 0.4 MB
            fh.write(line)
    docs = _read_all([bomb])
    assert docs[0].doc_id == "first"
    assert _reason(docs[-1]) == "invalid_input" and "decompression bomb" in _detail(docs[-1])
    assert len(docs) < 300
    long = tmp_path / "long.jsonl"
    long.write_text(json.dumps({"id": "big", "text": "b" * 3_000_000}) + "\n" + json.dumps({"id": "ok", "text": TEXT}) + "\n")
    docs = _read_all([long], max_line_mb=1)
    assert [d.doc_id for d in docs] == ["long.jsonl:1", "ok"]
    assert "longer than input.max_line_mb" in _detail(docs[0]) and docs[0].source == "long.jsonl:1"
