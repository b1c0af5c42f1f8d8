"""Reading segments' key files by global item id (the segments' rows numbered one after
another, history first): one LSH band of chosen items, signatures, the estimated Jaccard of
pairs (``agreement``: the share of equal signature values), document ids. Reads are plain
sequential reads into reusable buffers, so memory holds what one step needs, never the
signatures of the whole corpus. The Jaccard of many pairs can run on the executor's workers.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np
import pyarrow as pa

from ..io import atomic
from ..text.kernels import native as _native     # the compiled kernels, or None: numpy computes the same values

# Bytes of signatures the Jaccard of candidate pairs may hold at once in the driver
# (``jaccard_of``); beyond, they are read per chunk of pairs, and from PAIRS_PER_TASK pairs on
# the workers, a task per PAIRS_PER_TASK pairs.
SIG_BUFFER = 64 << 20
PAIRS_PER_TASK = 1 << 19


def npy_header(fh) -> tuple[int, tuple]:
    """(data offset, shape) of the .npy file open as ``fh``, its header read and the file left
    after it."""
    major, _minor = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, _fortran, _dtype = read(fh)
    return fh.tell(), shape


class SegmentReader:
    """Reads the key files of segments by global item id (the segments' rows numbered one after
    another): one LSH band of chosen items (each segment's band is one contiguous plain read, so
    no mapped pages accumulate), signatures, the Jaccard of pairs, document ids."""

    def __init__(self, bases: list[str], sizes: np.ndarray):
        self.bases = bases
        self.sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self._headers: dict = {}
        self._row: dict = {}       # one reusable read buffer per segment size
        self._ws = Workspace()
        self.worker_cpu = 0.0      # CPU seconds of the barrier's work run by workers

    def __len__(self):
        return int(self.offsets[-1])

    def _npy(self, i: int, suffix: str) -> tuple[str, int, tuple]:
        """(path, data offset, shape) of a segment's .npy file, header read once."""
        key = (i, suffix)
        if key not in self._headers:
            path = self.bases[i] + suffix
            with open(path, "rb") as fh:
                self._headers[key] = (path, *npy_header(fh))
        return self._headers[key]

    def _buffer(self, name: str, n: int, dtype) -> np.ndarray:
        """A reusable read buffer of ``n`` items: a fresh one per read would be mapped and zeroed
        by the kernel every time (a page fault per 4 KB)."""
        return self._ws.get(name, n, dtype)

    def _runs(self, sorted_idx: np.ndarray):
        """(segment, start, end) of the runs of ``sorted_idx`` that fall in each segment."""
        cuts = np.searchsorted(sorted_idx, self.offsets)
        for i in range(len(self.bases)):
            if cuts[i] < cuts[i + 1]:
                yield i, cuts[i], cuts[i + 1]

    def band(self, b: int, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Band ``b`` hashes of the items ``idx`` (sorted global ids)."""
        out = np.empty(len(idx), dtype=np.uint64) if out is None else out
        for i, lo, hi in self._runs(idx):
            path, off, shape = self._npy(i, ".bands.npy")
            row = self._row.get(shape[1])
            if row is None:
                row = self._row[shape[1]] = np.empty(shape[1], np.uint64)
            with open(path, "rb") as fh:
                fh.seek(off + b * shape[1] * 8)
                if fh.readinto(memoryview(row).cast("B")) != shape[1] * 8:
                    raise OSError(f"{path}: band {b} is incomplete")
            local = np.subtract(idx[lo:hi], self.offsets[i])
            np.take(row, local, out=out[lo:hi])
        return out

    def sigs(self, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Signatures of the items ``idx`` (sorted global ids; repeats allowed), into ``out`` if
        given. Per segment, where the wanted rows are dense in their span (one in eight or more)
        that span is read in one sequential read; otherwise the rows are gathered from a memory
        map (a page fault per 64 KB touched, cheaper than reading a sparse span)."""
        if not len(idx):
            return np.zeros((0, self.sig_width()), np.uint32)
        w = self.sig_width()
        out = np.empty((len(idx), w), np.uint32) if out is None else out
        for i, lo, hi in self._runs(idx):
            path, off, shape = self._npy(i, ".sig.npy")
            rows = idx[lo:hi] - self.offsets[i]
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            if (hi - lo) * 8 >= r1 - r0:
                span = self._buffer("sig", (r1 - r0) * w, np.uint32)
                with open(path, "rb") as fh:
                    fh.seek(off + r0 * w * 4)
                    if fh.readinto(memoryview(span).cast("B")) != span.nbytes:
                        raise OSError(f"{path}: signatures are incomplete")
                np.take(span.reshape(-1, w), rows - r0, axis=0, out=out[lo:hi])
            else:
                mm = np.memmap(path, dtype=np.uint32, mode="r", offset=off, shape=tuple(shape))
                np.take(mm, rows, axis=0, out=out[lo:hi])
                del mm
        return out

    def sig_width(self) -> int:
        return int(self._npy(0, ".sig.npy")[2][1]) if self.bases else 0

    def jaccard(self, a: np.ndarray, b: np.ndarray, max_bytes: int = 64 << 20, sub: int = 1 << 14) -> np.ndarray:
        """Estimated Jaccard of the pairs (a[i], b[i]), in chunks of pairs whose signatures take
        ``max_bytes`` on each side. The pairs go sorted by ``a``, so that a chunk's ``a`` side is a
        few dense spans (sequential reads); its ``b`` side is gathered in sorted order, so no
        signature is read twice per chunk."""
        out = np.empty(len(a), dtype=np.float64)
        if not len(a):
            return out
        order = None
        if np.any(a[1:] < a[:-1]):
            order = np.argsort(a, kind="stable")
            a, b = a[order], b[order]
        w = self.sig_width()
        chunk = max(1, max_bytes // (4 * w) // sub) * sub            # a multiple of ``sub``
        ws = Workspace()
        for i in range(0, len(a), chunk):
            ca, cb = a[i:i + chunk], b[i:i + chunk]
            k = len(ca)
            first = np.r_[True, ca[1:] != ca[:-1]]
            ia = np.cumsum(first) - 1                       # row of each pair's a in sa
            ua = ca[first]
            sa = self.sigs(ua, ws.get("sa", len(ua) * w, np.uint32).reshape(-1, w))
            ob = np.argsort(cb, kind="stable")
            sb = self.sigs(cb[ob], ws.get("sb", k * w, np.uint32).reshape(-1, w))
            ib = np.empty(k, np.int64)
            ib[ob] = np.arange(k)                           # row of each pair's b in sb
            agreement(sa, ia, sb, ib, out[i:i + k], sub)
        if order is not None:
            res = np.empty_like(out)
            res[order] = out
            out = res
        return out

    def jaccard_of(self, ids: np.ndarray, parallel_map=None, tmp: str = ""):
        """``sim(a, b)``: estimated Jaccard of pairs of items among ``ids`` (sorted, unique). When
        their signatures fit in ``SIG_BUFFER`` bytes they are read once for all the calls (the
        pairs, then the members and their keepers); otherwise each call reads what it needs
        (``jaccard``), on the workers when given ``parallel_map`` and a folder ``tmp`` they see
        and more than ``PAIRS_PER_TASK`` pairs."""
        if not len(self.bases) or len(ids) * 4 * self.sig_width() > SIG_BUFFER:
            if parallel_map is None or not tmp:
                return self.jaccard
            return lambda a, b: self._jaccard_on_workers(a, b, parallel_map, tmp)
        s = self.sigs(ids)

        def sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            out = np.empty(len(a), dtype=np.float64)
            agreement(s, np.searchsorted(ids, a), s, np.searchsorted(ids, b), out)
            return out
        return sim

    def _jaccard_on_workers(self, a: np.ndarray, b: np.ndarray, parallel_map, tmp: str) -> np.ndarray:
        """``jaccard``, a task per ``PAIRS_PER_TASK`` pairs (sorted by ``a``, so that each task's
        ``a`` side is a few dense spans). The values do not depend on how the pairs are cut."""
        if len(a) <= PAIRS_PER_TASK:
            return self.jaccard(a, b)
        order = np.argsort(a, kind="stable")
        cuts = list(range(0, len(a), PAIRS_PER_TASK)) + [len(a)]
        parts = self.on_workers(parallel_map, tmp, "pairs.npy",
                                lambda path: np.save(path, np.stack([a[order], b[order]], axis=1)),
                                jaccard_task, list(zip(cuts[:-1], cuts[1:])))
        out = np.empty(len(a), dtype=np.float64)
        out[order] = np.concatenate(parts)
        return out

    def on_workers(self, parallel_map, tmp: str, name: str, save, task, args: list[tuple]) -> list:
        """``task(bases, sizes, path, *a, driver)`` for each ``a`` of ``args``, by ``parallel_map``,
        with the file ``save(path)`` writes in ``tmp`` (named as the ranges barrier names its files,
        removed afterwards). Returns the tasks' results; their CPU seconds go to ``worker_cpu``."""
        os.makedirs(tmp, exist_ok=True)
        path = os.path.join(tmp, f"{atomic.TMP_MARK}{os.getpid()}-{name}")
        save(path)
        sizes, me = self.sizes.tolist(), process_token()
        try:
            parts = parallel_map(task, [(self.bases, sizes, path, *x, me) for x in args])
        finally:
            os.remove(path)
        self.worker_cpu += sum(cpu for _, cpu in parts)
        return [r for r, _ in parts]

    def doc_ids_array(self, idx: np.ndarray) -> pa.Array:
        """Document ids of the items ``idx`` (sorted, unique), in that order."""
        parts = [pa.array([], pa.string())]
        for i, lo, hi in self._runs(idx):
            col = atomic.read_table(self.bases[i] + ".keys.parquet", columns=["doc_id"]).column("doc_id")
            parts.append(col.take(pa.array(idx[lo:hi] - self.offsets[i])).combine_chunks().cast(pa.string()))
        return pa.concat_arrays(parts)


def agreement(sa: np.ndarray, ia: np.ndarray, sb: np.ndarray, ib: np.ndarray, out: np.ndarray,
               sub: int = 1 << 14) -> None:
    """``out[j]``: the share of equal values in signatures ``sa[ia[j]]`` and ``sb[ib[j]]`` (the
    estimated Jaccard): by the compiled kernel (numpy gathers both rows into temporaries), or by
    numpy in sub-chunks whose temporaries malloc reuses (larger ones are mapped afresh every time)."""
    w = sa.shape[1]
    if sb.shape[1] != w or not len(ia) == len(ib) == len(out):
        raise ValueError("signature pairs: both sides need the same width, and one index pair per output")
    if (_native is not None and len(ia) and sa.dtype == sb.dtype == np.uint32 and out.dtype == np.float64
            and out.flags.c_contiguous):
        _native.agreement(np.ascontiguousarray(sa), np.ascontiguousarray(ia, np.int64), np.ascontiguousarray(sb),
                          np.ascontiguousarray(ib, np.int64), w, out)
        return
    _agreement_numpy(sa, ia, sb, ib, out, sub)


def _agreement_numpy(sa: np.ndarray, ia: np.ndarray, sb: np.ndarray, ib: np.ndarray, out: np.ndarray,
                     sub: int = 1 << 14) -> None:
    w = sa.shape[1]
    for s in range(0, len(ia), sub):
        e = min(s + sub, len(ia))
        out[s:e] = np.count_nonzero(sa[ia[s:e]] == sb[ib[s:e]], axis=1) / w


class Workspace:
    """Reusable arrays for the per-band passes: fresh multi-megabyte arrays are mapped and zeroed
    by the kernel on every allocation, which made the barrier superlinear in its input."""

    def __init__(self):
        self._bufs: dict = {}

    def get(self, name: str, n: int, dtype) -> np.ndarray:
        buf = self._bufs.get(name)
        if buf is None or len(buf) < n or buf.dtype != dtype:
            buf = self._bufs[name] = np.empty(n, dtype)
        return buf[:n]

    def arange(self, n: int) -> np.ndarray:
        buf = self._bufs.get("arange")
        if buf is None or len(buf) < n:
            buf = self._bufs["arange"] = np.arange(n, dtype=np.uint64)
        return buf[:n]


def process_token() -> str:
    """This process, across the machines of a cluster: host and pid."""
    return f"{platform.node()}:{os.getpid()}"


def task_cpu(t0: float, driver: str) -> float:
    """CPU seconds of a task since ``t0``, or 0 when it ran in the driver (``process_token()``
    ``driver``) itself: an executor with one worker runs tasks inline, and the driver counts its
    own CPU."""
    return 0.0 if process_token() == driver else time.process_time() - t0


def jaccard_task(bases: list[str], sizes: list[int], pairs_path: str, lo: int, hi: int, driver: str):
    """Estimated Jaccard of the pairs ``lo:hi`` of the (m x 2) file ``pairs_path``, in a worker
    process (``SegmentReader.jaccard_of``). Returns (values, CPU seconds)."""
    t0 = time.process_time()
    c = SegmentReader(bases, np.array(sizes, np.int64))
    pairs = np.load(pairs_path, mmap_mode="r")[lo:hi]
    vals = c.jaccard(np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]))
    del pairs
    return vals, task_cpu(t0, driver)
