"""Fault injection for crash tests.

``PIPELINE_KILL_AT=<point>[:<n>]`` makes the process kill itself with SIGKILL the n-th time
(default 1) it reaches the named point. With ``PIPELINE_KILL_ONCE=<file>`` only the first process
to get there dies (it creates the file first): a retried task on a fresh worker then succeeds.
Unset, ``point`` costs one dictionary lookup. The points sit between the commits of every stage
(see ``POINTS``), so a test can stop a run anywhere a real crash could and check that the rerun
gives the same bytes.
"""
from __future__ import annotations

import os
import signal

POINTS = (
    "read",                    # a shard was read, nothing written yet
    "temp-written",            # a file's temporary copy is complete, not yet renamed
    "stage1-written",          # a shard's annotated documents and keys are written, marker not
    "stage1-done",             # a shard's phase 1 is committed
    "barrier-start",           # every shard is through phase 1
    "barrier-written",         # decisions written, barrier marker not
    "barrier-forgetting",      # a resume that redoes the barrier removed a finished shard's marker
    "finish-docs-written",     # a shard's document files are written, ledger not
    "finish-done",             # a shard's phase 2 is committed
    "history-segment-written",  # this run's history segment is written, index.json not
    "before-manifest",         # stats and report written, manifest not
    "before-cleanup",          # manifest written, work folder not yet removed
)
_seen: dict[str, int] = {}


def point(name: str) -> None:
    spec = os.environ.get("PIPELINE_KILL_AT")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] != int(nth or 1):
        return
    once = os.environ.get("PIPELINE_KILL_ONCE")
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)
