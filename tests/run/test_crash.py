"""Crash safety: a run killed with SIGKILL anywhere, then rerun, gives the bytes of an
uninterrupted run; no half-written file is ever visible under its final name."""
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.support import ROOT
from tests.support import shards_input as _shards_input

from pipeline.faults import POINTS

PER_SHARD = ("read", "stage1-written", "stage1-done", "finish-docs-written", "finish-done")
ONCE = ("barrier-start", "barrier-written", "history-segment-written", "before-manifest", "before-cleanup")
KILLS = ([(p, n) for p in PER_SHARD for n in (1, 3)] + [("temp-written", n) for n in (1, 9, 18, 27, 36)]
         + [(p, 1) for p in ONCE])


def _run(src, out, state, kill=None, extra=()):
    env = dict(os.environ)
    env.pop("PIPELINE_KILL_AT", None)
    if kill:
        env["PIPELINE_KILL_AT"] = f"{kill[0]}:{kill[1]}"
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"), "--input", str(src),
         "--output", str(out), "--workers", "1", "--quiet"] + (["--state", str(state)] if state else []) + list(extra),
        env=env, cwd=ROOT, capture_output=True, text=True)


def _snapshot(out, state):
    """Every byte that matters: documents, ledger, stats (without timing), history index."""
    snap = {}
    for root in (out / "docs", out / "ledger", state / "index"):
        for p in sorted(root.rglob("*")):
            if p.is_file():
                snap[str(p.relative_to(root.parent))] = p.read_bytes()
    stats = json.loads((out / "stats.json").read_text())
    stats.pop("timing")
    snap["stats"] = json.dumps(stats, sort_keys=True).encode()
    return snap


def _no_half_files(out, state):
    for root in (out, state):
        for p in root.rglob("*"):
            if not p.is_file() or p.name.startswith(".tmp-") or p.name == ".lock":
                continue
            if p.suffix == ".parquet":
                pq.read_metadata(p)
            elif p.suffix == ".npy":
                np.load(p)
            elif p.suffix == ".json":
                json.loads(p.read_text())


def test_points_are_all_exercised():
    # barrier-forgetting: a resume with another history index (test_rerun_with_a_state_folder_...)
    assert {p for p, _ in KILLS} | {"barrier-forgetting"} == set(POINTS) and len(KILLS) >= 20


@pytest.mark.slow
def test_killed_runs_resume_to_identical_bytes(tmp_path):
    src = _shards_input(tmp_path)
    ref_out, ref_state = tmp_path / "ref", tmp_path / "ref-state"
    r = _run(src, ref_out, ref_state)
    assert r.returncode == 0, r.stderr
    reference = _snapshot(ref_out, ref_state)
    for i, kill in enumerate(KILLS):
        out, state = tmp_path / f"o{i}", tmp_path / f"s{i}"
        r = _run(src, out, state, kill)
        assert r.returncode == -signal.SIGKILL, (kill, r.returncode, r.stderr)
        _no_half_files(out, state)
        r = _run(src, out, state)
        assert r.returncode == 0, (kill, r.stderr)
        assert _snapshot(out, state) == reference, kill
        assert not (out / "_work").exists()


@pytest.mark.slow
def test_killed_twice_and_killed_worker(tmp_path):
    src = _shards_input(tmp_path)
    ref_out, ref_state = tmp_path / "ref", tmp_path / "ref-state"
    assert _run(src, ref_out, ref_state).returncode == 0
    out, state = tmp_path / "o", tmp_path / "s"
    assert _run(src, out, state, ("stage1-done", 2)).returncode == -signal.SIGKILL
    assert _run(src, out, state, ("finish-done", 2)).returncode == -signal.SIGKILL
    # the shard that finished first has given up its hand-off and keys, not its emitted keys; the
    # one killed at the same point, before that, keeps them all
    stage1 = next((out / "_work").iterdir()) / "stage1"
    done = sorted(p.name[:5] for p in (stage1.parent / "final").glob("*.done.json"))
    assert len(done) == 2
    for suffix in (".docs.parquet", ".ledger.parquet", ".keys.parquet", ".sig.npy", ".bands.npy"):
        assert [(stage1 / f"{d}{suffix}").exists() for d in done].count(False) == 1, suffix
    assert all((stage1 / f"{d}.emitted.keys.parquet").exists() for d in done)
    assert _run(src, out, state).returncode == 0
    assert _snapshot(out, state) == _snapshot(ref_out, ref_state)
    # a worker of the process pool dies: the run stops with a clear message, the rerun completes
    out2, state2 = tmp_path / "o2", tmp_path / "s2"
    env = dict(os.environ, PIPELINE_KILL_AT="stage1-done:1")
    r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"),
                        "--input", str(src), "--output", str(out2), "--state", str(state2), "--workers", "2"],
                       env=env, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "worker process died" in r.stderr, r.stderr
    assert _run(src, out2, state2).returncode == 0
    assert _snapshot(out2, state2) == _snapshot(ref_out, ref_state)


@pytest.mark.slow
def test_resumed_with_a_state_folder_added(tmp_path):
    """Shards finished by an attempt without --state still reach the history index when the
    resumed run has one (their emitted keys are only written when a state folder is set)."""
    src = _shards_input(tmp_path)
    ref_out, ref_state = tmp_path / "ref", tmp_path / "ref-state"
    assert _run(src, ref_out, ref_state).returncode == 0
    out, state = tmp_path / "o", tmp_path / "s"
    assert _run(src, out, None, ("finish-done", 2)).returncode == -signal.SIGKILL
    assert _run(src, out, state).returncode == 0
    assert _snapshot(out, state) == _snapshot(ref_out, ref_state)


@pytest.mark.slow
def test_rerun_with_a_state_folder_of_earlier_nights(tmp_path):
    """A rerun that adds --state, to an interrupted or to a complete run made without it, dedups
    against the earlier nights in that state folder: the barrier made without them is not reused,
    nor what the shards it finished wrote with it, however the earlier attempt ended."""
    src = _shards_input(tmp_path)                 # night 2: all of it, night 1's documents too
    night1 = tmp_path / "night1"
    night1.mkdir()
    (night1 / "a.jsonl").write_bytes((src / "a.jsonl").read_bytes())
    s1 = tmp_path / "s1"
    assert _run(night1, tmp_path / "o-night1", s1).returncode == 0

    def fresh_state(name):
        shutil.copytree(s1, tmp_path / name)
        return tmp_path / name

    ref_out, ref_state = tmp_path / "ref", fresh_state("ref-state")
    assert _run(src, ref_out, ref_state).returncode == 0
    kept_in = [json.loads(d)["kept_in"] for d in pq.read_table(ref_out / "ledger").column("detail").to_pylist()
               if d and "kept_in" in d]
    assert any(k.startswith("run ") for k in kept_in)        # night 1 made some of night 2's drops
    reference = _snapshot(ref_out, ref_state)
    # interrupted without --state: after two shards were committed, or halfway through a shard's
    # documents (shard 0 is night 1's documents again: with the state it writes none), then
    # resumed with it; or the resume killed while it forgets the earlier barrier, and resumed again
    for i, kills in enumerate([[("finish-done", 2)], [("finish-docs-written", 1)],
                               [("finish-done", 2), ("barrier-forgetting", 1)]]):
        out, state = tmp_path / f"o{i}", fresh_state(f"s-{i}")
        assert _run(src, out, None, kills[0]).returncode == -signal.SIGKILL
        for kill in kills[1:]:
            assert _run(src, out, state, kill).returncode == -signal.SIGKILL
        r = _run(src, out, state)
        assert r.returncode == 0, r.stderr
        assert _snapshot(out, state) == reference, kills
    # complete without --state, run again with it: not "already complete"; also when the first
    # run was killed while removing its work folder (here: its markers of phase 2 and the barrier
    # gone, those of phase 1 left without their files)
    for i, kill in enumerate([None, ("before-cleanup", 1)]):
        out, state = tmp_path / f"c{i}", fresh_state(f"sc-{i}")
        assert _run(src, out, None, kill).returncode == (-signal.SIGKILL if kill else 0)
        if kill:
            work = next((out / "_work").iterdir())
            shutil.rmtree(work / "final")
            shutil.rmtree(work / "dedup")
            for p in (work / "stage1").glob("*.parquet"):
                p.unlink()
        assert _snapshot(out, state) != reference
        r = _run(src, out, state)
        assert r.returncode == 0, r.stderr
        assert _snapshot(out, state) == reference, kill
    # a state folder made with other dedup settings is refused before the attempt's work is undone
    out = tmp_path / "o-other"
    assert _run(src, out, None, ("finish-done", 2)).returncode == -signal.SIGKILL
    other = tmp_path / "s-other"
    r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"), "--input",
                        str(night1), "--output", str(tmp_path / "o-other-night1"), "--state", str(other),
                        "--set", "dedup.num_perm=64", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = _run(src, out, other)
    assert r.returncode == 2 and "num_perm" in r.stderr
    assert len(list(next((out / "_work").iterdir()).glob("final/*.done.json"))) == 2


@pytest.mark.slow
def test_killed_while_splitting_a_parquet_row_group(tmp_path):
    """A Parquet row group read in slices: a run killed while its slices are written, or after some
    slices' shards are done, resumes to the bytes of an uninterrupted run."""
    import pyarrow as pa
    rows = []
    for line in (ROOT / "tests" / "data" / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    rows = [r for r in rows if isinstance(r["text"], str)] * 3
    src = tmp_path / "in"
    src.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), src / "in.parquet", row_group_size=len(rows))
    size = pq.ParquetFile(src / "in.parquet").metadata.row_group(0).total_byte_size

    def run(out, kill=None):
        return _run(src, out, None, kill, ["--set", f"input.shard_size_mb={(size // 5 + 1) / 2**20}"])

    assert run(tmp_path / "ref").returncode == 0
    reference = _snapshot(tmp_path / "ref", tmp_path / "no-state")
    assert json.loads((tmp_path / "ref" / "stats.json").read_text())["inputs"]["shards"] == 5
    for i, kill in enumerate([("temp-written", 2), ("temp-written", 5), ("stage1-done", 2)]):
        out = tmp_path / f"o{i}"
        assert run(out, kill).returncode == -signal.SIGKILL
        r = run(out)
        assert r.returncode == 0, r.stderr
        assert _snapshot(out, tmp_path / "no-state") == reference, kill


@pytest.mark.slow
def test_lost_key_files(tmp_path):
    """A key file the barrier needs is never skipped: a history segment's is reported before any
    work (without it the earlier night's copies were silently kept), and a shard's lost while the
    run was stopped, or its emitted keys for the index, make that shard run again."""
    src = _shards_input(tmp_path)
    night1 = tmp_path / "night1"
    night1.mkdir()
    (night1 / "a.jsonl").write_bytes((src / "a.jsonl").read_bytes())
    s1 = tmp_path / "s1"
    assert _run(night1, tmp_path / "o-night1", s1).returncode == 0
    ref_state = tmp_path / "ref-state"
    shutil.copytree(s1, ref_state)
    assert _run(src, tmp_path / "ref", ref_state).returncode == 0
    reference = _snapshot(tmp_path / "ref", ref_state)
    for suffix in (".keys.parquet", ".sig.npy", ".bands.npy"):
        state = tmp_path / f"s{suffix}"
        shutil.copytree(s1, state)
        lost = next((state / "index").glob(f"run-*{suffix}"))
        lost.unlink()
        out = tmp_path / f"o{suffix}"
        r = _run(src, out, state)
        assert r.returncode == 2 and str(lost) in r.stderr and "history index" in r.stderr, r.stderr
        assert not list(out.rglob("*.done.json")) and not (out / "docs").exists()
        index = (state / "index" / "index.json").read_bytes()
        for extra in ([], ["--compact"]):               # the index command says so too, and compacts nothing
            r = subprocess.run([sys.executable, "-m", "pipeline", "index", str(state)] + extra, cwd=ROOT,
                               capture_output=True, text=True)
            assert r.returncode == 2 and str(lost) in r.stderr, r.stderr
        assert (state / "index" / "index.json").read_bytes() == index
    for suffix in (".keys.parquet", ".sig.npy", ".bands.npy"):
        state = tmp_path / f"t{suffix}"
        shutil.copytree(s1, state)
        out = tmp_path / f"p{suffix}"
        assert _run(src, out, state, ("barrier-start", 1)).returncode == -signal.SIGKILL
        next((out / "_work").iterdir()).joinpath("stage1", f"00001{suffix}").unlink()
        r = _run(src, out, state)
        assert r.returncode == 0, r.stderr
        assert _snapshot(out, state) == reference, suffix
        # a finished shard's emitted keys (what the run appends to the index) lost: the shard is
        # made again, and the index gets all of the run's
        out = tmp_path / f"q{suffix}"
        state = tmp_path / f"u{suffix}"
        shutil.copytree(s1, state)
        assert _run(src, out, state, ("finish-done", 2)).returncode == -signal.SIGKILL
        lost = sorted(next((out / "_work").iterdir()).glob(f"stage1/*.emitted{suffix}"))
        assert len(lost) == 2
        for p in lost:       # shard 0's hand-off is gone (phase 1 runs again), shard 1's is not (killed before)
            p.unlink()
        r = _run(src, out, state)
        assert r.returncode == 0, r.stderr
        assert _snapshot(out, state) == reference, suffix


@pytest.mark.slow
def test_resumed_after_another_run_appended(tmp_path):
    """A run interrupted with --state, resumed after another run appended to the index, dedups
    against that run too: the same bytes as a run that started after it."""
    src = _shards_input(tmp_path)
    night1, other = tmp_path / "night1", tmp_path / "other"
    night1.mkdir()
    other.mkdir()
    (night1 / "a.jsonl").write_bytes((src / "a.jsonl").read_bytes())
    shutil.copy(src / "seed.txt", other / "seed.txt")         # night 2 holds it too
    state, ref_state = tmp_path / "s", tmp_path / "ref-state"
    assert _run(night1, tmp_path / "o-night1", state).returncode == 0
    shutil.copytree(state, ref_state)
    out = tmp_path / "o"
    assert _run(src, out, state, ("finish-done", 2)).returncode == -signal.SIGKILL
    for st in (state, ref_state):
        assert _run(other, tmp_path / f"o-other-{st.name}", st).returncode == 0
    r = _run(src, out, state)
    assert r.returncode == 0, r.stderr
    ref_out = tmp_path / "ref"
    assert _run(src, ref_out, ref_state).returncode == 0
    assert _snapshot(out, state) == _snapshot(ref_out, ref_state)
    led = pq.read_table(ref_out / "ledger").to_pylist()
    assert any(r["doc_id"].startswith("seed") and r["reason"] == "duplicate_document" for r in led)
