"""Finding inputs and cutting them into shards."""
import json

import pytest

from pipeline.errors import InputError
from pipeline.io import inputs
from pipeline.io.inputs import InputConfig, discover, plan
from pipeline.io.readers import ShardReader


@pytest.mark.parametrize("chunk", [7, 100, 8 << 20])
def test_byte_range_shards_read_every_line_once(tmp_path, monkeypatch, chunk):
    """Cut points and their line numbers, whether the planner's reads end inside lines (7 bytes),
    between a few of them, or hold the whole file."""
    monkeypatch.setattr(inputs, "_CHUNK", chunk)
    src = tmp_path / "big.jsonl"
    recs = [{"id": f"d{i}", "text": f"Document number {i} talks about topic {i * 7 % 13}."} for i in range(300)]
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    cfg = InputConfig(shard_size_mb=0.002)
    _files, shards = plan([str(src)], cfg)
    assert len(shards) > 5
    got = [(d.doc_id, d.source) for s in shards for d in ShardReader(s, cfg)]
    assert got == [(f"d{i}", f"big.jsonl:{i + 1}") for i in range(300)]


def test_a_big_file_is_cut_into_shards_of_equal_size(tmp_path):
    """As many shards as the target size makes, all about the same size: no small last shard to
    leave the other workers idle at the end of a phase."""
    src = tmp_path / "big.jsonl"
    recs = [{"id": f"d{i}", "text": f"Document number {i} talks about topic {i * 7 % 13}."} for i in range(1000)]
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    size = src.stat().st_size
    target = 0.0115                                 # MB: 5.3 shards' worth
    _files, shards = plan([str(src)], InputConfig(shard_size_mb=target))
    bytes_per = [(s.end if s.end >= 0 else size) - s.start for s in shards]
    assert len(shards) == -(-size // int(target * (1 << 20))) == 6
    assert max(bytes_per) - min(bytes_per) <= 2 * max(len(json.dumps(r)) + 1 for r in recs)


def test_missing_and_unknown_inputs_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        discover([str(tmp_path / "nope")], InputConfig())
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(InputError, match="unknown format"):
        discover([str(tmp_path / "x.csv")], InputConfig())
    with pytest.raises(InputError, match="matches no readable file"):
        discover([str(tmp_path / "*.jsonl")], InputConfig())
