"""A run's plan: resume and idempotency, what a rerun reuses, folders checked before any work,
key files lost while it goes, and the history index's settings."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from pipeline.io.inputs import plan
from pipeline.run import phases
from pipeline.run.workdir import WorkFolder
from tests.support import CORPUS, ROOT, file_bytes, make_config, read_docs, read_ledger, run_pipeline
from tests.support import shards_input as _shards_input


def test_a_committed_shard_task_run_again_returns_its_result(tmp_path):
    """Phase 2 removes a shard's hand-off and keys once the shard is committed; the same task run
    again (as Ray retries a task whose worker died before answering) returns the committed result
    and leaves the output as it was."""
    src = _shards_input(tmp_path)
    cfg = make_config([src], tmp_path / "out", **{"input.shard_size_mb": 0.001})
    run = run_pipeline([src], tmp_path / "ref", **{"input.shard_size_mb": 0.001})
    _files, shards = plan(list(cfg.input.paths), cfg.input)
    work = WorkFolder(str(tmp_path / "out"), run.run_id)
    work.make()
    out = tmp_path / "out"
    spec = shards[0]
    phases.clean_shard(spec, cfg, work)
    first = phases.finish_shard(spec, cfg, work, str(out), run.run_id)
    assert not os.path.exists(work.shard(0) + ".docs.parquet")          # the hand-off is gone
    assert not os.path.exists(work.shard(0) + ".keys.parquet")          # and so are its keys
    before = file_bytes(out)
    assert before and phases.finish_shard(spec, cfg, work, str(out), run.run_id) == first
    assert file_bytes(out) == before


def test_rerun_is_idempotent_and_resumes(tmp_path):
    src = _shards_input(tmp_path)
    kw = {"input.shard_size_mb": 0.001, "output.keep_work": True}
    a = run_pipeline([src], tmp_path / "out", **kw)
    before = file_bytes(tmp_path / "out")
    again = run_pipeline([src], tmp_path / "out", **kw)
    assert again.skipped and file_bytes(tmp_path / "out") == before
    # simulate a run killed in phase 2: manifest gone, some shards unfinished
    out = tmp_path / "out"
    os.remove(out / "manifest.json")
    work = out / "_work" / a.run_id
    for marker in sorted((work / "final").glob("*.done.json"))[1:]:
        marker.unlink()
    (out / "ledger" / "part-00001.parquet").unlink()
    resumed = run_pipeline([src], out, **kw)
    assert not resumed.skipped
    assert file_bytes(out) == before


def test_output_folder_with_foreign_files_is_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    from pipeline.errors import RunError
    with pytest.raises(RunError, match="precious.txt"):
        run_pipeline([CORPUS], out)


def test_input_output_and_state_folders_must_be_apart(tmp_path):
    """A run refuses, before writing anything, an input inside its output folder (a run clears that
    folder of other runs' files: the input was deleted, and the run ended with exit 0 and no
    document), an output or state folder inside a folder given as input (the next run would read
    it as documents; also through a symbolic link), and a state folder inside the output folder."""
    from pipeline.errors import RunError
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(CORPUS, src / "c.jsonl")
    first = run_pipeline([src], tmp_path / "o")
    docs = next((tmp_path / "o" / "docs").rglob("*.parquet"))
    (tmp_path / "link").symlink_to(src)
    cases = [([docs], tmp_path / "o", None, "inside the output folder"),
             ([src], src / "out", None, "output folder .* is inside the input folder"),
             ([src], tmp_path / "link" / "out", None, "output folder .* is inside the input folder"),
             ([src], tmp_path / "o2", src / "state", "state folder .* is inside the input folder"),
             ([src], tmp_path / "o", tmp_path / "o" / "state", "state folder .* inside it"),
             ([src], tmp_path / "o", tmp_path / "o", "state folder .* is the output folder")]
    for inputs, out, state, message in cases:
        kw = {"output.state": str(state)} if state else {}
        with pytest.raises(RunError, match=message):
            run_pipeline(inputs, out, **kw)
        assert not (src / "out").exists() and not (tmp_path / "o2").exists() and not (src / "state").exists()
        assert docs.exists() and not (tmp_path / "o" / "state").exists()
    again = run_pipeline([src], tmp_path / "o")
    assert again.skipped and again.run_id == first.run_id
    # an output folder inside the state folder is fine: the index keeps to its own folder
    run_pipeline([src], tmp_path / "st" / "out", **{"output.state": str(tmp_path / "st")})
    assert (tmp_path / "st" / "index" / "index.json").exists()


def test_history_compaction_keeps_answers_and_rerun_idempotency(tmp_path):
    from pipeline.dedup import DedupConfig, history
    state = tmp_path / "state"
    lines = CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)
    nights = []
    for i, chunk in enumerate([lines[:3], lines[3:6], lines[6:10]]):
        p = tmp_path / f"n{i}.jsonl"
        p.write_text("".join(chunk), encoding="utf-8")
        nights.append(p)
    runs = [run_pipeline([p], tmp_path / f"o{i}", **{"output.state": str(state)}) for i, p in enumerate(nights)]
    before = history.read_index(str(state))
    assert [s["run"] for s in before["segments"]] == [r.run_id for r in runs]
    led_before = read_ledger(tmp_path / "o2")
    after = history.compact(str(state), DedupConfig())
    assert len(after["segments"]) == 1 and after["segments"][0]["runs"] == [r.run_id for r in runs]
    assert sorted(os.listdir(state / "index")) == sorted(
        [after["segments"][0]["name"] + s for s in (".bands.npy", ".keys.parquet", ".sig.npy")] + ["index.json"])
    # rerunning the last night against the compacted index gives the same result
    shutil.rmtree(tmp_path / "o2")
    again = run_pipeline([nights[2]], tmp_path / "o2", **{"output.state": str(state)})
    assert again.run_id == runs[2].run_id
    assert again.stats["dedup"]["history_rows"] == after["segments"][0]["rows"] > 0
    strip = lambda rows: sorted((r["doc_id"], r["reason"], r["text"]) for r in rows)
    assert strip(read_ledger(tmp_path / "o2")) == strip(led_before)


def test_state_made_with_other_dedup_settings_is_refused(tmp_path):
    from pipeline.errors import IndexError_
    state = tmp_path / "state"
    run_pipeline([CORPUS], tmp_path / "o1", **{"output.state": str(state)})
    with pytest.raises(IndexError_, match="num_perm"):
        run_pipeline([CORPUS], tmp_path / "o2", **{"output.state": str(state), "dedup.num_perm": 64})
    # datasketch computes the default's signatures: the same index serves it
    run_pipeline([CORPUS], tmp_path / "o3", **{"output.state": str(state), "dedup.minhash_backend": "datasketch"})
    # an index of version 0.3 names the backend that made its signatures: numpy's are affine32's, rensa's
    # another scheme, which this version does not compute
    index = state / "index" / "index.json"
    saved = json.loads(index.read_text())
    for backend, refused in (("numpy", False), ("rensa", True)):
        index.write_text(json.dumps({**saved, "identity": {**saved["identity"], "minhash_backend": backend}}))
        if refused:
            with pytest.raises(IndexError_, match="rensa's, which this version does not compute: start a new state"):
                run_pipeline([CORPUS], tmp_path / f"o-{backend}", **{"output.state": str(state)})
        else:
            run_pipeline([CORPUS], tmp_path / f"o-{backend}", **{"output.state": str(state)})


def test_key_files_lost_during_a_run(tmp_path, monkeypatch):
    """A key file removed while the run goes (before the barrier reads it, before phase 2 writes
    the emitted keys from it, before the emitted keys are appended to the history index) stops the
    run with a message naming it; the same run again gives the bytes of an undisturbed run."""
    from pipeline.dedup import history, keys
    from pipeline.dedup import resolve as resolve_mod
    from pipeline.errors import RunError
    from pipeline.run import runner
    src = _shards_input(tmp_path)
    ref = run_pipeline([src], tmp_path / "ref", **{"output.state": str(tmp_path / "ref-state")})
    reference = file_bytes(tmp_path / "ref")
    lose = {"at": None, "done": False}

    def losing(fn, pick):
        def wrapper(*args, **kwargs):
            if lose["at"] == fn.__name__ and not lose["done"]:
                lose["done"] = True
                os.remove(pick(args))
            return fn(*args, **kwargs)
        return wrapper

    work = lambda out: next((out / "_work").iterdir())
    monkeypatch.setattr(resolve_mod, "resolve", losing(resolve_mod.resolve, lambda a: a[0][1].base + ".sig.npy"))
    monkeypatch.setattr(runner, "finish_shard", losing(phases.finish_shard,
                                                      lambda a: a[2].shard(a[0].shard_id) + ".bands.npy"))
    real_check = keys.require_keys

    def before_append(segments):        # the runner's check of the emitted keys, before it appends them
        if segments and segments[0].base.endswith(".emitted"):
            return losing(real_check, lambda a: a[0][0].base + ".keys.parquet")(segments)
        return real_check(segments)
    monkeypatch.setattr(runner, "require_keys", before_append)
    for at, says in (("resolve", "shard 1's dedup keys"), ("finish_shard", "shard 0's dedup keys"),
                     ("require_keys", "shard 0's emitted keys")):
        out, state = tmp_path / f"o-{at}", tmp_path / f"s-{at}"
        lose.update(at=at, done=False)
        with pytest.raises(RunError, match=f"{says}: .* is missing .*run the same command again"):
            run_pipeline([src], out, **{"output.state": str(state)})
        assert lose["done"] and not (out / "manifest.json").exists() and work(out).exists()
        again = run_pipeline([src], out, **{"output.state": str(state)})
        assert file_bytes(out) == reference, at
        assert again.stats["documents"] == ref.stats["documents"]
        rows = lambda st: [s["rows"] for s in history.read_index(str(st))["segments"]]
        assert rows(state) == rows(tmp_path / "ref-state"), at        # the index misses none of the run's
