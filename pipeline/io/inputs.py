"""Find the inputs and cut them into shards; the ``input`` options and the reasons of reading.

Inputs are ``.txt`` files (one document each, id = path relative to the folder given), JSONL
(``.jsonl``, ``.ndjson``, ``.json``; also ``.gz``/``.zst``) and Parquet. Shards are fixed by the
input and ``input.shard_size_mb`` alone, never by the worker count: a big plain JSONL file is cut
into byte ranges (a line belongs to the range its first byte lies in), a big Parquet file into
runs of row groups (and a big row group into slices of rows), small text files are grouped.
Compressed files are one shard each. ``pipeline.io.readers`` reads a shard into documents.
"""
from __future__ import annotations

import glob
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import xxhash

from ..errors import InputError
from ..registry import option, reason

INVALID_INPUT = reason("invalid_input", "read",
                       "record or file that could not be read (bad JSON, wrong type, corrupt file)")
TOO_LONG = reason("too_long", "read", "text beyond input.max_doc_chars, cut from a very long document")


@dataclass(frozen=True)
class InputConfig:
    paths: tuple[str, ...] = option((), doc="files, folders or globs to read")
    format: Literal["auto", "txt", "jsonl", "parquet"] = option("auto")
    id_field: str = option("id", doc="JSONL/Parquet field holding the document id")
    text_field: str = option("text", doc="JSONL/Parquet field holding the document text")
    shard_size_mb: float = option(16.0, lo=0.001, hi=100_000, doc="target input bytes per shard")
    max_doc_chars: int = option(5_000_000, lo=1_000, doc="longer documents are cut; the rest goes to the ledger")
    max_line_mb: float = option(256.0, lo=0.001, doc="a longer JSONL line is not parsed; it goes to the ledger")
    max_expansion: float = option(100.0, lo=1.0, doc="a .gz/.zst file stops being read past this many times "
                                                     "its size (at least 256 MB): decompression bombs")


TXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz",
                  ".jsonl.zst", ".ndjson.zst", ".json.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")
ALL_SUFFIXES = TXT_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES
_CHUNK = 8 << 20


@dataclass(frozen=True)
class InputFile:
    idx: int
    path: str       # absolute
    rel: str        # id prefix / display name
    fmt: str        # txt | jsonl | parquet
    size: int
    digest: str     # xxh3-128 of the bytes


@dataclass(frozen=True)
class ShardSpec:
    shard_id: int
    fmt: str
    files: tuple[tuple[int, str, str], ...]   # (file idx, path, rel)
    start: int = 0          # byte offset (jsonl) or first row group (parquet)
    end: int = -1           # exclusive end; -1 = end of file
    first_line: int = 1     # line number of the first line at or after ``start``
    rows: tuple[int, int] | None = None   # parquet: rows [a, b) of the one row group ``start``
    split: str = ""         # those rows as an Arrow file (``split_row_group``), when it is there

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "ShardSpec":
        rows = d.get("rows")
        return ShardSpec(d["shard_id"], d["fmt"], tuple(tuple(x) for x in d["files"]),
                         d["start"], d["end"], d["first_line"], tuple(rows) if rows is not None else None,
                         d.get("split", ""))


def _fmt_of(path: str, forced: str) -> str | None:
    if forced != "auto":
        return forced
    low = path.lower()
    if low.endswith(TXT_SUFFIXES):
        return "txt"
    if low.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def discover(paths: list[str] | tuple[str, ...], cfg: InputConfig) -> list[tuple[str, str, str]]:
    """(absolute path, relative name, format) of every input file, in a fixed order."""
    if not paths:
        raise InputError("input: no input given (set input.paths or pass --input)")
    found: list[tuple[str, str, str]] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            picked = [(f, _fmt_of(str(f), cfg.format)) for f in files]
            picked = [(f, fmt) for f, fmt in picked if fmt]
            if not picked:
                raise InputError(f"input: no readable files ({', '.join(ALL_SUFFIXES)}) in folder {arg}")
            found += [(str(f.resolve()), f.relative_to(p).as_posix(), fmt) for f, fmt in picked]
        elif p.is_file():
            fmt = _fmt_of(str(p), cfg.format)
            if fmt is None:
                raise InputError(f"input: {arg}: unknown format (expected one of {', '.join(ALL_SUFFIXES)})")
            found.append((str(p.resolve()), p.name, fmt))
        elif any(ch in arg for ch in "*?["):
            matches = sorted(glob.glob(arg, recursive=True))
            picked = [(m, _fmt_of(m, cfg.format)) for m in matches if os.path.isfile(m)]
            picked = [(m, f) for m, f in picked if f]
            if not picked:
                raise InputError(f"input: the pattern {arg} matches no readable file")
            base = glob.escape(arg.split("*")[0].rsplit("/", 1)[0]) if "/" in arg.split("*")[0] else ""
            for m, fmt in picked:
                rel = os.path.relpath(m, base) if base else m
                found.append((str(Path(m).resolve()), Path(rel).as_posix(), fmt))
        else:
            raise InputError(f"input: {arg}: no such file or folder")
    seen, out = set(), []
    for item in found:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def _scan(path: str, want_lines: bool, cut_every: int) -> tuple[str, list[tuple[int, int]]]:
    """Hash a file and, for splittable JSONL, find cut points (offset, line number) on line starts."""
    h = xxhash.xxh3_128()
    cuts: list[tuple[int, int]] = [(0, 1)]
    lines, pos, next_cut = 1, 0, cut_every
    try:
        with open(path, "rb") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                if want_lines:
                    # Line ends counted by numpy, each byte once (bytes.count was most of the time
                    # planning a big file took, before any task began).
                    view, counted = np.frombuffer(chunk, np.uint8), 0
                    while next_cut < pos + len(chunk):
                        nl = chunk.find(b"\n", max(0, next_cut - pos))
                        if nl < 0:
                            break
                        lines += int(np.count_nonzero(view[counted:nl + 1] == 10))
                        counted = nl + 1
                        cut = pos + nl + 1
                        cuts.append((cut, lines))                # the line that starts there
                        # Cuts at the first line start after each multiple of cut_every (not
                        # cut_every after the last cut: the overshoots would add up in the last
                        # shard), skipping a multiple that a long line carried us near or past.
                        next_cut += cut_every
                        while next_cut < cut + cut_every // 2:
                            next_cut += cut_every
                    lines += int(np.count_nonzero(view[counted:] == 10))
                pos += len(chunk)
    except OSError as e:
        raise InputError(f"input: cannot read {path}: {e.strerror}") from None
    return h.hexdigest(), cuts


def plan(paths, cfg: InputConfig) -> tuple[list[InputFile], list[ShardSpec]]:
    files: list[InputFile] = []
    shards: list[ShardSpec] = []
    target = max(1, int(cfg.shard_size_mb * (1 << 20)))
    txt_batch: list[tuple[int, str, str]] = []
    txt_bytes = 0

    def flush_txt():
        nonlocal txt_batch, txt_bytes
        if txt_batch:
            shards.append(ShardSpec(len(shards), "txt", tuple(txt_batch)))
            txt_batch, txt_bytes = [], 0

    for idx, (path, rel, fmt) in enumerate(discover(paths, cfg)):
        size = os.path.getsize(path)
        splittable = fmt == "jsonl" and not path.lower().endswith((".gz", ".zst")) and size > target
        digest, cuts = _scan(path, splittable, _even(size, target))
        files.append(InputFile(idx, path, rel, fmt, size, digest))
        if fmt == "txt":
            txt_batch.append((idx, path, rel))
            txt_bytes += size
            if txt_bytes >= target:
                flush_txt()
            continue
        flush_txt()
        if fmt == "jsonl":
            bounds = [c for c in cuts if c[0] < size] if splittable else [(0, 1)]
            for i, (start, line) in enumerate(bounds):
                end = bounds[i + 1][0] if i + 1 < len(bounds) else -1
                shards.append(ShardSpec(len(shards), "jsonl", ((idx, path, rel),), start, end, line))
        else:
            for start, end, rows in _parquet_ranges(path, target):
                shards.append(ShardSpec(len(shards), "parquet", ((idx, path, rel),), start, end, rows=rows))
    flush_txt()
    return files, shards


def _even(size: int, target: int) -> int:
    """Shard size for ``size`` bytes: as many shards as ``target`` makes, all of the same size (a
    small last shard would leave workers idle at the end of a phase)."""
    n = max(1, -(-size // target))
    return max(1, -(-size // n))


def _parquet_ranges(path: str, target: int) -> list[tuple[int, int, tuple[int, int] | None]]:
    """Shards of a Parquet file: runs of whole row groups of about ``target`` bytes (uncompressed;
    the target evened over the file, as ``_even`` does), and a row group of 1.5 such targets or
    more cut into slices of rows of about one target each, of equal row counts (pyarrow and pandas
    write up to 1,048,576 rows in a row group by default: gigabytes of news text, which one worker
    would have held in memory whole)."""
    import pyarrow.parquet as pq
    try:
        md = pq.ParquetFile(path).metadata
    except Exception:        # corrupt file: one shard, whose reader reports it in the ledger
        return [(0, -1, None)]
    sizes = [md.row_group(rg).total_byte_size for rg in range(md.num_row_groups)]
    target = _even(sum(sizes), target)
    ranges, start, acc = [], 0, 0
    for rg, size in enumerate(sizes):
        parts = min(int(size / target + 0.5), md.row_group(rg).num_rows)     # from 1.5 targets on
        if parts >= 2:
            if start < rg:
                ranges.append((start, rg, None))
            n = md.row_group(rg).num_rows
            cuts = [n * i // parts for i in range(parts + 1)]
            ranges += [(rg, rg + 1, (a, b)) for a, b in zip(cuts, cuts[1:])]
            start, acc = rg + 1, 0
            continue
        acc += size
        if acc >= target:
            ranges.append((start, rg + 1, None))
            start, acc = rg + 1, 0
    if start < md.num_row_groups or not ranges:
        ranges.append((start, md.num_row_groups, None))
    return ranges
