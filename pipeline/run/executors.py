"""Executors only schedule shard tasks; they never change what a task writes.

``local``: a process pool, no server. Workers are forked from a fork server that has imported and
warmed up what the tasks need once (``pipeline.run.warm``), where the platform has one; otherwise
spawned. ``setup``, when given, runs in each worker before its first task. Each task runs with
the driver's environment and working folder of the moment, as a freshly spawned worker would.
With one worker the tasks run in this process, which is also what the tests use to compare
worker counts.

``ray``: Ray tasks over the same shard specs (extra ``ray``). Each task writes its own files
atomically and is idempotent, so Ray may retry it when a worker dies. Ray Data is deliberately
not used (it reorders rows between runs). On a cluster, input, output and state folders must be
on storage every node sees at the same path.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Sequence


def _pool_context():
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["pipeline.run.warm"])
        return ctx
    return mp.get_context("spawn")


def prestart() -> None:
    """Start the fork server now, ahead of the pool: it imports and warms up in the
    background while the caller goes on; the pool later forks its workers from it."""
    if _pool_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


def _task(fn: Callable, env: dict, cwd: str, *args):
    """Runs in a worker: the fork server's environment and folder are those of its start, maybe
    an earlier run's (fault injection, for one, is set through the environment)."""
    if os.environ != env:
        os.environ.clear()
        os.environ.update(env)
    if os.getcwd() != cwd:
        os.chdir(cwd)
    return fn(*args)


def effective_workers(requested: int) -> int:
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


class _Executor:
    workers: int

    def map(self, fn: Callable, args: Sequence[tuple], on_done: Callable | None = None) -> list:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalExecutor(_Executor):
    name = "local"

    def __init__(self, workers: int, setup: Callable | None = None):
        self.workers = effective_workers(workers)
        self.setup = setup
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
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context(),
                                             initializer=self.setup)
        env, cwd = dict(os.environ), os.getcwd()
        futures = {self._pool.submit(_task, fn, env, cwd, *a): i for i, a in enumerate(args)}
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


class RayExecutor(_Executor):
    name = "ray"

    def __init__(self, workers: int, address: str = ""):
        try:
            import ray
        except ImportError:
            raise RuntimeError("executor 'ray' needs the ray extra: pip install 'pipeline[ray]'") from None
        self._ray = ray
        self._owned = False
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=effective_workers(workers), **kwargs)
            self._owned = True
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def map(self, fn: Callable, args: Sequence[tuple], on_done: Callable | None = None) -> list:
        if not args:
            return []
        # Fault injection for crash tests travels to the workers (see pipeline/faults.py).
        env = {k: v for k, v in os.environ.items() if k.startswith("PIPELINE_KILL")}
        opts = {"runtime_env": {"env_vars": env}} if env else {}
        remote = self._ray.remote(num_cpus=1, max_retries=3, **opts)(fn)
        refs = [remote.remote(*a) for a in args]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list = [None] * len(refs)
        pending = list(refs)
        while pending:
            done, pending = self._ray.wait(pending, num_returns=1)
            for ref in done:
                r = self._ray.get(ref)
                results[index[ref]] = r
                if on_done:
                    on_done(r)
        return results

    def close(self):
        if self._owned:
            self._ray.shutdown()
            self._owned = False


def make_executor(name: str, workers: int, address: str = "", setup: Callable | None = None) -> _Executor:
    if name == "local":
        return LocalExecutor(workers, setup)
    if name == "ray":
        return RayExecutor(workers, address)
    raise ValueError(f"executor: unknown executor {name!r}")
