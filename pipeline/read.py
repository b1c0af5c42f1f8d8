"""Find inputs, split them into shards, and read a shard into documents.

Inputs are ``.txt`` files (one document each, id = path relative to the folder given), JSONL
(``.jsonl``, ``.ndjson``, ``.json``; also ``.gz``/``.zst``) and Parquet. Shards are fixed by the
input and ``input.shard_size_mb`` alone, never by the worker count: a big plain JSONL file is cut
into byte ranges (a line belongs to the range its first byte lies in), a big Parquet file into
runs of row groups, small text files are grouped. Compressed files are one shard each.

Every record ends up as a document or in the ledger: unreadable lines, records without text and
corrupt files become ``invalid_input`` ledger rows that name ``file:line`` or ``file#row``.
"""
from __future__ import annotations

import glob
import gzip
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import orjson
import xxhash

from . import nopandas
from .config import InputConfig
from .model import Document

TXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz",
                  ".jsonl.zst", ".ndjson.zst", ".json.zst")
PARQUET_SUFFIXES = (".parquet", ".pq")
ALL_SUFFIXES = TXT_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES
_CHUNK = 8 << 20


def _stream_errors() -> tuple:
    import zlib
    import zstandard
    return (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError)


_STREAM_ERRORS = _stream_errors()


class InputError(Exception):
    """An input path that does not exist or cannot be read at all (before any work)."""


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
                    # Line ends counted by numpy, each byte once (bytes.count ran at ~1 GB/s here:
                    # 0.9 of the ~1.35 CPU s that planning a 1 GB file took before any task began).
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
    small last shard would leave workers idle at the end of a phase; 97.9 MB made five shards of
    16.8 MB and one of 14.0, now six of 16.3)."""
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


# ----------------------------------------------------------------------------------- reading
# A row group read in slices is read page by page, through a buffer of _PARQUET_BUFFER bytes (with
# pyarrow's default pre-buffering each slice loaded the whole compressed row group first: on a 200
# MB row group in 12 slices, 185 MB of Arrow memory against 47 MB), in batches of about
# _PARQUET_BATCH_BYTES (uncompressed; at least one row).
_PARQUET_BUFFER = 1 << 22
_PARQUET_BATCH_BYTES = 1 << 22


def _batches(pf, rg: int):
    meta = pf.metadata.row_group(rg)
    rows = max(1, _PARQUET_BATCH_BYTES * meta.num_rows // max(1, meta.total_byte_size))
    return pf.iter_batches(batch_size=rows, row_groups=[rg], use_threads=False)


def split_row_group(slices: list[ShardSpec]) -> dict:
    """Read a row group once and write each of its slices (``slices``: shards of one row group, in
    row order, with their ``split`` paths) as an Arrow file, so that a slice's shard reads its own
    rows instead of decoding every row before them (which made the work grow with the square of
    the row group's size). Slices already written are left; where the row group cannot be read
    on, the slices from there are not written, and their shards read the Parquet file themselves
    (and report what they lose). Returns the first slice's shard and how many slices it wrote."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from . import write
    import time
    t0 = time.process_time()
    todo = [s for s in slices if not os.path.exists(s.split)]
    result = {"shard": slices[0].shard_id, "written": 0, "error": None, "cpu": 0.0}
    if not todo:
        return result
    (_idx, path, _rel), = todo[0].files
    rg, seen, done, current = todo[0].start, 0, 0, todo[0]
    try:
        pf = pq.ParquetFile(path, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        batches = _batches(pf, rg)
        options = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", 1))     # temporary disk: see README
        pending = None                              # a batch's rows not yet written
        for s in todo:
            a, b, current = s.rows[0], s.rows[1], s

            def fill(fh, a=a, b=b):
                nonlocal seen, pending
                with pa.ipc.new_file(fh, pf.schema_arrow, options=options) as out:
                    while True:
                        if pending is None:
                            batch = next(batches, None)
                            if batch is None:
                                raise ValueError(f"row group {rg} ends at row {seen}")
                            pending, seen = (seen, batch), seen + batch.num_rows
                        first, batch = pending
                        lo, hi = max(a - first, 0), min(b - first, batch.num_rows)
                        if hi > lo:
                            out.write_batch(batch.slice(lo, hi - lo))
                        if first + batch.num_rows <= b:
                            pending = None          # used up
                        if first + batch.num_rows >= b:
                            return
            write.write_with(fill, s.split)
            done += 1
    except Exception as e:   # noqa: BLE001  (the slices left read the file themselves, and say what they lose)
        tmp = write._tmp(current.split)
        if os.path.exists(tmp):
            os.remove(tmp)
        result["error"] = f"{type(e).__name__}: {e}"
    result["written"], result["cpu"] = done, time.process_time() - t0
    return result


class _ZstdRaw(io.RawIOBase):
    """A zstd file as a raw stream that, unlike zstandard's stream_reader, raises when the file
    ends inside a frame (a truncated file must not look like a short one). Concatenated frames
    are read one after another."""

    def __init__(self, path: str):
        import zstandard
        self._z = zstandard
        self._fh = open(path, "rb")
        self._d = zstandard.ZstdDecompressor().decompressobj()
        self._buf = b""
        self._eof = False
        self._fed = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf and not self._eof:
            if self._d.eof:
                rest = self._d.unused_data
                self._d = self._z.ZstdDecompressor().decompressobj()
                self._fed = False
                if rest:
                    self._fed = True
                    self._buf = self._d.decompress(rest)
                    continue
            chunk = self._fh.read(1 << 20)
            if not chunk:
                self._eof = True
                if self._fed and not self._d.eof:
                    raise self._z.ZstdError("the file ends inside a zstd frame (truncated)")
                break
            self._fed = True
            self._buf = self._d.decompress(chunk)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


class ShardReader:
    """Reads one shard into documents, in input order. What cannot be read becomes a document
    whose ``reason`` is ``invalid_input`` (it goes to the ledger, naming file:line or file#row)."""

    def __init__(self, spec: ShardSpec, cfg: InputConfig):
        self.spec, self.cfg = spec, cfg

    @staticmethod
    def _bad(doc_id: str, source: str, text: str, why: str, order) -> Document:
        return Document(doc_id=doc_id, text=text, source=source, order=order, metadata="{}",
                        reason="invalid_input", detail=json.dumps({"error": why}, ensure_ascii=False))

    @staticmethod
    def _decode(raw: bytes) -> tuple[str, dict | None]:
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as e:
            note = {"reason": "invalid_input", "text": raw[e.start:e.start + 16].hex(),
                    "detail": json.dumps({"error": f"invalid UTF-8 at byte {e.start}; undecodable "
                                                   "bytes replaced by U+FFFD (text shows them in hex)"})}
            return raw.decode("utf-8", "replace"), note

    def _make(self, doc_id, text, source, order, meta="{}", note=None) -> Document:
        d = Document(doc_id=doc_id, text=text, source=source, order=order, metadata=meta)
        if note:
            d.extra_ledger.append(note)
        return d

    def __iter__(self):
        fmt = self.spec.fmt
        if fmt == "txt":
            yield from self._read_txt()
        elif fmt == "jsonl":
            yield from self._read_jsonl()
        else:
            yield from self._read_parquet()

    def _read_txt(self):
        for idx, path, rel in self.spec.files:
            try:
                with open(path, "rb") as fh:
                    raw = fh.read()
            except OSError as e:
                yield self._bad(rel, rel, "", f"cannot read file: {e.strerror}", (idx, 0))
                continue
            text, note = self._decode(raw)
            yield self._make(rel, text, rel, (idx, 0), note=note)

    def _open_stream(self, path: str):
        low = path.lower()
        if low.endswith(".gz"):
            return gzip.open(path, "rb")
        if low.endswith(".zst"):
            return io.BufferedReader(_ZstdRaw(path), buffer_size=1 << 20)
        return open(path, "rb")

    def _read_jsonl(self):
        (idx, path, rel), = self.spec.files
        start, end, lineno = self.spec.start, self.spec.end, self.spec.first_line
        try:
            fh = self._open_stream(path)
        except OSError as e:
            yield self._bad(rel, rel, "", f"cannot open: {e.strerror}", (idx, start))
            return
        pos = start
        max_line = int(self.cfg.max_line_mb * (1 << 20))
        compressed = path.lower().endswith((".gz", ".zst"))
        budget = max(256 << 20, int(self.cfg.max_expansion * os.path.getsize(path))) if compressed else -1
        with fh:
            try:
                if start:
                    fh.seek(start)
                while end < 0 or pos < end:
                    if budget >= 0 and pos > budget:
                        src = f"{rel}:{lineno}"
                        yield self._bad(src, src, "", f"stopped after {pos} decompressed bytes, more than "
                                        f"input.max_expansion x the file size: a decompression bomb?", (idx, pos))
                        return
                    line = fh.readline(max_line + 1)
                    if not line:
                        break
                    here, pos = pos, pos + len(line)
                    src = f"{rel}:{lineno}"
                    lineno += 1
                    if len(line) > max_line and not line.endswith(b"\n"):
                        while True:                       # skip the rest of the line, bounded memory
                            chunk = fh.readline(1 << 20)
                            pos += len(chunk)
                            if not chunk or chunk.endswith(b"\n"):
                                break
                        yield self._bad(src, src, line[:1000].decode("utf-8", "replace"),
                                        f"line longer than input.max_line_mb ({self.cfg.max_line_mb} MB)", (idx, here))
                        continue
                    if not line.strip():
                        continue
                    yield self._parse_line(line, src, (idx, here))
            except _STREAM_ERRORS as e:   # corrupt gzip/zstd, truncated stream
                src = f"{rel}:{lineno}"
                yield self._bad(src, src, "", f"cannot read past line {lineno - 1}: {type(e).__name__}: {e}",
                                (idx, pos))

    def _parse_line(self, line: bytes, src: str, order) -> Document:
        id_f, text_f = self.cfg.id_field, self.cfg.text_field
        note = None
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            text, note = self._decode(line)
            try:
                rec = json.loads(text)      # accepts lone surrogates (repair removes them)
            except ValueError as e:
                return self._bad(src, src, text.rstrip("\n"), f"malformed JSON: {e}", order)
        if not isinstance(rec, dict):
            return self._bad(src, src, line.decode("utf-8", "replace").rstrip("\n"),
                             "JSON line is not an object", order)
        text = rec.get(text_f)
        raw_id = rec.get(id_f)
        ok_id = isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id)
        doc_id = str(raw_id) if ok_id else src
        if not isinstance(text, str):
            why = (f"field '{text_f}' is missing" if text is None
                   else f"field '{text_f}' is {type(text).__name__}, not a string")
            return self._bad(doc_id, src, line.decode("utf-8", "replace").rstrip("\n"), why, order)
        meta = {k: v for k, v in rec.items() if k not in (id_f, text_f)}
        meta_s = orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode() if meta else "{}"
        return self._make(doc_id, text, src, order, meta_s, note)

    def _parquet_pieces(self, pf, end: int):
        """The shard's rows as tables, in order: (table, None, 0), or (None, what went wrong, the
        number of rows it lost) for a row group, or the rest of a slice, that cannot be read."""
        if self.spec.rows is None:
            for rg in range(self.spec.start, end):
                try:
                    yield pf.read_row_group(rg), None, 0
                except Exception as e:
                    yield None, f"corrupt row group {rg}: {e}", pf.metadata.row_group(rg).num_rows
            return
        import pyarrow as pa
        if self.spec.split and os.path.exists(self.spec.split):
            with pa.memory_map(self.spec.split) as src:
                f = pa.ipc.open_file(src)
                for i in range(f.num_record_batches):
                    yield pa.Table.from_batches([f.get_batch(i)]), None, 0
            return
        (a, b), rg, seen = self.spec.rows, self.spec.start, 0
        try:
            for batch in _batches(pf, rg):
                lo, hi = max(a - seen, 0), min(b - seen, batch.num_rows)
                seen += batch.num_rows
                if hi > lo:
                    yield pa.Table.from_batches([batch.slice(lo, hi - lo)]), None, 0
                if seen >= b:
                    return
        except Exception as e:
            done = max(0, min(seen, b) - a)
            yield None, f"corrupt row group {rg} (rows {a + done}-{b - 1} of it): {e}", b - a - done
            return
        if seen < b:              # fewer rows than the footer says
            done = max(0, seen - a)
            yield None, f"row group {rg} ends at row {seen}, its footer says more", b - a - done

    def _read_parquet(self):
        import pyarrow as pa
        import pyarrow.parquet as pq
        (idx, path, rel), = self.spec.files
        id_f, text_f = self.cfg.id_field, self.cfg.text_field
        try:
            pf = (pq.ParquetFile(path, buffer_size=_PARQUET_BUFFER, pre_buffer=False) if self.spec.rows
                  else pq.ParquetFile(path))
            names = pf.schema_arrow.names
            end = pf.metadata.num_row_groups if self.spec.end < 0 else self.spec.end
            row0 = sum(pf.metadata.row_group(i).num_rows for i in range(self.spec.start))
            row0 += self.spec.rows[0] if self.spec.rows else 0
        except Exception as e:
            yield self._bad(rel, rel, "", f"corrupt Parquet file: {type(e).__name__}: {e}", (idx, 0))
            return
        if text_f not in names:
            yield self._bad(rel, rel, "", f"Parquet file has no column '{text_f}' (columns: {', '.join(names)})",
                            (idx, row0))
            return
        ttype = pf.schema_arrow.field(text_f).type
        if not (pa.types.is_string(ttype) or pa.types.is_large_string(ttype) or pa.types.is_binary(ttype)
                or pa.types.is_large_binary(ttype)):
            yield self._bad(rel, rel, "", f"Parquet column '{text_f}' is {ttype}, not a string", (idx, row0))
            return
        if nopandas.needs_pandas(pf.schema_arrow):
            nopandas.release()      # its nanosecond values convert to Python as they do with pandas
        row = row0
        for table, error, n in self._parquet_pieces(pf, end):
            if error is not None:
                src = f"{rel}#{row}"
                yield self._bad(src, src, "", f"{error} ({n} rows)", (idx, row))
                row += n
                continue
            cols = table.to_pydict()
            texts = cols.pop(text_f)
            ids = cols.pop(id_f, None)
            meta_names = sorted(cols)
            for i, text in enumerate(texts):
                src = f"{rel}#{row}"
                raw_id = ids[i] if ids is not None else None
                doc_id = str(raw_id) if raw_id is not None and str(raw_id) else src
                note = None
                if isinstance(text, bytes):
                    text, note = self._decode(text)
                if text is None:
                    yield self._bad(doc_id, src, "", f"column '{text_f}' is null", (idx, row))
                else:
                    meta = {k: cols[k][i] for k in meta_names}
                    meta_s = orjson.dumps(meta, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                                          default=str).decode() if meta else "{}"
                    yield self._make(doc_id, text, src, (idx, row), meta_s, note)
                row += 1
