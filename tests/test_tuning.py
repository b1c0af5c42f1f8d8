"""pipeline/tuning.py: the command applies its process-wide settings to its own process, its fork
server and its workers; a library call changes nothing of its caller's process; and the Parquet
reader converts the same whether pandas was held back or not."""
import json
import subprocess
import sys

from tests.support import ROOT

# What a process's settings look like: gc thresholds, frozen objects, Arrow's pool, pandas imported.
_PROBE = """
def probe():
    import gc, sys
    import pyarrow as pa
    return [gc.get_threshold()[0], gc.get_freeze_count() > 0, pa.default_memory_pool().backend_name,
            "pandas" in sys.modules]
"""

_RUN = _PROBE + """
import json, sys
from pipeline import cli
from pipeline.run.executors import LocalExecutor
from pipeline import tuning
argv = ["run", sys.argv[2], "--input", sys.argv[3], "--output", sys.argv[4], "--workers", "1", "--quiet"]
if sys.argv[1] == "entry":
    sys.argv = ["clean-corpus"] + argv
    rc = cli.entry()
else:
    rc = cli.main(argv)
ex = LocalExecutor(2, setup=tuning.apply if sys.argv[1] == "entry" else None)
try:
    workers = ex.map(eval, [("[__import__('gc').get_threshold()[0], "
                              "__import__('gc').get_freeze_count() > len(__import__('gc').get_objects())]",)] * 2)
finally:
    ex.close()
print(json.dumps({"rc": rc, "here": probe(), "workers": workers}))
"""


def _run(code: str, *args: str) -> dict:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_command_tunes_its_processes_and_a_library_call_does_not(tmp_path):
    src = tmp_path / "in.jsonl"
    seed = next((ROOT / "seeds").iterdir()).read_text(encoding="utf-8")
    src.write_text(json.dumps({"id": "a", "text": seed}) + "\n", encoding="utf-8")
    cfg = str(ROOT / "configs" / "default.yaml")
    entry = _run(_RUN, "entry", cfg, str(src), str(tmp_path / "a"))
    library = _run(_RUN, "main", cfg, str(src), str(tmp_path / "b"))
    assert entry["rc"] == library["rc"] == 0
    assert entry["here"] == [50_000, True, "system", False]       # tuned, and pandas never imported
    assert entry["workers"] == [[50_000, True]] * 2     # the workers it starts too (the warm-up frozen)
    assert library["here"][0] == 700 and not library["here"][1] and library["here"][3]      # as Python left it
    assert [w[0] for w in library["workers"]] == [700, 700]


# Arrays of many Arrow types, nanosecond ones with values that are not whole microseconds and some
# that are, nested and wrapped; the same script runs in a process that holds pandas back and in
# one that imported pandas first.
_TYPES = r"""
import json, sys
if sys.argv[1] == "held":
    from pipeline import tuning
    tuning._hold_back_pandas()
else:
    import pandas
from pipeline.io.readers import needs_pandas
import datetime as dt, decimal
import pyarrow as pa
ns, whole = [1_700_000_000_000_000_001, None], [1_700_000_000_000_000_000]
cases = {}
for unit, scale in (("s", 1), ("ms", 10**3), ("us", 10**6), ("ns", 10**9)):
    cases[f"ts-{unit}"] = pa.array([1_700_000_000 * scale], pa.timestamp(unit))
    cases[f"ts-tz-{unit}"] = pa.array([1_700_000_000 * scale], pa.timestamp(unit, "Europe/Berlin"))
    cases[f"dur-{unit}"] = pa.array([3_000_000], pa.duration(unit))
cases["ts-ns-odd"] = pa.array(ns, pa.timestamp("ns"))
cases["dur-ns-odd"] = pa.array([1_001], pa.duration("ns"))
cases["time32-ms"] = pa.array([1_000], pa.time32("ms"))
cases["time64-us"] = pa.array([1_000_001], pa.time64("us"))
cases["time64-ns"] = pa.array([1_000_000_000], pa.time64("ns"))
cases["time64-ns-odd"] = pa.array([1_000_000_001], pa.time64("ns"))
cases["date32"] = pa.array([dt.date(2026, 12, 3)], pa.date32())
cases["date64"] = pa.array([dt.date(2026, 12, 3)], pa.date64())
cases["list-ts-ns"] = pa.array([ns], pa.list_(pa.timestamp("ns", "UTC")))
cases["list-ts-us"] = pa.array([[1_700_000_000_000_001]], pa.list_(pa.timestamp("us")))
cases["struct-dur-ns"] = pa.array([{"d": 7}], pa.struct([("d", pa.duration("ns"))]))
cases["map-time64-ns"] = pa.array([[("k", 1_000_000_000)]], pa.map_(pa.string(), pa.time64("ns")))
cases["dict-string"] = pa.array(["a", "b", "a"]).dictionary_encode()
cases["dict-ts-ns"] = pa.array(whole * 2, pa.timestamp("ns")).dictionary_encode()
cases["decimal"] = pa.array([decimal.Decimal("1.50")], pa.decimal128(5, 2))
cases["string"] = pa.array(["x"])
if hasattr(pa, "opaque"):
    cases["opaque-ts-ns"] = pa.ExtensionArray.from_storage(pa.opaque(pa.timestamp("ns"), "t", "v"),
                                                           pa.array(whole, pa.timestamp("ns")))
    cases["opaque-int"] = pa.ExtensionArray.from_storage(pa.opaque(pa.int64(), "t", "v"), pa.array([1]))
out = {}
for name, arr in cases.items():
    try:
        got = repr(arr.to_pylist())
    except ValueError as e:          # pyarrow refuses what it cannot convert without pandas
        got = "error"
    out[name] = [got, needs_pandas(pa.schema([("c", arr.type)]))]
print(json.dumps(out))
"""


def test_needs_pandas_names_exactly_the_types_that_convert_differently():
    held, plain = (_run(_TYPES, mode) for mode in ("held", "plain"))
    assert set(held) == set(plain) and len(held) >= 25
    differ = {name for name in held if held[name][0] != plain[name][0]}
    needs = {name for name in held if held[name][1]}
    assert {"ts-ns", "ts-tz-ns", "dur-ns", "time64-ns-odd", "list-ts-ns", "struct-dur-ns"} <= differ
    assert "ts-us" not in differ and "date32" not in differ and "dict-string" not in differ
    assert differ <= needs                          # every type that differs is let through
    assert needs == {name for name in held if "-ns" in name}     # and only nanosecond ones


def test_letting_pandas_in_keeps_converting_when_pandas_is_too_old_for_pyarrow():
    """pyarrow ignores a pandas older than it supports; ``let_pandas_in`` then leaves it at that, as
    in a plain process, instead of failing."""
    code = """
import json, sys, warnings
warnings.simplefilter("ignore")
from pipeline import tuning
from pipeline.io.readers import let_pandas_in
if sys.argv[1] == "held":
    tuning._hold_back_pandas()
import pandas
pandas.__version__ = "2.1.4"
import pyarrow as pa
t = pa.table({"ts": pa.array([1_700_000_000_000_000_000], pa.timestamp("ns"))})
let_pandas_in()
print(json.dumps(repr(t.to_pylist())))
"""
    held, plain = _run(code, "held"), _run(code, "plain")
    assert held == plain and "datetime.datetime(2023" in held
