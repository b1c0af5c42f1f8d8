"""Files in and out: finding and sharding the inputs (``inputs.py``), reading a shard
(``readers.py``), committing files atomically (``atomic.py``), the output contract's schemas
(``schemas.py``) and folder locks (``lock.py``)."""
