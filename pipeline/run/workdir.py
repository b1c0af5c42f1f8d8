"""The work folder of a run, ``OUT/_work/<run_id>/``: every path in it, its markers, and the rules
that decide what a rerun may reuse.

A run commits as it goes. Per shard, phase 1 writes its hand-off and dedup keys
(``stage1/NNNNN.*``) and then its marker (``stage1/NNNNN.done.json``); the barrier writes its
decisions and then its marker (``dedup/done.json``); phase 2 writes the shard's output files and
then its marker (``final/NNNNN.done.json``). A marker is written last, so a rerun that finds it
finds everything before it; what has no marker is done again. ``resume`` applies the few cases
where a marker is not enough (below).
"""
from __future__ import annotations

import os
import shutil

from .. import faults
from ..dedup.keys import KEY_FILES, has_keys
from ..io import atomic
from .handoff import HANDOFF_FILES


class WorkFolder:
    def __init__(self, out: str, run_id: str):
        self.root = os.path.join(out, "_work", run_id)

    def make(self) -> None:
        for sub in ("stage1", "dedup", "final"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)

    # ------------------------------------------------------------------ paths
    def shard(self, sid: int) -> str:
        """The base path of a shard's phase-1 files (hand-off and dedup keys: base + suffix)."""
        return os.path.join(self.root, "stage1", f"{sid:05d}")

    def emitted(self, sid: int) -> str:
        """The base path of the keys of what a shard emitted (for the history index)."""
        return self.shard(sid) + ".emitted"

    def split(self, sid: int) -> str:
        """Where a shard that is a slice of a big Parquet row group finds its rows."""
        return os.path.join(self.root, "split", f"{sid:05d}.arrow")

    def phase1_marker(self, sid: int) -> str:
        return self.shard(sid) + ".done.json"

    def phase2_marker(self, sid: int) -> str:
        return os.path.join(self.root, "final", f"{sid:05d}.done.json")

    @property
    def barrier_folder(self) -> str:
        """The barrier's files (and a folder the workers see for its temporary files)."""
        return os.path.join(self.root, "dedup")

    @property
    def barrier_marker(self) -> str:
        return os.path.join(self.barrier_folder, "done.json")

    @property
    def decisions(self) -> str:
        return os.path.join(self.barrier_folder, "decisions.parquet")

    # ------------------------------------------------------------------ markers
    def phase1_done(self, sid: int) -> bool:
        return os.path.exists(self.phase1_marker(sid))

    def phase2_done(self, sid: int) -> bool:
        return os.path.exists(self.phase2_marker(sid))

    def barrier_done(self) -> bool:
        return os.path.exists(self.barrier_marker)

    def result(self, marker: str) -> dict:
        return atomic.read_json(marker)

    # ------------------------------------------------------------------ resume rules
    def resume(self, shards, history_seen, dedup_on: bool, with_state: bool, log) -> None:
        """Undo what an earlier attempt left that this one cannot reuse:

        * a barrier that read another history index than the one there is now (it ran without
          --state, with another state folder, or another run appended to it or compacted it
          since): it is done again, and phase 2 of the shards it finished (``_forget_barrier``);
        * a finished shard whose emitted keys are gone, when a history index is kept: without
          them the index would miss what the shard wrote, so its phase 2 is done again;
        * a shard whose phase 1 cannot be used: phase 2 removes a shard's hand-off and keys once
          the shard is committed, so a shard whose phase 2 must be done (again) needs them back,
          and a work folder left half removed (a run killed while removing it) has markers
          without their files. Its phase 1 and phase 2 are done again.
        """
        if dedup_on and self.barrier_done() and self.result(self.barrier_marker).get("history") != history_seen:
            self._forget_barrier(shards, log)
        barrier_done = not dedup_on or self.barrier_done()
        for s in shards:
            sid = s.shard_id
            if with_state and dedup_on and self.phase2_done(sid) and not has_keys(self.emitted(sid)):
                os.remove(self.phase2_marker(sid))
            if not self._phase1_usable(sid, barrier_done, dedup_on):
                for marker in (self.phase2_marker(sid), self.phase1_marker(sid)):    # phase 2 first
                    if os.path.exists(marker):
                        os.remove(marker)

    def _phase1_usable(self, sid: int, barrier_done: bool, dedup_on: bool) -> bool:
        if not self.phase1_done(sid):
            return False
        if barrier_done and self.phase2_done(sid):
            return True
        base = self.shard(sid)
        return os.path.exists(base + ".docs.parquet") and (not dedup_on or has_keys(base))

    def _forget_barrier(self, shards, log) -> None:
        """The finished shards' markers go first, the barrier's last: a run killed in here does
        the same again. (Their document files are replaced or removed by phase 2; where their
        hand-off is gone, phase 1 runs again: ``_phase1_usable``.)"""
        redo = 0
        for s in shards:
            if self.phase2_done(s.shard_id):
                os.remove(self.phase2_marker(s.shard_id))
                redo += 1
                faults.point("barrier-forgetting")
        os.remove(self.barrier_marker)
        shutil.rmtree(self.barrier_folder)
        os.makedirs(self.barrier_folder)
        log(f"the earlier attempt's dedup barrier read another history index: redoing it, and phase 2 of {redo} "
            "shard(s)")

    def release_shard(self, sid: int) -> None:
        """Remove a committed shard's hand-off and keys: only its phase 2 read them (the barrier is
        done), and removing them on the workers is cheaper than with the whole folder at the
        end. A rerun that needs them again runs phase 1 again (``resume``). The emitted keys
        stay, for the history index."""
        base = self.shard(sid)
        for suffix in HANDOFF_FILES + KEY_FILES:
            try:
                os.remove(base + suffix)
            except FileNotFoundError:
                pass
