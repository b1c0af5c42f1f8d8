"""Keep pandas out of the pipeline's own processes until a conversion needs it.

pyarrow imports pandas the first time it asks whether an object is a pandas one, which every
``pa.array`` or ``pa.table`` of Python lists does: ~0.3 CPU s and ~40 MB in each process, measured
here, in the command's process, in the fork server (where it delayed the first task) and in a
worker started without one. The pipeline itself never uses pandas.

``hold_back`` makes pyarrow's first such question find no pandas; pyarrow keeps that answer for
its questions, but tries again whenever it needs pandas itself (``to_pandas``, which ``release``
calls). Only its conversions to Python of nanosecond timestamps, durations and times of day
differ without pandas: ``pandas.Timestamp`` and ``Timedelta`` (or a time through them) with it,
``datetime`` values or an error without it. The Parquet reader calls ``release`` before it
converts such a column (``needs_pandas``), so the output never depends on this: tests hold the
command's output equal to a plain process's on such input, and ``needs_pandas`` equal to what
pyarrow converts differently.

Only the command's own process (``cli.entry``, for ``run``) and the fork server (``pipeline.warm``)
hold pandas back: a program that imports the pipeline as a library, or calls ``cli.main``, keeps
pyarrow as it is.
"""
from __future__ import annotations

import sys


class _Refuse:
    """An import finder that answers ``import pandas`` with ModuleNotFoundError."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("held back by pipeline.nopandas", name="pandas")
        return None


def hold_back() -> None:
    """Make pyarrow, in this process, take pandas for absent until it needs pandas itself."""
    if "pandas" in sys.modules:          # already paid for: nothing to save
        return
    import pyarrow as pa
    finder = _Refuse()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])                    # pyarrow asks whether pandas is there, once
    finally:
        sys.meta_path.remove(finder)


def release() -> None:
    """Let pyarrow convert as it does with pandas (a no-op where it already does). Where pyarrow
    cannot use the installed pandas (too old for it), it converts without it in any process."""
    import pyarrow as pa
    try:
        pa.table({"x": pa.array([], pa.int8())}).to_pandas()     # imports pandas; pyarrow records it
    except ImportError:
        pass


def needs_pandas(t) -> bool:
    """Whether converting values of the Arrow type ``t`` (or of a schema) to Python may differ
    without pandas: nanosecond timestamps, durations and times of day, also inside lists, structs,
    maps, dictionaries and extension types."""
    import pyarrow as pa
    if isinstance(t, pa.Schema):
        return any(needs_pandas(f.type) for f in t)
    if isinstance(t, pa.BaseExtensionType):
        return needs_pandas(t.storage_type)
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_time64(t):
        return t.unit == "ns"
    if pa.types.is_dictionary(t):
        return needs_pandas(t.value_type)
    return any(needs_pandas(t.field(i).type) for i in range(t.num_fields))
