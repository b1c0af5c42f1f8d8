"""A short report a person can read, written beside the output (``OUT/report.md``)."""
from __future__ import annotations

from .model import REASONS


def render_markdown(stats: dict, run_id: str) -> str:
    d, led, t = stats["documents"], stats["ledger"], stats["timing"]
    lines = [f"# Cleaning report, run {run_id}", "",
             f"{d['in']} documents in ({d['in_chars']:,} characters), {d['out']} document rows out, "
             f"{led['rows']} ledger rows.", "",
             "## Kept, by language", "", "| lang | documents | characters |", "|---|---:|---:|"]
    for lang, n in d["out_by_lang"].items():
        lines.append(f"| {lang} | {n} | {d['out_chars_by_lang'].get(lang, 0):,} |")
    lines += ["", "## Removed, by reason", "", "| reason | rows | characters | by language | meaning |",
              "|---|---:|---:|---|---|"]
    for reason, r in led["by_reason"].items():
        by = ", ".join(f"{k} {v}" for k, v in sorted(r["by_lang"].items()))
        lines.append(f"| {reason} | {r['rows']} | {r['chars']:,} | {by} | {REASONS.get(reason, '')} |")
    if stats["stages"]:
        lines += ["", "## Rules that fired", "", "| counter | count |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in stats["stages"].items()]
    lines += ["", "## CPU seconds per stage", "", "| stage | CPU s |", "|---|---:|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in t["cpu_seconds"].items()]
    lines += ["", f"Total {t['cpu_seconds_total']:.2f} CPU s ({t['cpu_seconds_per_mb']:.3f} CPU s per MB of input), "
              f"wall {t['wall_seconds']:.2f} s.", "",
              "Why a span was removed: see `ledger/` (columns `reason` and `detail`).", ""]
    return "\n".join(lines)
