"""What an operator sees: report with plots, explanations, effective config, progress, loaders."""
import json
import re
import subprocess
import sys

import pandas as pd
import pyarrow.dataset as ds

from tests.support import DATA, ROOT, run_pipeline

PY = [sys.executable, "-m", "pipeline"]


def test_report_html_is_self_contained_with_plots(seed_output):
    html = (seed_output / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 4
    for title in ("Documents in and out per language", "Characters in and out per language",
                  "Removed spans by reason", "CPU seconds per stage",
                  "Duplicate clusters by size"):
        assert title in html
    assert not re.search(r"""(src|href)=["']?https?://""", html) and "<script" not in html
    assert "foreign_language" in html and "Julie Sanders" in html      # ledger examples per reason
    assert "report.html" in (seed_output / "manifest.json").read_text()
    # where the wall time went, phase by phase, from stats.json's marks
    marks = json.loads((seed_output / "stats.json").read_text())["timing"]["phase_marks"]
    assert 0 <= marks["phase1_start"] <= marks["phase1_end"] <= marks["phase2_start"] <= marks["phase2_end"]
    assert re.search(r"start [\d.]+ s, clean [\d.]+ s, dedup barrier [\d.]+ s, write [\d.]+ s",
                     (seed_output / "report.md").read_text(encoding="utf-8"))


def test_why_explains_removals(seed_output):
    r = subprocess.run(PY + ["why", "000_843438354d03bc53.txt", str(seed_output)], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0
    assert "kept in lang=en" in r.stdout
    assert "removed (foreign_language, langid) at paragraph 14, sentence 0" in r.stdout and "lang=es" in r.stdout
    assert "removed (truncated, filters)" in r.stdout and "rule=abbreviation_end" in r.stdout
    r = subprocess.run(PY + ["why", "nope", str(seed_output)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "not in this output" in r.stdout


def test_report_is_regenerated(tmp_path):
    out = tmp_path / "o"
    run_pipeline([DATA / "corpus.jsonl"], out)
    (out / "report.html").unlink()
    r = subprocess.run(PY + ["report", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and (out / "report.html").exists()
    assert "Duplicate clusters by size" in (out / "report.html").read_text()


def test_effective_config_and_its_errors():
    r = subprocess.run(PY + ["config", str(ROOT / "configs" / "default.yaml"), "--set", "dedup.keep=longest"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "keep: longest" in r.stdout and "minhash_backend: affine32" in r.stdout
    r = subprocess.run(PY + ["config", str(ROOT / "configs" / "default.yaml"), "--set", "dedup.bands=7"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "dedup.bands" in r.stderr


def test_progress_lines_when_not_on_a_terminal(tmp_path):
    r = subprocess.run(PY + ["run", str(ROOT / "configs" / "default.yaml"), "--input", str(DATA / "corpus.jsonl"),
                             "--output", str(tmp_path / "o"), "--workers", "1"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0
    assert re.search(r"clean: shard 0 done \(1/1; [\d,]+ docs/s, [\d.]+ MB/s\)", r.stderr)
    assert "done: 11 document row(s) kept" in r.stderr
    q = subprocess.run(PY + ["run", str(ROOT / "configs" / "default.yaml"), "--input", str(DATA / "corpus.jsonl"),
                             "--output", str(tmp_path / "o2"), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert q.returncode == 0 and q.stderr == ""


def test_output_loads_with_pandas_and_pyarrow_dataset(corpus_output):
    dataset = ds.dataset(corpus_output / "docs", format="parquet")
    t = dataset.to_table()
    assert t.num_rows == 11 and set(t.column("lang").to_pylist()) >= {"en", "de", "zh"}
    df = pd.read_parquet(corpus_output / "docs")
    assert len(df) == 11 and "doc_id" in df.columns and set(df["lang"]) >= {"en", "de", "zh"}
    import pyarrow.parquet as pq
    assert pq.read_table(corpus_output / "docs").num_rows == 11
    led = pd.read_parquet(corpus_output / "ledger")
    assert set(led["reason"]) >= {"foreign_language", "duplicate_document", "invalid_input"}


def test_report_examples_are_evenly_spaced_across_ledger_files(tmp_path):
    """The report's examples are picked file by file (bounded memory) but are the same rows as
    picking from the whole ledger at once: every k-th row of each reason, in ledger order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.io.schemas import LEDGER_SCHEMA
    from pipeline.report import ledger_samples
    rows, paths = [], []
    for f in range(4):
        part = [{"doc_id": f"d{f}-{i}", "text": f"text {f} {i}", "reason": ("truncated", "byline", "foreign_language")[i % 3 if f else 0],
                 "detail": "{}", "stage": "filters", "para_idx": i, "sent_idx": None, "char_start": 0, "char_end": 1,
                 "source": "x", "run_id": "r"} for i in range(7 + f)]
        rows += part
        paths.append(str(tmp_path / f"part-{f:05d}.parquet"))
        pq.write_table(pa.Table.from_pylist(part, schema=LEDGER_SCHEMA), paths[-1])
    got = ledger_samples(paths, 3)
    for reason in ("truncated", "byline", "foreign_language"):
        mine = [r for r in rows if r["reason"] == reason]
        step = max(1, len(mine) // 3)
        assert got[reason][0] == len(mine)
        assert [r["doc_id"] for r in got[reason][1]] == [r["doc_id"] for r in mine[::step][:3]]


def test_run_takes_config_overrides(tmp_path):
    """``run --set KEY=VALUE`` changes the run's config (the manifest records it); a bad key or
    value stops the run with a message that names it, before anything is written."""
    cfg = str(ROOT / "configs" / "default.yaml")
    r = subprocess.run(PY + ["run", cfg, "--input", str(DATA / "corpus.jsonl"), "--output", str(tmp_path / "o"),
                             "--quiet", "--set", "dedup.keep=longest", "--set", "dedup.min_near_words=5"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["config"]["dedup"]["keep"] == "longest"
    assert manifest["config"]["dedup"]["min_near_words"] == 5
    for bad, named in (("dedup.bands=7", "dedup.bands"), ("dedup.nope=1", "dedup.nope"), ("dedup.keep", "--set")):
        r = subprocess.run(PY + ["run", cfg, "--input", str(DATA / "corpus.jsonl"), "--output", str(tmp_path / "b"),
                                 "--set", bad], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 2 and named in r.stderr, (bad, r.stderr)
        assert not (tmp_path / "b").exists()


def test_console_script_runs_and_reports_errors(tmp_path):
    """The installed ``clean-corpus`` script (cli.entry, as ``python -m pipeline``) cleans the seed,
    and exits with 2 and the bad key named for a bad config."""
    import os
    script = os.path.join(os.path.dirname(sys.executable), "clean-corpus")
    out = tmp_path / "out"
    r = subprocess.run([script, "run", str(ROOT / "configs" / "default.yaml"), "--input", str(ROOT / "seeds"),
                        "--output", str(out), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert (out / "manifest.json").exists()
    assert len(ds.dataset(str(out / "docs"), format="parquet").to_table()) == 1
    reasons = sorted(ds.dataset(str(out / "ledger"), format="parquet").to_table().column("reason").to_pylist())
    assert reasons == ["byline", "foreign_language", "truncated", "truncated"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("segment:\n  splitter: nope\n", encoding="utf-8")
    r = subprocess.run([script, "run", str(bad), "--input", str(ROOT / "seeds"), "--output", str(tmp_path / "o2")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "segment.splitter" in r.stderr
