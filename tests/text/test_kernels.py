"""The compiled kernels: a build of another version counts as not built, and the run says why."""
import json
import types

from pipeline.dedup import minhash, store, tokens
from pipeline.run import runner
from pipeline.text import kernels
from tests.support import make_config


def test_kernels_of_another_version_count_as_not_built(monkeypatch, tmp_path):
    """A compiled module left from an older pipeline/text/_native.c (a checkout updated without
    `make install`) lacks the newer kernels: it is set aside for numpy, and the run says why."""
    assert kernels.native is not None and kernels.native.VERSION == kernels.VERSION and not kernels.stale
    old = types.ModuleType("pipeline.text._native")
    old.affine32 = kernels.native.affine32                   # an older build: no VERSION, no agreement
    assert kernels.checked(old) == (None, True)
    assert kernels.checked(None) == (None, False)
    assert kernels.checked(kernels.native) == (kernels.native, False)
    for module in (kernels, minhash, store, tokens):
        monkeypatch.setattr(module, "native" if module is kernels else "_native", None)
    monkeypatch.setattr(kernels, "stale", True)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "The council met on Monday to discuss the budget."}) + "\n",
                   encoding="utf-8")
    lines = []
    result = runner.run(make_config([src], tmp_path / "out"), log=lines.append)
    assert result.stats["documents"]["out"] == 1
    assert any("built from another version of pipeline/text/_native.c" in line and "make install" in line
               for line in lines), lines
