"""Imported once by the local executor's fork server (``executors.LocalExecutor``): the modules,
tables and models that every shard task needs, so that each worker forked from the server starts
warm instead of paying for them in its first task (~0.5 CPU s per worker measured: pyarrow's
first ``pa.array``, the code-point tables, the fastText model, the Parquet writer).

Importing this module never fails: the fork server would die with it, so anything that goes wrong
here is left for the task itself to meet (and report) as it would without the warm-up.
"""
from __future__ import annotations


def warm_up() -> None:
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from . import nopandas
    nopandas.hold_back()                                # before anything asks pyarrow about pandas

    from . import chars, dedup, langid, stages  # noqa: F401  (imports every stage)

    stages.tune_allocator()                             # as every task does first
    dedup.warm_up()                                     # pyarrow's first call
    for comp in ("none", "zstd"):                       # codecs of the work and output files
        pq.write_table(pa.table({"x": ["a"]}), io.BytesIO(), compression=comp)
    np.save(io.BytesIO(), np.zeros(1, np.uint32))
    chars.tables()
    langid._fw_table()
    for backend in ("cld2", "fasttext"):                # the default detectors
        langid.get_backend(backend).detect("warm up")


try:
    warm_up()
except Exception:   # noqa: BLE001, S110  (see the module docstring)
    pass

# What the fork server holds now lives as long as it does: frozen, a worker's garbage collections
# never walk these ~65,000 objects, nor write to their pages (which would copy each page the
# worker shares with the server). Workers' CPU outside their tasks, 97.9 MB with 2 workers, three
# interleaved pairs: 1.00-1.21 against 1.14-1.39 s.
import gc  # noqa: E402

gc.freeze()
