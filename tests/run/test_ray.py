"""The Ray executor writes the same bytes as the local one (a local 2-CPU Ray cluster)."""
import json
import os

import pytest

from tests.support import ROOT, file_bytes, run_pipeline
from tests.support import shards_input as _shards_input

ray = pytest.importorskip("ray", reason="the ray extra is installed by `make test`")


@pytest.fixture(scope="session")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _near_copies(src) -> None:
    """Three near copies of the seed article's first long paragraphs (a word changed in each)."""
    seed = (ROOT / "seeds" / os.listdir(ROOT / "seeds")[0]).read_text(encoding="utf-8")
    paras = [p for p in seed.split("\n\n") if len(p) > 200][:6]

    def edit(p, k):
        w = p.split()
        w[k] = "altered"
        return " ".join(w)
    with open(src / "near.jsonl", "w", encoding="utf-8") as fh:
        for i in range(3):
            fh.write(json.dumps({"id": f"near-{i}", "text": "\n\n".join(edit(p, 3 + i) for p in paras)}) + "\n")


@pytest.mark.slow
def test_ray_output_is_byte_identical_to_local(tmp_path, ray_cluster, monkeypatch):
    src = _shards_input(tmp_path)
    _near_copies(src)
    kw = {"input.shard_size_mb": 0.001}
    local = run_pipeline([src], tmp_path / "local", **kw, **{"executor.workers": 2})
    on_ray = run_pipeline([src], tmp_path / "ray", **kw, **{"executor.name": "ray"})
    assert on_ray.run_id == local.run_id
    assert local.stats["inputs"]["shards"] > 3
    assert file_bytes(tmp_path / "ray") == file_bytes(tmp_path / "local")
    # the dedup barrier by hash ranges, as Ray tasks: the same bytes again
    ranges = run_pipeline([src], tmp_path / "ray-ranges", **kw, **{"executor.name": "ray", "executor.barrier": "ranges"})
    assert ranges.stats["timing"]["barrier"] == "ranges" and local.stats["timing"]["barrier"] == "memory"
    assert local.stats["ledger"]["by_reason"].get("duplicate_exact", {}).get("rows", 0) > 0
    assert local.stats["ledger"]["by_reason"].get("duplicate_near", {}).get("rows", 0) > 0
    assert file_bytes(tmp_path / "ray-ranges") == file_bytes(tmp_path / "local")
    # the barrier's band pass and its Jaccard of pairs as Ray tasks (as on a large input), by either barrier
    from pipeline.dedup import resolve, store
    monkeypatch.setattr(resolve, "PARALLEL_MIN_ITEMS", 1)
    monkeypatch.setattr(store, "SIG_BUFFER", 0)
    monkeypatch.setattr(store, "PAIRS_PER_TASK", 2)       # a dozen Jaccard tasks here
    for barrier in ("memory", "ranges"):
        spread = run_pipeline([src], tmp_path / f"ray-spread-{barrier}", **kw,
                              **{"executor.name": "ray", "executor.barrier": barrier})
        assert spread.stats["dedup"]["decisions"] == local.stats["dedup"]["decisions"] > 0
        assert file_bytes(tmp_path / f"ray-spread-{barrier}") == file_bytes(tmp_path / "local"), barrier


@pytest.mark.slow
def test_ray_retries_a_task_whose_worker_died(tmp_path, ray_cluster, monkeypatch):
    """A Ray worker killed (SIGKILL) after writing a shard's files but before its marker: Ray runs
    the task again on another worker and the output is the same bytes as an undisturbed run."""
    src = _shards_input(tmp_path)
    kw = {"input.shard_size_mb": 0.001}
    local = run_pipeline([src], tmp_path / "local", **kw, **{"executor.workers": 2})
    marker = tmp_path / "killed"
    monkeypatch.setenv("PIPELINE_KILL_AT", "stage1-written")
    monkeypatch.setenv("PIPELINE_KILL_ONCE", str(marker))
    on_ray = run_pipeline([src], tmp_path / "ray", **kw, **{"executor.name": "ray"})
    assert marker.exists()                    # a worker really died
    assert on_ray.run_id == local.run_id
    assert file_bytes(tmp_path / "ray") == file_bytes(tmp_path / "local")
