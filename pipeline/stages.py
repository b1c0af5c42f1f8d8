"""The two per-shard map phases around the dedup barrier.

``clean_shard``: read -> repair -> language (document) -> segment -> language (sentences) ->
filters -> dedup keys. Writes the annotated documents and their keys to the work folder.

``finish_shard``: applies the barrier's decisions and writes the shard's documents (one file per
language) and ledger. Both are plain functions of (shard spec, config, folders): executors only
decide where they run.
"""
from __future__ import annotations

import gc
import json
import os
import time
from collections import Counter
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import dedup, faults, filters, langid, repair, segment, write
from .config import Config
from .model import Document, Paragraph, Sentence
from .read import ShardReader, ShardSpec

# The hand-off between the two phases: each document with its paragraphs as two list columns
# (start in the text, length) and, only for the paragraphs that lost something (a reason on the
# paragraph or on one of its sentences), their marks as JSON. Most paragraphs lost nothing, so
# neither phase builds or parses a structure for them.
STAGE1_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("text", pa.string()), ("source", pa.string()), ("file", pa.int32()),
    ("pos", pa.int64()), ("metadata", pa.string()), ("lang", pa.string()), ("lang_score", pa.float32()),
    ("reason", pa.string()), ("detail", pa.string()), ("extra", pa.string()),
    ("para_start", pa.list_(pa.int64())), ("para_len", pa.list_(pa.int64())), ("marks", pa.string()),
])


def _marks(d: Document) -> str | None:
    """{paragraph index: [reason, detail, sentences]} for the paragraphs that lost something;
    sentences ([start, end, reason, detail, lang, score]) only where one of them was removed."""
    out = {}
    for i, p in enumerate(d.paragraphs):
        removed = any(s.reason for s in p.sentences)
        if p.reason is not None or removed:
            out[i] = [p.reason, p.detail,
                      [[s.start, s.end, s.reason, s.detail, s.lang, s.score] for s in p.sentences] if removed else []]
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")) if out else None


def docs_to_table(docs: list[Document]) -> pa.Table:
    n_paras = np.fromiter((len(d.paragraphs) for d in docs), np.int32, len(docs))
    offsets = pa.array(np.r_[0, np.cumsum(n_paras, dtype=np.int64)].astype(np.int32))
    starts = pa.array(np.fromiter((p.start for d in docs for p in d.paragraphs), np.int64, int(n_paras.sum())))
    lens = pa.array(np.fromiter((len(p.text) for d in docs for p in d.paragraphs), np.int64, int(n_paras.sum())))
    cols = {
        "doc_id": [d.doc_id for d in docs], "text": [d.text for d in docs], "source": [d.source for d in docs],
        "file": [d.order[0] for d in docs], "pos": [d.order[1] for d in docs],
        "metadata": [d.metadata for d in docs], "lang": [d.lang for d in docs],
        "lang_score": [d.lang_score for d in docs], "reason": [d.reason for d in docs],
        "detail": [d.detail for d in docs],
        "extra": [json.dumps(d.extra_ledger, ensure_ascii=False) if d.extra_ledger else None for d in docs],
        "para_start": pa.ListArray.from_arrays(offsets, starts),
        "para_len": pa.ListArray.from_arrays(offsets, lens),
        "marks": [_marks(d) for d in docs],
    }
    return pa.Table.from_pydict(cols, schema=STAGE1_SCHEMA)


def table_to_docs(table: pa.Table) -> list[Document]:
    docs = []
    c = table.select([n for n in STAGE1_SCHEMA.names if n not in ("para_start", "para_len")]).to_pydict()
    starts = table.column("para_start").combine_chunks()
    lens = table.column("para_len").combine_chunks()
    offsets = starts.offsets.to_numpy().tolist()
    starts = starts.values.to_numpy().tolist()
    lens = lens.values.to_numpy().tolist()
    for k, (doc_id, text, source, file, pos, meta, lang, score, reason, detail, extra, marks) in enumerate(zip(
            c["doc_id"], c["text"], c["source"], c["file"], c["pos"], c["metadata"], c["lang"],
            c["lang_score"], c["reason"], c["detail"], c["extra"], c["marks"])):
        d = Document(doc_id=doc_id, text=text, source=source, order=(file, pos), metadata=meta, lang=lang,
                     lang_score=score, reason=reason, detail=detail,
                     extra_ledger=json.loads(extra) if extra else [])
        a = offsets[k]
        d.paragraphs = [Paragraph(i, start, text[start:start + n])
                        for i, (start, n) in enumerate(zip(starts[a:offsets[k + 1]], lens[a:offsets[k + 1]]))]
        if marks:
            for i, (p_reason, p_detail, sents) in json.loads(marks).items():
                p = d.paragraphs[int(i)]
                p.reason, p.detail = p_reason, p_detail
                p.sentences = [Sentence(*x) for x in sents]
        docs.append(d)
    return docs


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (the worker's, or the driver's with one worker)."""
    import resource
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class _Clock:
    def __init__(self):
        self.cpu: Counter = Counter()
        self._t = time.process_time()

    def lap(self, stage: str):
        now = time.process_time()
        self.cpu[stage] += now - self._t
        self._t = now


def _limit_length(d: Document, max_chars: int) -> None:
    """Cut a very long document at the last paragraph break before the limit (or hard at it)."""
    if len(d.text) <= max_chars:
        return
    cut = d.text.rfind("\n\n", 0, max_chars)
    if cut < max_chars // 2:
        cut = max_chars
    rest = d.text[cut:]
    d.extra_ledger.append({"reason": "too_long", "text": rest, "char_start": cut, "char_end": len(d.text),
                           "detail": json.dumps({"max_doc_chars": max_chars, "chars": len(d.text)})})
    d.text = d.text[:cut]


@contextmanager
def _no_cycle_collection():
    """The cyclic garbage collector off while a shard is processed. A shard makes hundreds of
    thousands of small objects (paragraphs, sentences, spans) that reference counting frees, and
    none of them form cycles; the collector would walk the growing heap again and again for
    nothing (4% of a shard's CPU). It runs again, as usual, after the shard."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def clean_shard(spec: ShardSpec, cfg: Config, work: str) -> dict:
    """Map phase 1. Returns the shard's counters and CPU seconds per stage."""
    with _no_cycle_collection():
        return _clean_shard(spec, cfg, work)


def _clean_shard(spec: ShardSpec, cfg: Config, work: str) -> dict:
    clock = _Clock()
    counts: Counter = Counter()
    docs = list(ShardReader(spec, cfg.input))
    n_bytes = sum(len(d.text) if d.text.isascii() else len(d.text.encode("utf-8", "surrogatepass")) for d in docs)
    clock.lap("read")
    faults.point("read")
    live = [d for d in docs if d.reason is None]
    for d in live:
        _limit_length(d, cfg.input.max_doc_chars)
    hints = repair.scan([d.text for d in live], cfg.repair) if cfg.repair.enabled else [None] * len(live)
    for d, hint in zip(live, hints):
        res = repair.repair_text(d.text, cfg.repair, hint)
        d.text = res.text
        counts.update(res.counts)
        if res.removed:
            chars = res.removed["chars"]
            d.extra_ledger.append({
                "reason": "removed_characters",
                "text": chars.encode("unicode_escape").decode("ascii"),
                "detail": json.dumps({"kinds": res.removed["kinds"], "count": len(chars)})})
        if not d.text.strip():
            d.reason = "empty"
            d.detail = json.dumps({"chars": len(d.text)})
    clock.lap("repair")
    text = langid.TextBatches([d for d in docs if d.reason is None])   # one pass, for both steps
    langid.detect_documents(docs, cfg.langid, text)
    clock.lap("langid")
    segment.segment_batch(docs, cfg.segment)
    clock.lap("segment")
    langid.detect_sentences(docs, cfg.langid, text)
    del text
    clock.lap("langid")
    for f in filters.build_filters(cfg.filters):
        f.apply(docs)
        counts.update(f.counts)
    clock.lap("filters")
    keys = dedup.keys_for_documents(docs, cfg.dedup) if cfg.dedup.enabled else None
    clock.lap("dedup")
    base = os.path.join(work, "stage1", f"{spec.shard_id:05d}")
    # lz4, not zstd: this file is read once, by phase 2, and zstd cost ~0.1 CPU s more per 16 MB
    # (writing and reading) for a file ~1.4x smaller that is deleted at the end of the run.
    write.write_table(docs_to_table(docs), base + ".docs.parquet", "lz4")
    if keys is not None:
        keys.write(base)
    clock.lap("write")
    result = {"shard": spec.shard_id, "counts": dict(counts), "cpu": dict(clock.cpu), "docs": len(docs),
              "bytes": n_bytes, "rss_mb": _peak_rss_mb()}
    faults.point("stage1-written")
    write.write_json(result, base + ".done.json")      # last: marks the shard as done
    faults.point("stage1-done")
    return result


def finish_shard(spec: ShardSpec, cfg: Config, work: str, out: str, run_id: str) -> dict:
    """Map phase 2: apply dedup decisions, write documents, ledger and the emitted keys."""
    with _no_cycle_collection():
        return _finish_shard(spec, cfg, work, out, run_id)


def _finish_shard(spec: ShardSpec, cfg: Config, work: str, out: str, run_id: str) -> dict:
    clock = _Clock()
    base = os.path.join(work, "stage1", f"{spec.shard_id:05d}")
    handoff = write.read_table(base + ".docs.parquet")
    docs = table_to_docs(handoff)
    dec_path = os.path.join(work, "dedup", "decisions.parquet")
    decisions = None
    if os.path.exists(dec_path):
        decisions = write.read_decisions(dec_path, spec.shard_id)
    write.apply_decisions(docs, decisions)
    clock.lap("dedup")
    tables, ledger, counts = write.build_tables(docs, run_id, cfg.langid.foreign_routing)
    name = f"part-{spec.shard_id:05d}.parquet"
    files = []
    for lang in sorted(tables):
        path = os.path.join(out, "docs", f"lang={lang}", name)
        write.write_table(tables[lang], path, cfg.output.compression)
        files.append(os.path.relpath(path, out))
    faults.point("finish-docs-written")
    path = os.path.join(out, "ledger", name)
    write.write_table(ledger, path, cfg.output.compression)
    files.append(os.path.relpath(path, out))
    if cfg.dedup.enabled and cfg.output.state and os.path.exists(base + ".keys.parquet"):
        emitted_keys(base, decisions)          # only a history index needs them
    clock.lap("write")
    result = {"shard": spec.shard_id, "counts": dict(counts), "cpu": dict(clock.cpu), "files": files,
              "docs": len(docs), "bytes": pc.sum(pc.binary_length(handoff.column("text"))).as_py() or 0,
              "rss_mb": _peak_rss_mb()}
    write.write_json(result, os.path.join(work, "final", f"{spec.shard_id:05d}.done.json"))
    faults.point("finish-done")
    return result


def emitted_keys(base: str, decisions) -> None:
    """Keys of what this shard emitted, for the history index of later runs."""
    keys = dedup.Keys.read(base)
    dropped = set()
    if decisions is not None:
        d = decisions.to_pydict()
        dropped = set(zip(d["file"], d["pos"], d["para"]))
    dropped_docs = {(f, p) for f, p, para in dropped if para < 0}
    k = keys.table.to_pydict()
    mask = np.array([(f, p, para) not in dropped and (f, p) not in dropped_docs
                     for f, p, para in zip(k["file"], k["pos"], k["para"])], dtype=bool)
    keys.take(mask).write(base + ".emitted")
