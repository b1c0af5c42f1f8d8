"""Reports a person can read: ``OUT/report.md`` and a self-contained ``OUT/report.html``.

The HTML has its charts inline as SVG (no scripts, no network): documents and characters in and
out per language, removals by reason and language, duplicate cluster sizes, CPU time per stage,
and examples from the ledger for each reason. ``python -m pipeline report OUT`` rebuilds both
from an output folder.
"""
from __future__ import annotations

import html
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import REASONS
from .io import atomic


def _meaning(reason: str) -> str:
    """The legend of a reason, as the step that removes with it declared it."""
    return REASONS[reason].meaning if reason in REASONS else ""


_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac"]


def _phase_walls(t: dict) -> str:
    """Where the wall time went: start-up, the two map phases and the barrier between them."""
    m = t.get("phase_marks")
    if not m or len(m) < 4:
        return ""
    return (f" (start {m['phase1_start']:.2f} s, clean {m['phase1_end'] - m['phase1_start']:.2f} s, "
            f"dedup barrier {m['phase2_start'] - m['phase1_end']:.2f} s, write {m['phase2_end'] - m['phase2_start']:.2f} s)")


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
        lines.append(f"| {reason} | {r['rows']} | {r['chars']:,} | {by} | {_meaning(reason)} |")
    if stats["stages"]:
        lines += ["", "## Rules that fired", "", "| counter | count |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in stats["stages"].items()]
    lines += ["", "## CPU seconds per stage", "", "| stage | CPU s |", "|---|---:|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in t["cpu_seconds"].items()]
    lines += ["", f"Total {t['cpu_seconds_total']:.2f} CPU s ({t['cpu_seconds_per_mb']:.3f} CPU s per MB of input), "
              f"wall {t['wall_seconds']:.2f} s{_phase_walls(t)}.", "",
              "Why a span was removed: see `ledger/` (columns `reason` and `detail`), or "
              "`python -m pipeline why DOC_ID OUT`.", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- SVG
def _bars(title: str, rows: list[tuple[str, list[float]]], series: list[str], unit: str = "") -> str:
    """Horizontal (stacked) bar chart as inline SVG."""
    if not rows:
        return f"<h3>{html.escape(title)}</h3><p class=note>nothing to show</p>"
    label_w, bar_w, row_h = 150, 460, 22
    top = 26 + (18 if len(series) > 1 else 0)
    height = top + row_h * len(rows) + 10
    vmax = max(sum(v) for _, v in rows) or 1
    out = [f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 110}" height="{height}" '
           f'role="img" aria-label="{html.escape(title)}">',
           f'<text x="0" y="16" class="t">{html.escape(title)}</text>']
    if len(series) > 1:
        x = 0
        for i, s in enumerate(series):
            out.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{_COLORS[i % 10]}"/>'
                       f'<text x="{x + 14}" y="35" class="l">{html.escape(s)}</text>')
            x += 14 + 7 * len(s) + 16
    for r, (label, values) in enumerate(rows):
        y = top + r * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" class="l" text-anchor="end">{html.escape(label)}</text>')
        x = label_w
        for i, v in enumerate(values):
            w = bar_w * v / vmax
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                           f'fill="{_COLORS[i % 10]}"><title>{html.escape(series[i])}: {v:,.6g}{unit}</title></rect>')
            x += w
        total = sum(values)
        shown = f"{total:,.0f}" if total >= 100 or total == int(total) else f"{total:.3g}"
        out.append(f'<text x="{x + 4:.1f}" y="{y + 15}" class="l">{shown}{unit}</text>')
    out.append("</svg></figure>")
    return "".join(out)


def _table(head: list[str], rows: list[list]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def render_html(stats: dict, run_id: str, samples: dict[str, tuple[int, list[dict]]]) -> str:
    """``samples``: reason -> (ledger rows with that reason, a few of them evenly spaced)."""
    d, led, t = stats["documents"], stats["ledger"], stats["timing"]
    langs = sorted(set(d["out_by_lang"]) | {lang for r in led["by_reason"].values() for lang in r["by_lang"]})
    parts = [f"<h1>Cleaning report, run {html.escape(run_id)}</h1>",
             f"<p>{d['in']:,} documents in ({d['in_chars']:,} characters); {d['out']:,} document rows out; "
             f"{led['rows']:,} ledger rows. Input {stats['inputs']['bytes'] / 1e6:.2f} MB in "
             f"{stats['inputs']['files']} file(s), {stats['inputs']['shards']} shard(s).</p>"]
    # in and out per language (a document counts under its detected language; a routed foreign
    # passage is an extra row in its own language)
    in_docs, in_chars = d.get("in_by_lang", {}), d.get("in_chars_by_lang", {})
    langs_io = sorted(set(in_docs) | set(d["out_by_lang"]))
    rows = []
    for lang in langs_io:
        rows.append((f"{lang} in", [in_docs.get(lang, 0), 0]))
        rows.append((f"{lang} out", [0, d["out_by_lang"].get(lang, 0)]))
    parts.append(_bars("Documents in and out per language", rows, ["in", "out"]))
    rows = []
    for lang in langs_io:
        rows.append((f"{lang} in", [in_chars.get(lang, 0), 0]))
        rows.append((f"{lang} out", [0, d["out_chars_by_lang"].get(lang, 0)]))
    parts.append(_bars("Characters in and out per language", rows, ["in", "out"]))
    # removals by reason and language
    reasons = sorted(led["by_reason"])
    rows = [(reason, [led["by_reason"][reason]["by_lang"].get(lang, 0) for lang in langs]) for reason in reasons]
    parts.append(_bars("Removed spans by reason and document language", rows, langs))
    # duplicate cluster sizes
    sizes = {int(k): v for k, v in stats.get("dedup", {}).get("cluster_sizes", {}).items()}
    parts.append(_bars("Duplicate clusters by size (copies incl. the kept one; 10 = 10 or more)",
                       [(str(k), [v]) for k, v in sorted(sizes.items())], ["clusters"]))
    # CPU per stage
    parts.append(_bars("CPU seconds per stage", [(k, [v]) for k, v in sorted(t["cpu_seconds"].items(),
                                                                             key=lambda x: -x[1])],
                       ["CPU s"], " s"))
    parts.append(f"<p>Total {t['cpu_seconds_total']:.2f} CPU s ({t['cpu_seconds_per_mb']:.3f} CPU s per MB), "
                 f"wall {t['wall_seconds']:.2f} s{html.escape(_phase_walls(t))}.</p>")
    # rules
    if stats["stages"]:
        parts.append("<h2>Rules that fired</h2>" + _table(["counter", "count"], sorted(stats["stages"].items())))
    # samples
    parts.append("<h2>Examples from the ledger</h2>")
    for reason in sorted(samples):
        count, picked = samples[reason]
        parts.append(f"<h3>{html.escape(reason)} ({count:,}): {html.escape(_meaning(reason))}</h3>")
        parts.append(_table(["doc_id", "position", "removed text", "detail"], [
            [r["doc_id"], f"¶{r['para_idx']}" + (f" s{r['sent_idx']}" if r["sent_idx"] is not None else "")
             if r["para_idx"] is not None else "document",
             (r["text"][:300] + ("…" if len(r["text"]) > 300 else "")), (r["detail"] or "")[:200]]
            for r in picked]))
    css = ("body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}"
           "figure{margin:1.2em 0}.t{font:bold 14px system-ui,sans-serif}.l{font:12px system-ui,sans-serif}"
           "table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
           "padding:3px 6px;vertical-align:top;text-align:left}th{background:#f3f3f3}.note{color:#777}")
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Cleaning report {html.escape(run_id)}"
            f"</title><style>{css}</style></head><body>{''.join(parts)}</body></html>\n")


def ledger_samples(paths: list[str], per_reason: int) -> dict[str, tuple[int, list[dict]]]:
    """reason -> (rows, up to ``per_reason`` rows evenly spaced in ledger order). Two passes over
    the files' reason column (counts, then positions), full rows only for the picked ones: memory
    is bounded by one ledger file, whatever the size of the run."""
    counts = []                                   # per file: {reason: rows}
    for path in paths:
        vc = pc.value_counts(atomic.read_table(path, columns=["reason"]).column("reason"))
        counts.append(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())))
    totals: dict[str, int] = {}
    for c in counts:
        for name, n in c.items():
            totals[name] = totals.get(name, 0) + n
    ranks = {name: np.arange(0, n, max(1, n // per_reason))[:per_reason] for name, n in totals.items()}
    picked: dict[str, list[dict]] = {name: [] for name in totals}
    seen = dict.fromkeys(totals, 0)               # rows of each reason in earlier files
    cols = ["doc_id", "reason", "para_idx", "sent_idx", "text", "detail"]
    for path, c in zip(paths, counts):
        local = {name: ranks[name][(ranks[name] >= seen[name]) & (ranks[name] < seen[name] + n)] - seen[name]
                 for name, n in c.items()}
        if any(len(v) for v in local.values()):
            table = atomic.read_table(path, columns=cols)
            enc = table.column("reason").combine_chunks().dictionary_encode()
            codes = enc.indices.to_numpy(zero_copy_only=False)
            rows = {name: np.flatnonzero(codes == j)[local[name]]
                    for j, name in enumerate(enc.dictionary.to_pylist()) if len(local[name])}
            for name, idx in rows.items():
                picked[name] += table.take(pa.array(idx)).to_pylist()
        for name, n in c.items():
            seen[name] += n
    return {name: (totals[name], picked[name]) for name in sorted(totals)}


def write_reports(out: str, stats: dict, run_id: str, samples_per_reason: int = 5) -> list[str]:
    """Write report.md and report.html into ``out``; returns their names."""
    ledger_dir = os.path.join(out, "ledger")
    files = sorted(f for f in os.listdir(ledger_dir) if f.endswith(".parquet")) if os.path.isdir(ledger_dir) else []
    samples = ledger_samples([os.path.join(ledger_dir, f) for f in files], samples_per_reason)
    atomic.write_bytes(render_markdown(stats, run_id).encode("utf-8"), os.path.join(out, "report.md"))
    atomic.write_bytes(render_html(stats, run_id, samples).encode("utf-8"), os.path.join(out, "report.html"))
    return ["report.md", "report.html"]
