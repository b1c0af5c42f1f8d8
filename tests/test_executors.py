"""The local executor's workers come from a fork server started once per process; each task must
still see the environment and working folder the driver has when the pool starts, as a spawned
worker would (fault injection and relative input paths depend on it)."""
import json
import os
import subprocess
import sys

from pipeline.executors import LocalExecutor


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



def test_workers_start_without_pandas_and_get_it_when_a_conversion_needs_it():
    """The fork server holds pandas back (pipeline.nopandas): its workers have not imported it. A
    process holding it back converts nanosecond timestamps and durations as a process with pandas
    does once the reader releases it, and pandas then works as usual."""
    ex = LocalExecutor(2)
    try:
        seen = ex.map(eval, [("'pandas' in __import__('sys').modules",)] * 2)
    finally:
        ex.close()
    assert seen == [False, False]
    script = """
import json, sys
from pipeline import nopandas
nopandas.hold_back()
import pyarrow as pa
t = pa.table({"ts": pa.array([1_700_000_000_000_000_001], pa.timestamp("ns", "UTC")),
              "d": pa.array([[1_001]], pa.list_(pa.duration("ns"))), "s": ["x"]})
pa.table({"s": ["a", "b"]}).to_pylist()
out = {"held": "pandas" not in sys.modules}
try:
    t.to_pylist()
except ValueError:             # not safely convertible without pandas
    out["failed"] = True
out["needs"] = [nopandas.needs_pandas(t.schema), nopandas.needs_pandas(t.select(["s"]).schema)]
nopandas.release()
out["rows"] = repr(t.to_pylist())
out["frame"] = type(t.to_pandas()).__name__
print(json.dumps(out))
"""
    run = lambda s: json.loads(subprocess.run([sys.executable, "-c", s], capture_output=True, text=True,
                                              check=True).stdout)
    held = run(script)
    assert held["held"] and held["failed"] and held["needs"] == [True, False] and held["frame"] == "DataFrame"
    assert "Timestamp(" in held["rows"] and "Timedelta(" in held["rows"]
    plain = run(script.replace("nopandas.hold_back()", "import pandas"))
    assert not plain["held"] and "failed" not in plain
    assert held["rows"] == plain["rows"]
