"""Files committed atomically.

Every file is written under a temporary name in the same folder, flushed to disk, then renamed:
a reader never sees half a file, and an interrupted run leaves only temporary files (named with
``TMP_MARK``), which the next run removes.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import faults

TMP_MARK = ".tmp-"


def tmp_path(path: str) -> str:
    """The temporary name ``path`` is written under before it is committed."""
    d, name = os.path.split(path)
    return os.path.join(d, f"{TMP_MARK}{os.getpid()}-{name}")


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_table(table: pa.Table, path: str, compression: str = "zstd", statistics: bool = True) -> None:
    write_tables([table], path, table.schema, compression, statistics)


def write_tables(tables, path: str, schema: pa.Schema, compression: str = "zstd", statistics: bool = True) -> None:
    """The tables of the iterable ``tables`` (each of ``schema``), one after the other, as one
    Parquet file committed atomically; only one of them needs to be in memory at a time."""
    comp = None if compression == "none" else compression
    names = schema.names

    def fill(fh):
        with pq.ParquetWriter(fh, schema, compression=comp, write_statistics=statistics,
                              use_dictionary=["lang", "reason", "stage", "run_id"]
                              if "reason" in names or "lang" in names else True) as writer:
            for t in tables:
                writer.write_table(t, row_group_size=64 * 1024)
    write_with(fill, path)


def read_table(path: str, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file of ours, read directly (``pq.read_table`` goes through the dataset
    module, whose first use costs a fifth of a second in each process)."""
    return pq.ParquetFile(path).read(columns=columns)


def write_bytes(data: bytes, path: str) -> None:
    write_with(lambda fh: fh.write(data), path)


def write_array(arr: np.ndarray, path: str) -> None:
    """A numpy array as a .npy file, written straight into the file (no copy in memory)."""
    write_with(lambda fh: np.save(fh, arr, allow_pickle=False), path)


def write_with(fill, path: str) -> None:
    """``fill(file)`` writes the content; committed atomically (temporary name, fsync, rename)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = tmp_path(path)
    with open(tmp, "wb") as fh:
        fill(fh)
        fh.flush()
        os.fsync(fh.fileno())
    faults.point("temp-written")
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


def write_json(obj, path: str) -> None:
    write_bytes((json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"), path)


def remove_temporaries(root: str) -> int:
    n = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.startswith(TMP_MARK):
                os.remove(os.path.join(dirpath, f))
                n += 1
    return n


def read_json(path: str):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
