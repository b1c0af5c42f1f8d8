"""What a run counts (``Counts``, typed, added up over shards) and ``stats.json``, made from it."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields


@dataclass
class Counts:
    """A task's counts. Phase 1 counts its rules' firings; phase 2 the documents in and out and
    the ledger rows it writes. They cross process boundaries as JSON (``to_json``)."""
    docs_in: int = 0
    chars_in: int = 0
    docs_emptied: int = 0                                        # every paragraph removed
    docs_in_by_lang: Counter = field(default_factory=Counter)      # by document language
    chars_in_by_lang: Counter = field(default_factory=Counter)
    docs_out_by_lang: Counter = field(default_factory=Counter)     # rows written per language folder
    chars_out_by_lang: Counter = field(default_factory=Counter)
    ledger_rows: dict = field(default_factory=dict)              # reason -> Counter of document languages
    ledger_chars: Counter = field(default_factory=Counter)         # reason -> characters removed
    rules: Counter = field(default_factory=Counter)                # "repair-ftfy", "filter-truncated-..."

    def add(self, other: "Counts") -> "Counts":
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "ledger_rows":
                for reason, by_lang in theirs.items():
                    mine.setdefault(reason, Counter()).update(by_lang)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine + theirs)
        return self

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def from_json(d: dict) -> "Counts":
        c = Counts()
        for f in fields(c):
            v = d.get(f.name)
            if v is None:
                continue
            if f.name == "ledger_rows":
                c.ledger_rows = {r: Counter(by) for r, by in v.items()}
            elif isinstance(getattr(c, f.name), Counter):
                setattr(c, f.name, Counter(v))
            else:
                setattr(c, f.name, v)
        return c


def make_stats(counts: Counts, cpu: Counter, total_bytes: int, n_files: int, n_shards: int, wall: float,
               barrier: dict) -> dict:
    """``stats.json``: documents and characters in and out by language, ledger rows by reason,
    the rules that fired, the dedup barrier's figures, and the run's timing."""
    reasons = {r: {"rows": sum(by.values()), "chars": counts.ledger_chars.get(r, 0), "by_lang": dict(sorted(by.items()))}
               for r, by in counts.ledger_rows.items()}
    total_cpu = sum(cpu.values())
    return {
        "documents": {"in": counts.docs_in, "in_chars": counts.chars_in,
                      "out": sum(counts.docs_out_by_lang.values()), "emptied": counts.docs_emptied,
                      "out_by_lang": dict(sorted(counts.docs_out_by_lang.items())),
                      "out_chars_by_lang": dict(sorted(counts.chars_out_by_lang.items())),
                      "in_by_lang": dict(sorted(counts.docs_in_by_lang.items())),
                      "in_chars_by_lang": dict(sorted(counts.chars_in_by_lang.items()))},
        "ledger": {"rows": sum(r["rows"] for r in reasons.values()), "by_reason": dict(sorted(reasons.items()))},
        "stages": dict(sorted(counts.rules.items())),
        "dedup": {"decisions": barrier.get("decisions", 0), "history_rows": barrier.get("history_rows", 0),
                  "cluster_sizes": barrier.get("cluster_sizes", {})},
        "inputs": {"files": n_files, "bytes": total_bytes, "shards": n_shards},
        # Timing is the only part of the output that differs between identical runs.
        "timing": {"cpu_seconds": {k: round(v, 3) for k, v in sorted(cpu.items())},
                   "cpu_seconds_total": round(total_cpu, 3), "wall_seconds": round(wall, 3),
                   "cpu_seconds_per_mb": round(total_cpu / max(total_bytes / 1e6, 1e-9), 4)},
    }
