"""Build the output tables of a shard and commit files atomically.

Every file is written under a temporary name in the same folder, flushed to disk, then renamed:
a reader never sees half a file, and an interrupted run leaves only temporary files, which the
next run removes.
"""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


def write_table(table: pa.Table, path: str, compression: str = "zstd", statistics: bool = True) -> None:
    write_tables([table], path, table.schema, compression, statistics)


def write_tables(tables, path: str, schema: pa.Schema, compression: str = "zstd", statistics: bool = True) -> None:
    """The tables of the iterable ``tables`` (each of ``schema``), one after the other, as one
    Parquet file committed atomically; only one of them needs to be in memory at a time."""
    comp = None if compression == "none" else compression
    names = schema.names

    def fill(fh):
        with pq.ParquetWriter(fh, schema, compression=comp, write_statistics=statistics,
                              use_dictionary=["lang", "reason", "stage", "run_id"]
                              if "reason" in names or "lang" in names else True) as writer:
            for t in tables:
                writer.write_table(t, row_group_size=64 * 1024)
    write_with(fill, path)


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


# ------------------------------------------------------------------ the hand-off between the phases
# The barrier's decisions only ever remove a whole kept document or whole kept paragraphs. So
# phase 1, which knows everything else, writes what phase 2 needs already in output form: per
# document its kept paragraphs (text, index, offsets) and every ledger row the document gets when
# no decision touches it, each with a sort key (document, paragraph, row in paragraph) that puts a
# decision's row where it belongs. Phase 2 then works on columns, with no Python object per
# paragraph or sentence.

_DOC_ROW, _TRAILER, _EXTRA = -1, 2**31 - 2, 2**31 - 1    # paragraph keys of document-level rows

HANDOFF_DOCS = pa.schema([
    ("doc_id", pa.string()), ("source", pa.string()), ("metadata", pa.string()), ("lang", pa.string()),
    ("lang_score", pa.float32()), ("file", pa.int32()), ("pos", pa.int64()),
    ("text", pa.string()),                  # the repaired text (the ledger row of a dropped document)
    ("live", pa.bool_()),                   # not removed by phase 1
    ("n_paragraphs", pa.int32()),
    # large strings: a shard's kept text may pass 2 GB, a plain string array's limit
    ("kept", pa.list_(pa.large_string())), ("kept_idx", pa.list_(pa.int32())),
    ("kept_start", pa.list_(pa.int64())), ("kept_end", pa.list_(pa.int64())),
])
HANDOFF_LEDGER = pa.schema([f for f in LEDGER_SCHEMA if f.name != "run_id"] + [
    pa.field("lang", pa.string()), pa.field("ord", pa.int32()), pa.field("k1", pa.int32()), pa.field("k2", pa.int32())])
# Foreign sentences routed to their own language (``langid.foreign_routing: partition``).
HANDOFF_ROUTED = pa.schema([("ord", pa.int32()), ("lang", pa.string()), ("doc_id", pa.string()),
                            ("lang_score", pa.float32()), ("text", pa.string()), ("source", pa.string()),
                            ("metadata", pa.string())])


@dataclass
class Handoff:
    docs: pa.Table
    ledger: pa.Table
    routed: pa.Table
    kept: list          # per document, [(paragraph, kept text)] or None (for the dedup keys)

    def write(self, base: str) -> None:
        # Neither compressed nor with statistics: these files are read once, whole, by phase 2 and
        # deleted at the end of the run; lz4 made them a quarter smaller for ~0.06 CPU s per shard.
        write_table(self.ledger, base + ".ledger.parquet", "none", statistics=False)
        if self.routed.num_rows:
            write_table(self.routed, base + ".routed.parquet", "none", statistics=False)
        elif os.path.exists(base + ".routed.parquet"):      # an interrupted attempt's, of another config
            os.remove(base + ".routed.parquet")
        write_table(self.docs, base + ".docs.parquet", "none", statistics=False)

    @staticmethod
    def read(base: str) -> "Handoff":
        routed = base + ".routed.parquet"
        return Handoff(read_table(base + ".docs.parquet"), read_table(base + ".ledger.parquet"),
                       read_table(routed) if os.path.exists(routed) else HANDOFF_ROUTED.empty_table(), [])


def _ledger_row(cols: dict, doc_id, source, lang, text, reason, detail, para, sent, start, end, k, k1, k2) -> None:
    """One row of a hand-off ledger table (``HANDOFF_LEDGER``), appended to its column lists."""
    for name, value in (("doc_id", doc_id), ("text", text), ("reason", reason), ("detail", detail or "{}"),
                        ("stage", STAGE_OF_REASON.get(reason, "other")), ("para_idx", para), ("sent_idx", sent),
                        ("char_start", start), ("char_end", end), ("source", source), ("lang", lang),
                        ("ord", k), ("k1", k1), ("k2", k2)):
        cols[name].append(value)


_FIRST, _NONE = (0,), ()


def handoff(docs: list[Document], routing: str) -> Handoff:
    """Phase 1's result for phase 2 (see above)."""
    led: dict[str, list] = {f.name: [] for f in HANDOFF_LEDGER}
    rt: dict[str, list] = {f.name: [] for f in HANDOFF_ROUTED}
    live, n_paras, kept_all = [], [], []
    kt, ki, ks, ke, kn = [], [], [], [], []

    def row(k, doc, text, reason, detail, para, sent, start, end, k1, k2):
        _ledger_row(led, doc.doc_id, doc.source, doc.lang, text, reason, detail, para, sent, start, end, k, k1, k2)

    kt_append, ki_append, ks_append, ke_append = kt.append, ki.append, ks.append, ke.append
    for k, doc in enumerate(docs):
        n_paras.append(len(doc.paragraphs))
        if doc.reason is not None:
            row(k, doc, doc.text, doc.reason, doc.detail, None, None, 0, len(doc.text), _DOC_ROW, 0)
            live.append(False)
            kept_all.append(None)
            kn.append(0)
        else:
            live.append(True)
            kept, routed = [], defaultdict(list)
            for p in doc.paragraphs:
                sents = p.sentences
                if len(sents) == 1:                 # most paragraphs: a line, a sentence
                    gone = _FIRST if sents[0].reason else _NONE
                else:
                    gone = [si for si, s in enumerate(sents) if s.reason]
                # p.remaining_text(), from what was just found
                t = "".join(p.text[s.start:s.end] for s in sents if not s.reason).strip() if gone else p.text
                if p.reason is not None and t:
                    row(k, doc, t, p.reason, p.detail, p.idx, None, p.start, p.start + len(p.text), p.idx, 0)
                # sentences removed before the paragraph was dropped keep their own rows
                for si in gone:
                    s = p.sentences[si]
                    text = p.text[s.start:s.end].strip()
                    if not text:
                        continue
                    if routing == "partition" and s.reason == "foreign_language" and s.lang:
                        routed[s.lang].append((p.idx, text, s.score or 0.0))
                        continue
                    start = p.start + s.start
                    row(k, doc, text, s.reason, s.detail, p.idx, si, start, start + len(text), p.idx, si + 1)
                if p.reason is None and t:
                    kept.append((p, t))
                    kt_append(t)
                    ki_append(p.idx)
                    ks_append(p.start)
                    ke_append(p.start + len(p.text))
            kept_all.append(kept)
            kn.append(len(kept))
            if not doc.paragraphs:
                row(k, doc, doc.text, "empty", json.dumps({"chars": len(doc.text)}), None, None, 0, len(doc.text),
                    _TRAILER, 0)
            for rlang in sorted(routed):
                pieces = routed[rlang]
                rt["ord"].append(k)
                rt["lang"].append(rlang)
                rt["doc_id"].append(doc.doc_id)
                rt["lang_score"].append(min(sc for _, _, sc in pieces))
                rt["text"].append("\n\n".join(" ".join(grp) for _, grp in _group_by_para(pieces)))
                rt["source"].append(doc.source)
                rt["metadata"].append(doc.metadata)
        for j, extra in enumerate(doc.extra_ledger):
            row(k, doc, extra["text"], extra["reason"], extra.get("detail"), extra.get("para_idx"), None,
                extra.get("char_start"), extra.get("char_end"), _EXTRA, j)
    offsets = pa.array(np.r_[0, np.cumsum(np.array(kn, np.int64))].astype(np.int32))
    table = pa.Table.from_pydict({
        "doc_id": [d.doc_id for d in docs], "source": [d.source for d in docs],
        "metadata": [d.metadata for d in docs], "lang": [d.lang for d in docs],
        "lang_score": [d.lang_score for d in docs], "file": [d.order[0] for d in docs],
        "pos": [d.order[1] for d in docs], "text": [d.text for d in docs], "live": live,
        "n_paragraphs": n_paras,
        "kept": pa.ListArray.from_arrays(offsets, pa.array(kt, pa.large_string())),
        "kept_idx": pa.ListArray.from_arrays(offsets, pa.array(ki, pa.int32())),
        "kept_start": pa.ListArray.from_arrays(offsets, pa.array(ks, pa.int64())),
        "kept_end": pa.ListArray.from_arrays(offsets, pa.array(ke, pa.int64())),
    }, schema=HANDOFF_DOCS)
    return Handoff(table, pa.Table.from_pydict(led, schema=HANDOFF_LEDGER),
                   pa.Table.from_pydict(rt, schema=HANDOFF_ROUTED), kept_all)


def _group_by_para(pieces):
    groups: list[tuple[int, list[str]]] = []
    for para, text, _ in pieces:
        if groups and groups[-1][0] == para:
            groups[-1][1].append(text)
        else:
            groups.append((para, [text]))
    return groups


def _np(col) -> np.ndarray:
    arr = col if isinstance(col, pa.Array) else col.combine_chunks()
    return arr.to_numpy(zero_copy_only=False)


def _large(table: pa.Table) -> pa.Table:
    """The table with large strings (64-bit offsets): phase 2 joins, takes and concatenates text,
    and a shard's text may pass the 2 GB of a plain string array."""
    fields = [pa.field(f.name, pa.large_string()) if f.type == pa.string() else
              pa.field(f.name, pa.list_(pa.large_string())) if f.type == pa.list_(pa.string()) else f
              for f in table.schema]
    return table.cast(pa.schema(fields))


_CHUNK_BYTES = 1 << 30


def _strings(col) -> pa.ChunkedArray:
    """A large-string column back as plain strings, in chunks of at most ~1 GB (Parquet files are
    written the same whatever the chunks)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if arr.type != pa.large_string():
        return pa.chunked_array([arr])
    if arr.nbytes <= _CHUNK_BYTES:
        return pa.chunked_array([arr.cast(pa.string())], pa.string())
    ends = np.cumsum(_np(pc.binary_length(arr).fill_null(0)))     # bytes up to the end of each row
    chunks, start = [], 0
    while start < len(arr):
        before = int(ends[start - 1]) if start else 0
        end = max(start + 1, int(np.searchsorted(ends, before + _CHUNK_BYTES, "right")))
        chunks.append(arr.slice(start, end - start).cast(pa.string()))
        start = end
    return pa.chunked_array(chunks, pa.string())


def _flat(col, dtype) -> np.ndarray:
    """The values of a list column, all rows' in a row."""
    values = col.combine_chunks().flatten()
    return values.to_numpy(zero_copy_only=False) if len(values) else np.zeros(0, dtype)


def build_tables(h: Handoff, decisions: pa.Table | None, run_id: str) -> tuple[dict[str, pa.Table], pa.Table, Counter]:
    """(documents per language, ledger, counts) of one shard, in input order: the hand-off with the
    barrier's decisions applied (a dropped document keeps only its own row and its rows from
    reading; a dropped paragraph gets its row before those of its removed sentences)."""
    docs, led, routed = _large(h.docs), _large(h.ledger), _large(h.routed)
    n = docs.num_rows
    counts: Counter = Counter()
    langs = docs.column("lang").to_pylist()
    in_chars = _np(pc.utf8_length(docs.column("text")))
    counts["in-docs"] += n
    counts["in-chars"] += int(in_chars.sum())
    by_lang: dict[str, list] = defaultdict(list)
    for k, lang in enumerate(langs):
        by_lang[lang].append(k)
    for lang, ks in by_lang.items():
        counts[f"inlang-docs-{lang}"] += len(ks)
        counts[f"inlang-chars-{lang}"] += int(in_chars[ks].sum())
    live = _np(docs.column("live"))
    n_paras = _np(docs.column("n_paragraphs"))
    kept = docs.column("kept").combine_chunks()
    per_doc = np.diff(kept.offsets.to_numpy())
    flat_doc = np.repeat(np.arange(n, dtype=np.int64), per_doc)
    flat_para = _flat(docs.column("kept_idx"), np.int32)
    # Decisions, applied in their order: a document's last one, a paragraph's first one.
    doc_k = doc_row = para_j = para_row = np.zeros(0, np.int64)
    new = None
    if decisions is not None and decisions.num_rows and n:     # (no document: nothing to decide)
        flat_key = flat_doc * (1 << 31) + flat_para
        dfile, dpos = _np(decisions.column("file")).astype(np.int64), _np(decisions.column("pos")).astype(np.int64)
        dpara = _np(decisions.column("para")).astype(np.int64)
        key = (_np(docs.column("file")).astype(np.int64) << 42) | _np(docs.column("pos")).astype(np.int64)
        by_key = np.argsort(key, kind="stable")
        at = np.minimum(np.searchsorted(key[by_key], (dfile << 42) | dpos), n - 1)
        k = by_key[at]
        ok = (key[k] == ((dfile << 42) | dpos)) & live[k]
        rows = np.arange(len(dfile))
        last = rows[ok & (dpara < 0)][::-1]                      # the last decision of each document
        doc_k, first = np.unique(k[last], return_index=True)
        doc_row = last[first]
        on_para = ok & (dpara >= 0)
        bad = np.flatnonzero(on_para & (dpara >= n_paras[k]))
        if len(bad):
            i = int(bad[0])
            raise ValueError(f"the dedup decisions name paragraph {int(dpara[i])} of document {int(k[i])} of this "
                             f"shard, which has {int(n_paras[k[i]])}: the work folder does not belong to this run")
        fk = k[on_para] * (1 << 31) + dpara[on_para]
        j = np.minimum(np.searchsorted(flat_key, fk), max(len(flat_key) - 1, 0))
        hit = flat_key[j] == fk if len(flat_key) else np.zeros(len(fk), bool)
        para_j, first = np.unique(j[hit], return_index=True)       # the first decision of each paragraph
        para_row = rows[on_para][hit][first]
    # The barrier's ledger rows (a dropped document's paragraphs get none of their own).
    if len(doc_k) or len(para_j):
        own = ~np.isin(flat_doc[para_j], doc_k)
        pj, prow = para_j[own], para_row[own]
        ords = np.concatenate([doc_k, flat_doc[pj]])
        nd, npara = len(doc_k), len(pj)
        reason = decisions.column("reason").take(pa.array(np.concatenate([doc_row, prow])))
        detail = decisions.column("detail").take(pa.array(np.concatenate([doc_row, prow])))
        detail = pc.if_else(pc.fill_null(pc.equal(detail, ""), True), "{}", detail)
        take = pa.array(ords)
        cols = {
            "doc_id": docs.column("doc_id").take(take),
            "text": pa.chunked_array([docs.column("text").take(pa.array(doc_k)),
                                      kept.flatten().take(pa.array(pj))], pa.large_string()),
            "reason": reason, "detail": detail,
            "stage": pa.array([STAGE_OF_REASON.get(r, "other") for r in reason.to_pylist()], pa.string()),
            "para_idx": pa.array(np.concatenate([np.zeros(nd, np.int32), flat_para[pj]]),
                                 mask=np.r_[np.ones(nd, bool), np.zeros(npara, bool)]),
            "sent_idx": pa.nulls(nd + npara, pa.int32()),
            "char_start": np.concatenate([np.zeros(nd, np.int64), _flat(docs.column("kept_start"), np.int64)[pj]]),
            "char_end": np.concatenate([in_chars[doc_k].astype(np.int64), _flat(docs.column("kept_end"), np.int64)[pj]]),
            "source": docs.column("source").take(take), "lang": docs.column("lang").take(take),
            "ord": ords.astype(np.int32), "k1": np.concatenate([np.full(nd, _DOC_ROW), flat_para[pj]]).astype(np.int32),
            "k2": np.zeros(nd + npara, np.int32),
        }
        chunked = lambda c: c if isinstance(c, pa.ChunkedArray) else pa.chunked_array(
            [c if isinstance(c, pa.Array) else pa.array(c)])
        new = pa.Table.from_arrays([chunked(cols[f.name]).cast(f.type) for f in led.schema], schema=led.schema)
    if len(doc_k):
        gone = np.zeros(n, bool)
        gone[doc_k] = True
        ords, k1 = _np(led.column("ord")), _np(led.column("k1"))
        led = led.filter(pa.array(~(gone[ords] & (k1 != _EXTRA))))
    if new is not None:
        led = pa.concat_tables([led, new])
        order = np.lexsort((_np(led.column("k2")), _np(led.column("k1")), _np(led.column("ord"))))
        led = led.take(pa.array(order))
    led_langs = led.column("lang").to_pylist()
    led_chars = _np(pc.utf8_length(led.column("text"))) if led.num_rows else np.zeros(0, np.int64)
    for reason, lang, chars in zip(led.column("reason").to_pylist(), led_langs, led_chars.tolist()):
        counts[f"ledger-{reason}"] += 1
        counts[f"ledger-{reason}-{lang}"] += 1
        counts[f"ledger-chars-{reason}"] += chars
    ledger = pa.Table.from_arrays(
        [_strings(led.column(f.name)) for f in LEDGER_SCHEMA if f.name != "run_id"] +
        [pa.array([run_id] * led.num_rows, pa.string())], schema=LEDGER_SCHEMA) if led.num_rows else \
        LEDGER_SCHEMA.empty_table()
    # Documents: the kept paragraphs that no decision dropped, joined by a blank line.
    keep = np.ones(len(flat_doc), bool)
    keep[para_j] = False
    dropped = np.zeros(n, bool)
    dropped[doc_k] = True
    remaining = np.bincount(flat_doc[keep], minlength=n) if len(flat_doc) else np.zeros(n, np.int64)
    out = live & ~dropped & (remaining > 0)
    emptied = int((live & ~dropped & (remaining == 0) & (n_paras > 0)).sum())
    if emptied:
        counts["out-docs-emptied"] += emptied
    values = kept.flatten()
    if len(para_j):
        values = values.filter(pa.array(keep))
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(np.r_[0, np.cumsum(remaining)].astype(np.int32)), values),
                            pa.scalar("\n\n", pa.large_string()))
    if routed.num_rows and len(doc_k):
        routed = routed.filter(pa.array(~dropped[_np(routed.column("ord"))]))
    r_langs = routed.column("lang").to_pylist()
    tables = {}
    lang_of = np.array(langs, dtype=object)
    for lang in sorted(set(lang_of[out].tolist()) | set(r_langs)):
        main = np.flatnonzero(out & (lang_of == lang))
        sel = docs.select(["doc_id", "lang_score", "source", "metadata"]).take(pa.array(main))
        cols = {"ord": pa.array(main.astype(np.int32)), "doc_id": sel.column("doc_id"),
                "lang_score": sel.column("lang_score"), "text": joined.take(pa.array(main)),
                "source": sel.column("source"), "metadata": sel.column("metadata")}
        part = pa.table(cols)
        r_idx = [i for i, x in enumerate(r_langs) if x == lang]
        if r_idx:
            part = pa.concat_tables([part, routed.take(pa.array(r_idx)).select(list(cols))])
            part = part.take(pa.array(np.argsort(_np(part.column("ord")), kind="stable")))
        m = part.num_rows
        tables[lang] = pa.Table.from_arrays([
            _strings(part.column("doc_id")),
            pa.DictionaryArray.from_arrays(pa.array(np.zeros(m, np.int32)), pa.array([lang], pa.string())),
            part.column("lang_score").combine_chunks(), _strings(part.column("text")),
            _strings(part.column("source")), pa.array([run_id] * m, pa.string()),
            _strings(part.column("metadata"))], schema=DOCS_SCHEMA)
        counts[f"out-docs-{lang}"] += m
        counts[f"out-chars-{lang}"] += int(pc.sum(pc.utf8_length(tables[lang].column("text"))).as_py() or 0)
    return tables, ledger, counts
