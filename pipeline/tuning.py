"""Process-wide settings for the command's own processes.

The command line applies them (``apply``) to its own process (``cli.entry``) and to the processes
it starts for the local executor: its fork server, around the warm-up (``run/warm.py``, told by
``ENV``), and every worker (the executor's ``setup``). Ray's workers are Ray's own. Never on import, and never when the pipeline
is called as a library: a program that calls ``pipeline.run.runner.run`` or ``cli.main`` keeps its
process as it is. Each setting is here because ``make bench`` gains 5% or more with it
(docs/performance.md has the figures):

* **garbage collection**: what the imports made is frozen out of the collector's way, and young
  collections run every 50,000 allocations instead of 700. A shard makes hundreds of thousands of
  small objects (paragraphs, sentences, removals) that reference counting frees; the collector
  would walk the growing heap again and again for nothing. Cycles are still collected.
* **allocator**: glibc's malloc keeps up to 256 MB of freed memory and maps only blocks over 32 MB
  on their own, and Arrow allocates from the same heap, instead of handing memory back to the
  kernel and faulting the same pages in again (language ID allocates and frees a large buffer per
  call; a worker's first task after the barrier would refault its buffers).
* **pandas held back**: pyarrow imports pandas the first time it checks whether an object is a
  pandas one (any ``pa.array`` of Python values), a fixed cost in every process; pyarrow is made
  to take it for absent. It tries again when it needs pandas itself (``to_pandas``), and the
  Parquet reader lets pandas in before it converts the values whose Python form depends on it
  (``io.readers``), so the output never depends on this setting (a test compares).
"""
from __future__ import annotations

import ctypes
import gc
import os
import sys

ENV = "PIPELINE_TUNED"        # set by ``apply``: processes the command starts apply the settings too
_applied = False


def apply() -> None:
    """All the settings, once per process."""
    global _applied
    if _applied:
        return
    _applied = True
    os.environ[ENV] = "1"
    _hold_back_pandas()          # first: before anything asks pyarrow about pandas
    _allocator()
    freeze()
    gc.set_threshold(50_000, 20, 20)


def freeze() -> None:
    """Move what the process holds now out of the collector's way (after imports or a warm-up)."""
    gc.freeze()


def _allocator() -> None:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):          # not glibc: malloc as it is
        pass
    else:
        mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        mallopt(M_TRIM_THRESHOLD, 256 << 20)
        mallopt(M_MMAP_THRESHOLD, 32 << 20)
    import pyarrow as pa
    pa.set_memory_pool(pa.system_memory_pool())


class _NoPandas:
    """An import finder that answers ``import pandas`` with ModuleNotFoundError."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("held back by pipeline.tuning", name="pandas")
        return None


def _hold_back_pandas() -> None:
    if "pandas" in sys.modules:          # already paid for: nothing to save
        return
    import pyarrow as pa
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])                    # pyarrow asks whether pandas is there, once, and remembers
    finally:
        sys.meta_path.remove(finder)
