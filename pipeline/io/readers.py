"""Read a shard into documents, in input order.

Every record ends up as a document or in the ledger: unreadable lines, records without text and
corrupt files become ``invalid_input`` documents that name ``file:line`` or ``file#row``; bytes
that are not UTF-8 are replaced and the original bytes go to the ledger; the text of a document
beyond ``input.max_doc_chars`` is cut and goes to the ledger as ``too_long``.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import time
import zlib

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from ..model import Document, Removal
from . import atomic
from .inputs import INVALID_INPUT, TOO_LONG, InputConfig, ShardSpec

_STREAM_ERRORS = (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError)


def needs_pandas(t) -> bool:
    """Whether converting values of the Arrow type ``t`` (or of a schema) to Python differs when
    pyarrow takes pandas for absent: nanosecond timestamps, durations and times of day (also
    inside lists, structs, maps, dictionaries and extension types) become ``pandas.Timestamp`` or
    ``Timedelta`` with it, ``datetime`` values or an error without it."""
    if isinstance(t, pa.Schema):
        return any(needs_pandas(f.type) for f in t)
    if isinstance(t, pa.BaseExtensionType):
        return needs_pandas(t.storage_type)
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_time64(t):
        return t.unit == "ns"
    if pa.types.is_dictionary(t):
        return needs_pandas(t.value_type)
    return any(needs_pandas(t.field(i).type) for i in range(t.num_fields))


def let_pandas_in() -> None:
    """Make pyarrow convert as it does with pandas, also in a process that held pandas back
    (``pipeline.tuning``, the command's processes): the metadata of such values then reads the
    same in any process. A no-op where pyarrow already has pandas; where the installed pandas is
    too old for pyarrow, pyarrow converts without it in any process."""
    try:
        pa.table({"x": pa.array([], pa.int8())}).to_pandas()     # imports pandas; pyarrow records it
    except ImportError:
        pass

# A row group read in slices is read page by page, through a buffer of _PARQUET_BUFFER bytes
# (pyarrow's default pre-buffering would load the whole compressed row group for each slice), in
# batches of about _PARQUET_BATCH_BYTES (uncompressed; at least one row).
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
        # zstd level 1: a slice is written and read once, and takes about the input's size on disk
        options = pa.ipc.IpcWriteOptions(compression=pa.Codec("zstd", 1))
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
            atomic.write_with(fill, s.split)
            done += 1
    except Exception as e:   # noqa: BLE001  (the slices left read the file themselves, and say what they lose)
        tmp = atomic.tmp_path(current.split)
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
    removed as ``invalid_input`` (it goes to the ledger, naming file:line or file#row)."""

    def __init__(self, spec: ShardSpec, cfg: InputConfig):
        self.spec, self.cfg = spec, cfg

    @staticmethod
    def _bad(doc_id: str, source: str, text: str, why: str, order) -> Document:
        d = Document(doc_id=doc_id, text=text, source=source, order=order, metadata="{}")
        d.remove(INVALID_INPUT, json.dumps({"error": why}, ensure_ascii=False))
        return d

    @staticmethod
    def _decode(raw: bytes) -> tuple[str, Removal | None]:
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as e:
            lost = Removal(INVALID_INPUT, json.dumps({"error": f"invalid UTF-8 at byte {e.start}; undecodable "
                                                               "bytes replaced by U+FFFD (text shows them in hex)"}),
                           text=raw[e.start:e.start + 16].hex())
            return raw.decode("utf-8", "replace"), lost

    def _make(self, doc_id, text, source, order, meta="{}", lost: Removal | None = None) -> Document:
        d = Document(doc_id=doc_id, text=text, source=source, order=order, metadata=meta)
        if lost:
            d.removals.append(lost)
        max_chars = self.cfg.max_doc_chars
        if len(text) > max_chars:
            # cut at the last paragraph break before the limit (or hard at it)
            cut = text.rfind("\n\n", 0, max_chars)
            if cut < max_chars // 2:
                cut = max_chars
            d.removals.append(Removal(TOO_LONG, json.dumps({"max_doc_chars": max_chars, "chars": len(text)}),
                                      text=text[cut:], start=cut, end=len(text)))
            d.text = text[:cut]
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
            text, lost = self._decode(raw)
            yield self._make(rel, text, rel, (idx, 0), lost=lost)

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
        lost = None
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            text, lost = self._decode(line)
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
        return self._make(doc_id, text, src, order, meta_s, lost)

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
        if needs_pandas(pf.schema_arrow):
            let_pandas_in()
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
                lost = None
                if isinstance(text, bytes):
                    text, lost = self._decode(text)
                if text is None:
                    yield self._bad(doc_id, src, "", f"column '{text_f}' is null", (idx, row))
                else:
                    meta = {k: cols[k][i] for k in meta_names}
                    meta_s = orjson.dumps(meta, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                                          default=str).decode() if meta else "{}"
                    yield self._make(doc_id, text, src, (idx, row), meta_s, lost)
                row += 1
