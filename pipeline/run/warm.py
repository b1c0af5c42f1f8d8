"""Imported once by the local executor's fork server (``executors.LocalExecutor``): the modules,
tables and models that every shard task needs, so that each worker forked from the server starts
warm instead of paying for them in its first task (pyarrow's first ``pa.array``, the code-point
tables, the fastText model, the Parquet writer).

It applies the command's process-wide settings (``pipeline.tuning``) first when the command
started the pool, and only then. Importing it never fails: the fork server would
die with it, so anything that goes wrong here is left for the task itself to meet (and report)
as it would without the warm-up.
"""
from __future__ import annotations


def warm_up() -> None:
    import io
    import os

    from .. import tuning
    tuned = bool(os.environ.get(tuning.ENV))     # started by the command, which applied them to itself
    if tuned:
        tuning.apply()

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from . import phases  # noqa: F401  (imports every step)
    from ..steps.langid import backends, textscan
    from ..text import chars

    pa.array(np.zeros(1, np.int64))                     # pyarrow's first call
    for comp in ("none", "zstd"):                       # codecs of the work and output files
        pq.write_table(pa.table({"x": ["a"]}), io.BytesIO(), compression=comp)
    np.save(io.BytesIO(), np.zeros(1, np.uint32))
    chars.tables()
    textscan.fw_table()
    for backend in ("cld2", "fasttext"):                # the default detectors
        backends.get_backend(backend).detect("warm up")
    if tuned:
        tuning.freeze()                                 # what the warm-up made, too


try:
    warm_up()
except Exception:   # noqa: BLE001, S110  (see the module docstring)
    pass
