"""Graph steps of the barrier on plain arrays: runs of equal hashes (``runs_of_equal``: exact
copies, LSH band collisions), connected components of candidate pairs, and the near-duplicate
drops of a set of candidate pairs (``near_drops``)."""
from __future__ import annotations

import numpy as np

from .store import SegmentReader, Workspace

# Pairs of items are packed as one int64 (first x items + second): at most this many items.
MAX_ITEMS = 3_000_000_000

def runs_of_equal(values: np.ndarray, ws: Workspace | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For uint64 ``values`` (any order): (head position, member position) of every value that
    repeats an earlier-ranked one, where a position is the value's index (its rank) and the head
    is the best-ranked position of that value. The few positions that may repeat
    (``repeat_candidates``) are sorted by their full value, so that unrelated values which share
    their high bits do not take the place of a real head."""
    pos = repeat_candidates(values, ws)
    v = values[pos]
    order = np.lexsort((pos, v))
    v, pos = v[order], pos[order]
    return run_pairs(np.r_[True, v[1:] != v[:-1]] if len(v) else np.zeros(0, bool), pos)


def repeat_candidates(values: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
    """Positions of the uint64 ``values`` that share their high bits with another value: every
    repeated value is among them, with a few unrelated ones. Values are packed with their
    position into one uint64 and sorted by value alone (a fast SIMD sort, where sorting indices
    is several times slower); the low bits of the value are sacrificed."""
    ws = ws or Workspace()
    n = len(values)
    bits = np.uint64(max(1, int(n - 1).bit_length()))
    mask = np.uint64((1 << int(bits)) - 1)
    packed = ws.get("packed", n, np.uint64)
    np.right_shift(values, bits, out=packed)
    np.left_shift(packed, bits, out=packed)
    np.bitwise_or(packed, ws.arange(n), out=packed)
    packed.sort()
    hi = np.right_shift(packed, bits, out=ws.get("hi", n, np.uint64))
    same = np.flatnonzero(np.equal(hi[1:], hi[:-1], out=ws.get("eq", max(0, n - 1), bool))) + 1
    return (packed[unique(np.concatenate([same - 1, same]))] & mask).astype(np.int64)


def run_pairs(first: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``ids`` in runs whose starts ``first`` marks: (the run's first id, other id) for every
    id that does not start its run."""
    other = np.flatnonzero(~first)
    head = np.flatnonzero(first)[np.cumsum(first) - 1]
    return ids[head[other]], ids[other]


def unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-d array. numpy 2's ``np.unique`` goes through a hash table
    when no indices are asked for, which is far slower than sorting on millions of values."""
    s = np.sort(x)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def components(edges: np.ndarray, n: int) -> np.ndarray:
    """Connected components of the undirected graph on nodes 0..n-1 with ``edges`` (m x 2): the
    smallest node of each node's component. Each round hooks the larger root of every edge that
    joins two trees under the smaller one, then points every node at its root; a root that is
    not the smallest of its neighbours is hooked, so the number of trees at least halves each
    round (logarithmic rounds, even for a long chain)."""
    label = np.arange(n, dtype=np.int64)
    u, v = edges[:, 0], edges[:, 1]
    while True:
        ru, rv = label[u], label[v]
        cross = ru != rv
        if not cross.any():
            return label
        ru, rv = ru[cross], rv[cross]
        np.minimum.at(label, np.maximum(ru, rv), np.minimum(ru, rv))
        while True:                      # parents are smaller than their children: no cycles
            up = label[label]
            if np.array_equal(up, label):
                break
            label = up
        u, v = u[cross], v[cross]


def near_drops(c: SegmentReader, e: np.ndarray, order_keys, threshold: float, parallel_map=None, tmp: str = ""):
    """From candidate pairs ``e`` (m x 2 global ids, repeats allowed): the pairs whose estimated
    Jaccard reaches ``threshold`` are joined into connected components; each component keeps its
    best-ranked item (``order_keys(nodes)``: the keys of ``np.lexsort``, most significant last),
    and a member is dropped when its own Jaccard to that keeper reaches the threshold. Returns
    (member, keeper, similarity) arrays. ``parallel_map``, ``tmp``: see ``jaccard_of``."""
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(c) > MAX_ITEMS:
        raise ValueError(f"{len(c):,} documents and paragraphs: more than the barrier's {MAX_ITEMS:,}")
    if not len(e):
        return none
    width = np.int64(len(c))
    e = unique(e[:, 0] * width + e[:, 1])                 # one int64 per pair
    e = np.stack([e // width, e % width], axis=1)
    sim = c.jaccard_of(unique(e.ravel()), parallel_map, tmp)
    e = e[sim(e[:, 0], e[:, 1]) >= threshold]
    if not len(e):
        return none
    nodes = unique(e.ravel())
    label = nodes[components(np.searchsorted(nodes, e), len(nodes))]
    order = np.lexsort(order_keys(nodes) + (label,))     # best-ranked node first in each component
    lab, nod = label[order], nodes[order]
    st = np.r_[True, lab[1:] != lab[:-1]]
    keeper = nod[np.flatnonzero(st)[np.cumsum(st) - 1]]
    m = nod != keeper
    mem, kee = nod[m], keeper[m]
    if not len(mem):
        return none
    j = sim(mem, kee)
    good = j >= threshold
    return mem[good], kee[good], j[good]
