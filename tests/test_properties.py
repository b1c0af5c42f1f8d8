"""Property-based: random Unicode documents and corruptions never crash the pipeline, every
record is accounted for, and the output does not depend on the worker count."""
import itertools
import json

from tests.support import file_bytes, read_docs, read_ledger, run_pipeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.steps import repair
from pipeline.steps.repair import RepairConfig

SENTENCES = [
    "The regional council said emergency crews had rescued dozens of residents.",
    "Las autoridades pidieron a los vecinos que no se acercaran al río.",
    "Die Brücke war im 19. Jahrhundert zum ersten Mal geplant worden.",
    "Новая станция открылась в субботу утром.", "经过一年的改造，市中心公园重新开放。",
    "Trump's comments on the state of U.S.", "  • Julie Sanders", "By Maria Keller, Reuters",
]
piece = st.one_of(
    st.text(min_size=0, max_size=80),                                     # any Unicode, controls, surrogates
    st.sampled_from(SENTENCES),
    st.sampled_from(SENTENCES).map(lambda s: s.encode("utf-8").decode("latin-1")),   # mojibake
    st.sampled_from(["\n\n", "\n", "\x00", "\u200b", "\u202e", "\ufeff", "\r\n", " " * 50, "\ud800"]),
)
document = st.lists(piece, min_size=0, max_size=12).map("".join)


def _line(i, text, corrupt):
    if corrupt == 1:
        return b'{"id": "d%d", "text": ' % i + json.dumps(text).encode()[:-3] + b"\n"      # broken JSON
    if corrupt == 2:                                                       # bad bytes inside the text
        return json.dumps({"id": f"d{i}", "text": text}).encode()[:-2] + b'\xff\xfe"}\n'

    return json.dumps({"id": f"d{i}", "text": text}).encode() + b"\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(st.tuples(document, st.sampled_from([0, 0, 0, 1, 2])), min_size=1, max_size=8))
def test_random_documents(tmp_path_factory, docs):
    tmp = tmp_path_factory.mktemp("prop")
    src = tmp / "in.jsonl"
    src.write_bytes(b"".join(_line(i, t, c) for i, (t, c) in enumerate(docs)))
    run_pipeline([src], tmp / "a", **{"input.shard_size_mb": 0.001})
    run_pipeline([src], tmp / "b", **{"input.shard_size_mb": 0.001, "executor.workers": 2})
    assert file_bytes(tmp / "a") == file_bytes(tmp / "b")
    kept = {}
    for d in read_docs(tmp / "a"):
        kept.setdefault(d["doc_id"], []).append(d["text"])
    led = {}
    for r in read_ledger(tmp / "a"):
        led.setdefault(r["doc_id"], []).append(r)
    squash = lambda s: "".join(s.split())
    for i, (text, corrupt) in enumerate(docs):
        rows = led.get(f"d{i}", []) + led.get(f"in.jsonl:{i + 1}", [])
        if corrupt == 1:
            assert [r["reason"] for r in rows] == ["invalid_input"]
            continue
        if corrupt == 2:                     # the record is kept; the bad bytes are reported
            assert any(r["reason"] == "invalid_input" for r in rows)
        fixed = repair.repair_text(text + ("\ufffd\ufffd" if corrupt == 2 else ""), RepairConfig()).text
        pieces = kept.get(f"d{i}", []) + [r["text"] for r in rows
                                          if r["reason"] not in ("invalid_input", "removed_characters")]
        assert sorted(squash("".join(pieces))) == sorted(squash(fixed)), (i, text)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(document, min_size=0, max_size=12), n_words=st.integers(1, 6))
def test_compiled_kernels_equal_numpy(texts, n_words):
    # pipeline/text/_native.c against the numpy functions it stands in for, on any Unicode (CJK and
    # mixed texts, surrogates, empty texts): the same arrays, so the output never depends on
    # whether the kernel was built.
    import numpy as np

    from pipeline.dedup import tokens
    from pipeline.text import chars
    assert tokens._native is not None, "pipeline.text._native was not built"
    fast = tokens.tokenize(texts)
    slow = tokens._tokenize_numpy(*chars.code_points(texts))
    for name in ("norm", "norm_offsets", "tok_starts", "tok_hash", "tok_offsets", "cjk"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for got, want in zip(tokens.shingle_hashes(fast, n_words), tokens._shingle_hashes_numpy(slow, n_words, 5)):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    # language ID's scan: character classes, function-word hits, word runs per document
    from pipeline.model import Document
    from pipeline.steps.langid import textscan
    docs = [Document(doc_id=str(i), text=t + " the der und que что في", source="p", order=(0, i), metadata=None)
            for i, t in enumerate(texts)]
    fast = textscan.TextBatches(docs).batches
    kernel, textscan._kernel = textscan._kernel, None
    try:
        slow = textscan.TextBatches(docs).batches
    finally:
        textscan._kernel = kernel
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert a[0] == b[0]
        for x, y in zip(a[1:], b[1:]):
            assert x.dtype == y.dtype and np.array_equal(x, y)
        # the sentences' character counts: spans cut at every third character of each document,
        # one empty span per document, and a run of spans skipped now and then
        _, offsets, cls = a[:3]
        spans, owner = [], []
        for d in range(len(offsets) - 1):
            lo, hi = int(offsets[d]), int(offsets[d + 1])
            cuts = list(range(lo, hi, 3)) + [hi]
            pieces = [xy for i, xy in enumerate(itertools.pairwise(cuts)) if i % 5 != 3] + [(hi, hi)]
            spans += pieces
            owner += [d] * len(pieces)
        if spans:
            se, doc_idx = np.array(spans, np.int64), np.array(owner, np.int64)
            got = textscan.span_counts(cls, offsets, se, doc_idx, 2)
            textscan._kernel = None
            try:
                want = textscan.span_counts(cls, offsets, se, doc_idx, 2)
            finally:
                textscan._kernel = kernel
            for x, y in zip(got, want):
                assert x.dtype == y.dtype and np.array_equal(x, y)
