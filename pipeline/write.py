"""Build the output tables of a shard and commit files atomically.

Every file is written under a temporary name in the same folder, flushed to disk, then renamed:
a reader never sees half a file, and an interrupted run leaves only temporary files, which the
next run removes.
"""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict

import pyarrow as pa
import pyarrow.parquet as pq

from . import faults
from .model import DOCS_SCHEMA, LEDGER_SCHEMA, STAGE_OF_REASON, Document

TMP_MARK = ".tmp-"


def _tmp(path: str) -> str:
    d, name = os.path.split(path)
    return os.path.join(d, f"{TMP_MARK}{os.getpid()}-{name}")


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_table(table: pa.Table, path: str, compression: str = "zstd") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = _tmp(path)
    comp = None if compression == "none" else compression
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression=comp, row_group_size=64 * 1024,
                       write_statistics=True, use_dictionary=["lang", "reason", "stage", "run_id"]
                       if "reason" in table.column_names or "lang" in table.column_names else True)
        fh.flush()
        os.fsync(fh.fileno())
    faults.point("temp-written")
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def read_table(path: str, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file of ours, read directly (``pq.read_table`` goes through the dataset
    module, whose first use costs a fifth of a second in each process)."""
    return pq.ParquetFile(path).read(columns=columns)


def read_decisions(path: str, shard: int) -> pa.Table:
    """The barrier's decisions for one shard: only the row groups whose statistics can hold it
    are read (decisions are sorted by position, so a shard's rows are in one or two groups)."""
    import pyarrow.compute as pc
    f = pq.ParquetFile(path)
    col = f.schema_arrow.get_field_index("shard")
    groups = []
    for g in range(f.metadata.num_row_groups):
        st = f.metadata.row_group(g).column(col).statistics
        if st is None or not st.has_min_max or st.min <= shard <= st.max:
            groups.append(g)
    t = f.read_row_groups(groups) if groups else f.schema_arrow.empty_table()
    return t.filter(pc.equal(t.column("shard"), shard))


def write_bytes(data: bytes, path: str) -> None:
    write_with(lambda fh: fh.write(data), path)


def write_array(arr, path: str) -> None:
    """A numpy array as a .npy file, written straight into the file (no copy in memory)."""
    import numpy as np
    write_with(lambda fh: np.save(fh, arr, allow_pickle=False), path)


def write_with(fill, path: str) -> None:
    """``fill(file)`` writes the content; committed atomically (temporary name, fsync, rename)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "wb") as fh:
        fill(fh)
        fh.flush()
        os.fsync(fh.fileno())
    faults.point("temp-written")
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


def write_json(obj, path: str) -> None:
    write_bytes((json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"), path)


def remove_temporaries(root: str) -> int:
    n = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.startswith(TMP_MARK):
                os.remove(os.path.join(dirpath, f))
                n += 1
    return n


def apply_decisions(docs: list[Document], decisions: pa.Table) -> None:
    """Mark documents and paragraphs that the dedup barrier dropped."""
    if decisions is None or decisions.num_rows == 0:
        return
    by_key: dict[tuple[int, int], list[tuple[int, str, str]]] = defaultdict(list)
    d = decisions.to_pydict()
    for f, pos, para, reason, detail in zip(d["file"], d["pos"], d["para"], d["reason"], d["detail"]):
        by_key[(f, pos)].append((para, reason, detail))
    for doc in docs:
        hits = by_key.get(doc.order)
        if not hits or doc.reason is not None:
            continue
        for para, reason, detail in hits:
            if para < 0:
                doc.reason, doc.detail = reason, detail
            else:
                p = doc.paragraphs[para]
                if p.reason is None:
                    p.reason, p.detail = reason, detail


def build_tables(docs: list[Document], run_id: str, routing: str) -> tuple[dict[str, pa.Table], pa.Table, Counter]:
    """(documents per language, ledger, counts) for one shard, in input order."""
    out: dict[str, dict[str, list]] = {}
    led: dict[str, list] = {f.name: [] for f in LEDGER_SCHEMA}
    counts: Counter = Counter()

    def add_doc(lang, doc_id, score, text, source, meta):
        cols = out.setdefault(lang, {f.name: [] for f in DOCS_SCHEMA})
        cols["doc_id"].append(doc_id)
        cols["lang"].append(lang)
        cols["lang_score"].append(score)
        cols["text"].append(text)
        cols["source"].append(source)
        cols["run_id"].append(run_id)
        cols["metadata"].append(meta)
        counts[f"out-docs-{lang}"] += 1
        counts[f"out-chars-{lang}"] += len(text)

    def add_led(doc, text, reason, detail, para, sent, start, end, lang):
        led["doc_id"].append(doc.doc_id)
        led["text"].append(text)
        led["reason"].append(reason)
        led["detail"].append(detail or "{}")
        led["stage"].append(STAGE_OF_REASON.get(reason, "other"))
        led["para_idx"].append(para)
        led["sent_idx"].append(sent)
        led["char_start"].append(start)
        led["char_end"].append(end)
        led["source"].append(doc.source)
        led["run_id"].append(run_id)
        counts[f"ledger-{reason}"] += 1
        counts[f"ledger-{reason}-{lang}"] += 1
        counts[f"ledger-chars-{reason}"] += len(text)

    for doc in docs:
        counts["in-docs"] += 1
        counts["in-chars"] += len(doc.text)
        lang = doc.lang
        counts[f"inlang-docs-{lang}"] += 1
        counts[f"inlang-chars-{lang}"] += len(doc.text)
        if doc.reason is not None:
            add_led(doc, doc.text, doc.reason, doc.detail, None, None, 0, len(doc.text), lang)
        else:
            kept, routed = [], defaultdict(list)
            for p in doc.paragraphs:
                if p.reason is not None:
                    t = p.remaining_text()
                    if t:
                        add_led(doc, t, p.reason, p.detail, p.idx, None, p.start, p.start + len(p.text), lang)
                    # sentences removed before the paragraph was dropped keep their own rows
                    for si, s in enumerate(p.sentences):
                        if s.reason:
                            _sentence_row(doc, p, si, s, add_led, routed, routing, lang)
                    continue
                for si, s in enumerate(p.sentences):
                    if s.reason:
                        _sentence_row(doc, p, si, s, add_led, routed, routing, lang)
                t = p.kept_text()
                if t:
                    kept.append(t)
            if kept:
                add_doc(lang, doc.doc_id, doc.lang_score, "\n\n".join(kept), doc.source, doc.metadata)
            elif doc.paragraphs:
                counts["out-docs-emptied"] += 1
            else:
                add_led(doc, doc.text, "empty", json.dumps({"chars": len(doc.text)}), None, None,
                        0, len(doc.text), lang)
            for rlang in sorted(routed):
                pieces = routed[rlang]
                text = "\n\n".join(" ".join(x for x in grp) for _, grp in _group_by_para(pieces))
                add_doc(rlang, doc.doc_id, min(sc for _, _, sc in pieces), text, doc.source, doc.metadata)
        for extra in doc.extra_ledger:
            add_led(doc, extra["text"], extra["reason"], extra.get("detail"), extra.get("para_idx"), None,
                    extra.get("char_start"), extra.get("char_end"), lang)
    tables = {lang: pa.Table.from_pydict(cols, schema=DOCS_SCHEMA) for lang, cols in out.items()}
    return tables, pa.Table.from_pydict(led, schema=LEDGER_SCHEMA), counts


def _sentence_row(doc, p, si, s, add_led, routed, routing, lang):
    text = p.text[s.start:s.end].strip()
    if not text:
        return
    if routing == "partition" and s.reason == "foreign_language" and s.lang:
        routed[s.lang].append((p.idx, text, s.score or 0.0))
        return
    add_led(doc, text, s.reason, s.detail, p.idx, si, p.start + s.start, p.start + s.start + len(text), lang)


def _group_by_para(pieces):
    groups: list[tuple[int, list[str]]] = []
    for para, text, _ in pieces:
        if groups and groups[-1][0] == para:
            groups[-1][1].append(text)
        else:
            groups.append((para, [text]))
    return groups
