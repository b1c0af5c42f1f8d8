"""A run: the plan (``runner.py``), its two per-shard phases and the dedup barrier between them,
the work and output folders, the executors that schedule the tasks, and the run's stats."""
