"""What phase 1 hands to phase 2, per shard, in the work folder.

The barrier's decisions only ever remove a whole kept document or whole kept paragraphs. So
phase 1, which knows everything else, writes what phase 2 needs already in output form: per
document its kept paragraphs (text, index, offsets), and a ledger row for every removal the steps
recorded, each with a sort key (document, paragraph, row in paragraph) that puts a decision's
row where it belongs. Phase 2 (``tables.py``) then works on columns, with no Python object per
paragraph or sentence.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..io import atomic
from ..io.schemas import LEDGER_SCHEMA
from ..model import Document, Paragraph
from ..steps.langid import FOREIGN_LANGUAGE

DOC_ROW, EXTRA_ROW = -1, 2**31 - 1     # the paragraph key of a document's own row, and of its other removals

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
# The ledger's columns but ``stage`` and ``run_id`` (phase 2 adds them: ``tables.ledger_table``),
# with the document's language and the sort key (ord: document, k1: paragraph, k2: row in it).
HANDOFF_LEDGER = pa.schema([f for f in LEDGER_SCHEMA if f.name not in ("stage", "run_id")] + [
    pa.field("lang", pa.string()), pa.field("ord", pa.int32()), pa.field("k1", pa.int32()), pa.field("k2", pa.int32())])
# Foreign sentences routed to their own language (``langid.foreign_routing: partition``).
HANDOFF_ROUTED = pa.schema([("ord", pa.int32()), ("lang", pa.string()), ("doc_id", pa.string()),
                            ("lang_score", pa.float32()), ("text", pa.string()), ("source", pa.string()),
                            ("metadata", pa.string())])
HANDOFF_FILES = (".docs.parquet", ".ledger.parquet", ".routed.parquet")


@dataclass
class Handoff:
    docs: pa.Table
    ledger: pa.Table
    routed: pa.Table
    kept: list          # per document, [(paragraph, kept text)] or None (for the dedup keys)

    def write(self, base: str) -> None:
        # Neither compressed nor with statistics: these files are read once, whole, by phase 2 and
        # removed once the shard is committed.
        atomic.write_table(self.ledger, base + ".ledger.parquet", "none", statistics=False)
        if self.routed.num_rows:
            atomic.write_table(self.routed, base + ".routed.parquet", "none", statistics=False)
        elif os.path.exists(base + ".routed.parquet"):      # an interrupted attempt's, of another config
            os.remove(base + ".routed.parquet")
        atomic.write_table(self.docs, base + ".docs.parquet", "none", statistics=False)   # last

    @staticmethod
    def read(base: str) -> "Handoff":
        routed = base + ".routed.parquet"
        return Handoff(atomic.read_table(base + ".docs.parquet"), atomic.read_table(base + ".ledger.parquet"),
                       atomic.read_table(routed) if os.path.exists(routed) else HANDOFF_ROUTED.empty_table(), [])


class _Ledger:
    """The hand-off's ledger rows, as column lists."""

    def __init__(self):
        self.cols: dict[str, list] = {f.name: [] for f in HANDOFF_LEDGER}

    def row(self, k: int, doc: Document, text: str, removal, para, sent, start, end, k1: int, k2: int) -> None:
        for name, value in (("doc_id", doc.doc_id), ("text", text), ("reason", removal.reason.name),
                            ("detail", removal.detail), ("para_idx", para), ("sent_idx", sent),
                            ("char_start", start), ("char_end", end), ("source", doc.source), ("lang", doc.lang),
                            ("ord", k), ("k1", k1), ("k2", k2)):
            self.cols[name].append(value)

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=HANDOFF_LEDGER)


_FIRST, _NONE = (0,), ()


def handoff(docs: list[Document], routing: str) -> Handoff:
    """Phase 1's result for phase 2 (see above): every removal of the documents as a ledger row,
    the rest as kept paragraphs; with ``routing == "partition"`` foreign sentences become rows
    in their own language instead of ledger rows."""
    led = _Ledger()
    rt: dict[str, list] = {f.name: [] for f in HANDOFF_ROUTED}
    live, n_paras, kept_all = [], [], []
    kt, ki, ks, ke, kn = [], [], [], [], []
    kt_append, ki_append, ks_append, ke_append = kt.append, ki.append, ks.append, ke.append
    for k, doc in enumerate(docs):
        n_paras.append(len(doc.paragraphs))
        if doc.removed is not None:
            led.row(k, doc, doc.text, doc.removed, None, None, 0, len(doc.text), DOC_ROW, 0)
            live.append(False)
            kept_all.append(None)
            kn.append(0)
        else:
            live.append(True)
            kept: list[tuple[Paragraph, str]] = []
            routed = defaultdict(list)
            for p in doc.paragraphs:
                sents = p.sentences
                if len(sents) == 1:                 # most paragraphs: a line, a sentence
                    gone = _FIRST if sents[0].removed else _NONE
                else:
                    gone = [si for si, s in enumerate(sents) if s.removed]
                # p.remaining_text(), from what was just found
                t = "".join(p.text[s.start:s.end] for s in sents if not s.removed).strip() if gone else p.text
                if p.removed is not None and t:
                    led.row(k, doc, t, p.removed, p.idx, None, p.start, p.start + len(p.text), p.idx, 0)
                # sentences removed before the paragraph was dropped keep their own rows
                for si in gone:
                    s = sents[si]
                    text = p.text[s.start:s.end].strip()
                    if not text:
                        continue
                    if routing == "partition" and s.removed.reason is FOREIGN_LANGUAGE and s.lang:
                        routed[s.lang].append((p.idx, text, s.score or 0.0))
                        continue
                    start = p.start + s.start
                    led.row(k, doc, text, s.removed, p.idx, si, start, start + len(text), p.idx, si + 1)
                if p.removed is None and t:
                    kept.append((p, t))
                    kt_append(t)
                    ki_append(p.idx)
                    ks_append(p.start)
                    ke_append(p.start + len(p.text))
            kept_all.append(kept)
            kn.append(len(kept))
            for rlang in sorted(routed):
                pieces = routed[rlang]
                rt["ord"].append(k)
                rt["lang"].append(rlang)
                rt["doc_id"].append(doc.doc_id)
                rt["lang_score"].append(min(sc for _, _, sc in pieces))
                rt["text"].append("\n\n".join(" ".join(grp) for _, grp in _group_by_para(pieces)))
                rt["source"].append(doc.source)
                rt["metadata"].append(doc.metadata)
        for j, r in enumerate(doc.removals):
            led.row(k, doc, r.text, r, None, None, r.start, r.end, EXTRA_ROW, j)
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
    return Handoff(table, led.table(), pa.Table.from_pydict(rt, schema=HANDOFF_ROUTED), kept_all)


def _group_by_para(pieces):
    groups: list[tuple[int, list[str]]] = []
    for para, text, _ in pieces:
        if groups and groups[-1][0] == para:
            groups[-1][1].append(text)
        else:
            groups.append((para, [text]))
    return groups
