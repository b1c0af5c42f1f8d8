"""The local executor's workers come from a fork server started once per process; each task must
still see the environment and working folder the driver has when the pool starts, as a spawned
worker would (fault injection and relative input paths depend on it)."""
import os

from pipeline.run.executors import LocalExecutor


def _in_workers(n=2):
    ex = LocalExecutor(2)
    try:
        env = ex.map(os.getenv, [("PIPELINE_TEST_MARK",)] * n)
        cwd = ex.map(os.getcwd, [()] * n)
        pids = ex.map(os.getpid, [()] * n)
    finally:
        ex.close()
    return env, cwd, pids


def test_workers_see_the_drivers_environment_and_folder_of_each_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_TEST_MARK", "first")
    env, cwd, pids = _in_workers()
    assert env == ["first", "first"] and cwd == [os.getcwd()] * 2
    assert os.getpid() not in pids                      # they did run in other processes
    monkeypatch.setenv("PIPELINE_TEST_MARK", "second")
    monkeypatch.chdir(tmp_path)
    env, cwd, _ = _in_workers()
    assert env == ["second", "second"] and cwd == [str(tmp_path)] * 2
    monkeypatch.delenv("PIPELINE_TEST_MARK")
    env, _, _ = _in_workers()
    assert env == [None, None]
