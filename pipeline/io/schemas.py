"""The output contract: the columns of ``OUT/docs/lang=xx/*.parquet`` and ``OUT/ledger/*.parquet``
(README, "Output contract")."""
from __future__ import annotations

import pyarrow as pa

# ``lang`` is dictionary-encoded: readers that turn the ``lang=xx`` folders into a (dictionary)
# partition column, such as pandas.read_parquet and pyarrow.parquet.read_table, then see the
# same type in the files and load the folder as it is.
DOCS_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("lang", pa.dictionary(pa.int32(), pa.string())),
    ("lang_score", pa.float32()),
    ("text", pa.string()),
    ("source", pa.string()),
    ("run_id", pa.string()),
    ("metadata", pa.string()),
])

LEDGER_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("text", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("stage", pa.string()),
    ("para_idx", pa.int32()),
    ("sent_idx", pa.int32()),
    ("char_start", pa.int64()),
    ("char_end", pa.int64()),
    ("source", pa.string()),
    ("run_id", pa.string()),
])
