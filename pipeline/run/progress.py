"""Progress of a run: a live status line per phase on a terminal (shards done, documents/s and
MB/s of input), plain log lines otherwise (for schedulers and log files). ``--quiet`` prints nothing but
warnings (lines that start with "warning:") and errors; ``--verbose`` prints a line per shard even on a
terminal."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, mode: str = "auto", stream=None):
        self.stream = stream or sys.stderr
        self.mode = mode                     # auto | quiet | verbose
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def log(self, msg: str) -> None:
        if self.mode != "quiet" or msg.startswith("warning:"):
            print(msg, file=self.stream, flush=True)

    def phase(self, name: str, total: int) -> "Phase":
        return Phase(self, name, total)


class Phase:
    def __init__(self, progress: Progress, name: str, total: int):
        self.p, self.name, self.total = progress, name, total
        self.done = self.docs = self.bytes = 0
        self.t0 = time.time()
        self.live = bool(total) and progress.mode == "auto" and progress.tty
        if self.live:
            self._draw("")

    def update(self, result: dict) -> None:
        self.done += 1
        self.docs += result.get("docs", 0)
        self.bytes += result.get("bytes", 0)
        dt = max(time.time() - self.t0, 1e-9)
        rate = f"{self.docs / dt:,.0f} docs/s, {self.bytes / dt / 1e6:.2f} MB/s"
        if self.live:
            self._draw(rate)
        elif self.p.mode != "quiet" and (self.p.mode == "verbose" or not self.p.tty):
            self.p.log(f"{self.name}: shard {result.get('shard')} done ({self.done}/{self.total}; {rate})")

    def _draw(self, rate: str) -> None:
        width = 30
        filled = int(width * self.done / self.total)
        line = f"{self.name}: [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} shards"
        if rate:
            line += f"  {rate}"
        self.p.stream.write("\r" + line + "\x1b[K")
        self.p.stream.flush()

    def close(self) -> None:
        if self.live:
            self.p.stream.write("\n")
            self.p.stream.flush()
