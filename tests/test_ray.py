"""The Ray executor writes the same bytes as the local one (a local 2-CPU Ray cluster)."""
import pytest

from conftest import file_bytes, run_pipeline
from test_end_to_end import _shards_input

ray = pytest.importorskip("ray", reason="the ray extra is installed by `make test`")


@pytest.fixture(scope="session")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_output_is_byte_identical_to_local(tmp_path, ray_cluster):
    src = _shards_input(tmp_path)
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
    assert file_bytes(tmp_path / "ray-ranges") == file_bytes(tmp_path / "local")


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
