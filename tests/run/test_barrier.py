"""The run's barrier: memory or hash ranges, chosen by the memory available (machine or cgroup)."""
import json
import shutil

import pyarrow.parquet as pq

from pipeline.dedup import resolve
from pipeline.run import barrier, runner
from pipeline.run.memory import available_memory
from tests.support import file_bytes, make_config


def test_a_barrier_that_may_not_fit_in_memory_runs_by_ranges_or_is_announced(monkeypatch, tmp_path):
    """Before the barrier the run estimates its memory from the number of documents and
    paragraphs in the key files. When that is more than half of what is available, ``auto`` runs
    the barrier by hash ranges on the workers, with the same output; ``memory`` keeps it in the
    driver and says it may not fit when the machine has less (a process killed for memory would
    not); otherwise nothing is said."""
    src = tmp_path / "in.jsonl"
    texts = ["The council met on Monday to discuss the budget.\n\nIt approved the plan for the new school.",
             "Shares of the carmaker fell after it cut its forecast.",
             "The council met on Monday to discuss the budget.\n\nIt approved the plan for the new school."]
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)),
                   encoding="utf-8")
    outputs = {}
    need = 8 * resolve.BARRIER_BYTES_PER_ITEM       # 3 documents and their 5 paragraphs
    for mode, avail, said in (("memory", 1000, "warning"), ("memory", None, None), ("memory", 1 << 40, None),
                              ("auto", 1000, "ranges"), ("auto", 2 * need - 1, "ranges"), ("auto", 2 * need, None),
                              ("auto", None, None), ("ranges", 1 << 40, None)):
        monkeypatch.setattr(barrier, "available_memory", lambda avail=avail: avail)
        lines = []
        out = tmp_path / f"out-{mode}-{avail}"
        r = runner.run(make_config([src], out, **{"output.state": str(tmp_path / f"state-{mode}-{avail}"),
                                                  "executor.barrier": mode}), log=lines.append)
        outputs[(mode, avail)] = file_bytes(out)
        assert r.stats["timing"]["barrier"] == ("ranges" if "ranges" in (said, mode) else "memory")
        # one range here, whose largest pass holds the band records of 3 candidates (32 bands each)
        assert r.stats["timing"].get("barrier_largest_range") == (96 if r.stats["timing"]["barrier"] == "ranges" else None)
        assert r.stats["ledger"]["by_reason"]["duplicate_document"]["rows"] == 1
        warnings = [i for i, line in enumerate(lines) if line.startswith("warning: the dedup barrier")]
        switched = [i for i, line in enumerate(lines) if line.endswith("the barrier runs by hash ranges on the workers")]
        assert (len(warnings), len(switched)) == ((said == "warning"), (said == "ranges")), lines
        if said:            # said before the barrier runs
            line = lines[(warnings or switched)[0]]
            assert "8 documents and paragraphs" in line, line
            assert (warnings or switched)[0] < lines.index("dedup: 1 duplicate(s) across 1 shard(s)")
    assert len({tuple(sorted(v.items())) for v in outputs.values()}) == 1       # the same bytes every way
    # a later run counts the history index's rows too (the first run's) beside its own
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "x", "text": "A new bridge over the river opens to traffic on Friday."}) + "\n",
                     encoding="utf-8")
    other.write_text(other.read_text(encoding="utf-8") + json.dumps({"id": "y", "text": texts[2]}) + "\n",
                     encoding="utf-8")          # and a copy of what the first night emitted
    shutil.copytree(tmp_path / "state-memory-1000", tmp_path / "state-copy")
    monkeypatch.setattr(barrier, "available_memory", lambda: 1000)
    lines = []
    later = runner.run(make_config([other], tmp_path / "out-later", **{"output.state": str(tmp_path / "state-memory-1000"),
                                                                        "executor.barrier": "memory"}), log=lines.append)
    assert any(x.startswith("warning: the dedup barrier") and "for 10 documents and paragraphs" in x for x in lines), lines
    assert later.stats["ledger"]["by_reason"]["duplicate_document"]["rows"] == 1      # the copy, of history
    # the same night by hash ranges, against the same history: the same bytes
    runner.run(make_config([other], tmp_path / "out-later-ranges", **{"output.state": str(tmp_path / "state-copy"),
                                                                       "executor.barrier": "ranges"}), log=lines.append)
    assert file_bytes(tmp_path / "out-later-ranges") == file_bytes(tmp_path / "out-later")
    details = pq.read_table(tmp_path / "out-later" / "ledger").column("detail").to_pylist()
    assert len(details) == 1 and '"kept_in": "run ' in details[0]
    # --quiet (what the README's scheduler examples use) still prints the warning, and only it
    import io

    from pipeline.run.progress import Progress
    buf = io.StringIO()
    runner.run(make_config([src], tmp_path / "out-quiet", **{"executor.barrier": "memory"}),
               log=Progress("quiet", stream=buf).log)
    assert buf.getvalue().startswith("warning: the dedup barrier") and buf.getvalue().count("\n") == 1
    monkeypatch.undo()
    real = available_memory()
    assert real is None or real > 1 << 20

def test_available_memory_is_the_smaller_of_the_machines_and_the_cgroups(tmp_path):
    """A cgroup limit above the process (v2 or v1, at any level up to the root) caps what the
    machine says is available; unlimited levels ("max", v1's huge number) and missing files do not."""
    proc, cg = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text("MemTotal: 20000000 kB\nMemAvailable: 10000000 kB\n", encoding="ascii")
    avail = lambda: available_memory(str(proc), str(cg))

    def level(path, limit, usage, v1=False):
        d = cg / ("memory" if v1 else "") / path
        d.mkdir(parents=True, exist_ok=True)
        names = ("memory.limit_in_bytes", "memory.usage_in_bytes") if v1 else ("memory.max", "memory.current")
        (d / names[0]).write_text(f"{limit}\n", encoding="ascii")
        (d / names[1]).write_text(f"{usage}\n", encoding="ascii")

    machine = 10_000_000 * 1024
    (proc / "self" / "cgroup").write_text("0::/job/step\n", encoding="ascii")
    assert avail() == machine                      # no cgroup files at all
    level("job/step", "max", 5 << 30)
    level("job", 4 << 30, 1 << 30)
    assert avail() == 3 << 30                      # the parent's limit
    level("job", "max", 1 << 30)
    assert avail() == machine
    (proc / "self" / "cgroup").write_text("5:cpu:/\n4:memory:/batch/42\n", encoding="ascii")
    level("batch/42", 2 << 30, 512 << 20, v1=True)
    level("", 9223372036854771712, 7 << 30, v1=True)                  # v1's "no limit"
    assert avail() == (2 << 30) - (512 << 20)
    (proc / "meminfo").write_text("MemTotal: 1 kB\nMemAvailable: 1000 kB\n", encoding="ascii")
    assert avail() == 1000 * 1024                  # the machine is the tighter one
    (proc / "meminfo").unlink()
    (proc / "self" / "cgroup").unlink()
    assert avail() is None
