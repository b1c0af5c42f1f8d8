"""Phase 2's tables of a shard: its hand-off (``handoff.py``) with the barrier's decisions applied,
as the output's document tables (one per language) and ledger, in input order, all on columns."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import REASONS
from ..io.schemas import DOCS_SCHEMA, LEDGER_SCHEMA
from .handoff import DOC_ROW, EXTRA_ROW, Handoff
from .stats import Counts

_CHUNK_BYTES = 1 << 30


def build_tables(h: Handoff, decisions: pa.Table | None, run_id: str) -> tuple[dict[str, pa.Table], pa.Table, Counts]:
    """(documents per language, ledger, counts) of one shard, in input order: the hand-off with the
    barrier's decisions applied (a dropped document keeps only its own row and its other
    removals' rows; a dropped paragraph gets its row before those of its removed sentences)."""
    docs, led, routed = _large(h.docs), _large(h.ledger), _large(h.routed)
    n = docs.num_rows
    counts = Counts(docs_in=n)
    langs = docs.column("lang").to_pylist()
    in_chars = _np(pc.utf8_length(docs.column("text")))
    counts.chars_in = int(in_chars.sum())
    lang_of = np.array(langs, dtype=object)
    for lang in set(langs):
        mine = lang_of == lang
        counts.docs_in_by_lang[lang] += int(mine.sum())
        counts.chars_in_by_lang[lang] += int(in_chars[mine].sum())
    live = _np(docs.column("live"))
    n_paras = _np(docs.column("n_paragraphs"))
    kept = docs.column("kept").combine_chunks()
    flat_doc = np.repeat(np.arange(n, dtype=np.int64), np.diff(kept.offsets.to_numpy()))
    flat_para = _flat(docs.column("kept_idx"), np.int32)
    doc_k, doc_row, para_j, para_row = _decided(docs, decisions, live, n_paras, flat_doc, flat_para)
    if len(doc_k):       # a dropped document keeps its own row and its removals outside the paragraphs
        gone = np.zeros(n, bool)
        gone[doc_k] = True
        ords, k1 = _np(led.column("ord")), _np(led.column("k1"))
        led = led.filter(pa.array(~(gone[ords] & (k1 != EXTRA_ROW))))
    if len(doc_k) or len(para_j):
        new = _decision_rows(docs, decisions, kept, in_chars, flat_doc, flat_para, doc_k, doc_row, para_j, para_row,
                             led.schema)
        led = pa.concat_tables([led, new])
        led = led.take(pa.array(np.lexsort((_np(led.column("k2")), _np(led.column("k1")), _np(led.column("ord"))))))
    ledger = ledger_table(led, run_id, counts)
    # Documents: the kept paragraphs that no decision dropped, joined by a blank line.
    keep = np.ones(len(flat_doc), bool)
    keep[para_j] = False
    dropped = np.zeros(n, bool)
    dropped[doc_k] = True
    remaining = np.bincount(flat_doc[keep], minlength=n) if len(flat_doc) else np.zeros(n, np.int64)
    out = live & ~dropped & (remaining > 0)
    counts.docs_emptied = int((live & ~dropped & (remaining == 0) & (n_paras > 0)).sum())
    values = kept.flatten()
    if len(para_j):
        values = values.filter(pa.array(keep))
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(np.r_[0, np.cumsum(remaining)].astype(np.int32)), values),
                            pa.scalar("\n\n", pa.large_string()))
    if routed.num_rows and len(doc_k):
        routed = routed.filter(pa.array(~dropped[_np(routed.column("ord"))]))
    r_langs = routed.column("lang").to_pylist()
    tables = {}
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
        counts.docs_out_by_lang[lang] += m
        counts.chars_out_by_lang[lang] += int(pc.sum(pc.utf8_length(tables[lang].column("text"))).as_py() or 0)
    return tables, ledger, counts


def _decided(docs: pa.Table, decisions: pa.Table | None, live, n_paras, flat_doc, flat_para):
    """Which documents and kept paragraphs the decisions drop, in their order (a document's last
    decision, a paragraph's first): (document numbers, their decision rows, indexes into the kept
    paragraphs, their decision rows)."""
    none = np.zeros(0, np.int64)
    n = docs.num_rows
    if decisions is None or not decisions.num_rows or not n:     # (no document: nothing to decide)
        return none, none, none, none
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
    return doc_k, doc_row, para_j, rows[on_para][hit][first]


def _decision_rows(docs, decisions, kept, in_chars, flat_doc, flat_para, doc_k, doc_row, para_j, para_row,
                   schema: pa.Schema) -> pa.Table:
    """The decisions' ledger rows, as hand-off ledger rows (a dropped document's paragraphs get
    none of their own)."""
    own = ~np.isin(flat_doc[para_j], doc_k)
    pj, prow = para_j[own], para_row[own]
    ords = np.concatenate([doc_k, flat_doc[pj]])
    nd, npara = len(doc_k), len(pj)
    which = pa.array(np.concatenate([doc_row, prow]))
    detail = decisions.column("detail").take(which)
    take = pa.array(ords)
    cols = {
        "doc_id": docs.column("doc_id").take(take),
        "text": pa.chunked_array([docs.column("text").take(pa.array(doc_k)),
                                  kept.flatten().take(pa.array(pj))], pa.large_string()),
        "reason": decisions.column("reason").take(which),
        "detail": pc.if_else(pc.fill_null(pc.equal(detail, ""), True), "{}", detail),
        "para_idx": pa.array(np.concatenate([np.zeros(nd, np.int32), flat_para[pj]]),
                             mask=np.r_[np.ones(nd, bool), np.zeros(npara, bool)]),
        "sent_idx": pa.nulls(nd + npara, pa.int32()),
        "char_start": np.concatenate([np.zeros(nd, np.int64), _flat(docs.column("kept_start"), np.int64)[pj]]),
        "char_end": np.concatenate([in_chars[doc_k].astype(np.int64), _flat(docs.column("kept_end"), np.int64)[pj]]),
        "source": docs.column("source").take(take), "lang": docs.column("lang").take(take),
        "ord": ords.astype(np.int32), "k1": np.concatenate([np.full(nd, DOC_ROW), flat_para[pj]]).astype(np.int32),
        "k2": np.zeros(nd + npara, np.int32),
    }
    chunked = lambda c: c if isinstance(c, pa.ChunkedArray) else pa.chunked_array(
        [c if isinstance(c, pa.Array) else pa.array(c)])
    return pa.Table.from_arrays([chunked(cols[f.name]).cast(f.type) for f in schema], schema=schema)


def ledger_table(led: pa.Table, run_id: str, counts: Counts) -> pa.Table:
    """The ledger file's table from hand-off ledger rows (sorted): each row's ``stage`` is its
    reason's (``registry.reason``), and the run's id; counted by reason and document language."""
    if not led.num_rows:
        return LEDGER_SCHEMA.empty_table()
    reasons = led.column("reason").to_pylist()
    chars = _np(pc.utf8_length(led.column("text"))).tolist()
    for reason, lang, n in zip(reasons, led.column("lang").to_pylist(), chars):
        counts.ledger_rows.setdefault(reason, Counter())[lang] += 1
        counts.ledger_chars[reason] += n
    names = sorted(set(reasons))
    unknown = [r for r in names if r not in REASONS]
    if unknown:
        raise ValueError(f"ledger reason(s) {unknown} are not declared (registry.reason)")
    stage = pa.array([REASONS[r].stage for r in names], pa.string()).take(
        pc.index_in(led.column("reason"), value_set=pa.array(names, pa.large_string())))
    cols = {f.name: _strings(led.column(f.name)) for f in LEDGER_SCHEMA if f.name not in ("stage", "run_id")}
    cols["stage"] = pa.chunked_array([stage])
    cols["run_id"] = pa.chunked_array([pa.array([run_id] * led.num_rows, pa.string())])
    return pa.Table.from_arrays([cols[f.name] for f in LEDGER_SCHEMA], schema=LEDGER_SCHEMA)


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
