"""The command line: exit codes, one-line errors, its subcommands."""
import errno
import os
import subprocess
import sys

from pipeline import cli
from pipeline.io import atomic
from pipeline.io.atomic import TMP_MARK
from pipeline.io.lock import FolderLock
from tests.support import CORPUS, ROOT, run_pipeline


def test_cli_runs_and_reports_bad_config(tmp_path):
    env = dict(os.environ)
    ok = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"),
                         "--input", str(ROOT / "seeds"), "--output", str(tmp_path / "o"), "--workers", "1",
                         "--quiet"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "o" / "manifest.json").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("langid:\n  backend: cld3\n")
    r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(bad), "--input", str(ROOT / "seeds"),
                        "--output", str(tmp_path / "o2")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert "langid.backend" in r.stderr and "cld2" in r.stderr
    r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"),
                        "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "o3")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "missing" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_index_subcommand_shows_and_compacts(tmp_path):
    state = tmp_path / "state"
    lines = CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, chunk in enumerate([lines[:4], lines[4:8]]):
        (tmp_path / f"n{i}.jsonl").write_text("".join(chunk), encoding="utf-8")
        if i:                          # what an append killed midway left is removed by the next
            (state / "index" / f"{TMP_MARK}run-x.sig.npy").write_bytes(b"\0" * 9)
        run_pipeline([tmp_path / f"n{i}.jsonl"], tmp_path / f"o{i}", **{"output.state": str(state)})
    assert not [p for p in os.listdir(state / "index") if p.startswith(TMP_MARK)]
    cmd = [sys.executable, "-m", "pipeline", "index", str(state)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "2 segment(s)" in r.stdout
    # a run holding the state folder (appending its segment) makes compaction wait its turn
    with FolderLock(str(state), "state folder"):
        r = subprocess.run(cmd + ["--compact"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "is in use by pid" in r.stderr and "2 segment(s)" in \
        subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout
    # what a compaction killed midway left behind is removed by the next one
    stale = state / "index" / f"{TMP_MARK}4242-first-00000.bin"
    stale.write_bytes(b"\0" * 17)
    r = subprocess.run(cmd + ["--compact"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "1 segment(s)" in r.stdout
    assert not stale.exists() and not [p for p in os.listdir(state / "index") if p.startswith(TMP_MARK)]
    r = subprocess.run([sys.executable, "-m", "pipeline", "index", str(tmp_path / "nothing")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "no history index" in r.stderr


def test_unusable_output_path_is_a_one_line_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    r = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ROOT / "configs" / "default.yaml"),
                        "--input", str(ROOT / "seeds"), "--output", str(tmp_path / "afile" / "out")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "afile" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_disk_full_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    real = atomic.write_table

    def full(table, path, *args, **kwargs):
        if "/docs/" in path:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return real(table, path, *args, **kwargs)
    monkeypatch.setattr(atomic, "write_table", full)
    rc = cli.main(["run", str(ROOT / "configs" / "default.yaml"), "--input", str(ROOT / "seeds"),
                   "--output", str(tmp_path / "o"), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "No space left on device" in err[0] and "/docs/" in err[0]
