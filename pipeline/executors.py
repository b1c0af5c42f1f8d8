"""Executors only schedule shard tasks; they never change what a task writes.

``local``: a process pool (spawned workers, no server). With one worker the tasks run in this
process, which is also what the tests use to compare worker counts.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Sequence


def effective_workers(requested: int) -> int:
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int):
        self.workers = effective_workers(workers)
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable, args: Sequence[tuple], on_done: Callable | None = None) -> list:
        """Run ``fn(*a)`` for every ``a``; results in the order of ``args``."""
        if not args:
            return []
        if self.workers == 1 or len(args) == 1:
            results = []
            for a in args:
                r = fn(*a)
                results.append(r)
                if on_done:
                    on_done(r)
            return results
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"))
        futures = {self._pool.submit(fn, *a): i for i, a in enumerate(args)}
        results: list = [None] * len(args)
        for fut in as_completed(futures):
            r = fut.result()
            results[futures[fut]] = r
            if on_done:
                on_done(r)
        return results

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_executor(name: str, workers: int):
    if name == "local":
        return LocalExecutor(workers)
    raise ValueError(f"executor: unknown executor {name!r}")
