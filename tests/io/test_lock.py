"""Folder locks: a second run on a held output folder is refused, a dead holder's lock is not."""
import json

import pytest

from tests.support import run_pipeline

TEXT = "Heavy rain forced the closure of more than forty schools on Monday, local officials said."


def test_second_run_on_a_held_output_is_refused_and_a_dead_lock_is_not(tmp_path):
    import fcntl
    from pipeline.errors import RunError
    out = tmp_path / "out"
    out.mkdir()
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n")
    with open(out / ".lock", "w") as fh:
        fh.write("pid 12345 on somewhere\n")
        fh.flush()
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunError, match="in use by pid 12345"):
            run_pipeline([src], out)
    # the holder is gone (its lock file remains): the next run proceeds
    assert run_pipeline([src], out).stats["documents"]["out"] == 1
