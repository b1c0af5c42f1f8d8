"""Connected components and runs of equal hashes."""
import numpy as np

from pipeline.dedup.graph import components, runs_of_equal


def _components_by_search(edges, n):
    """Reference: smallest node of each node's component, by breadth-first search."""
    adj = [[] for _ in range(n)]
    for a, b in edges.tolist():
        adj[a].append(b)
        adj[b].append(a)
    label = [-1] * n
    for start in range(n):
        if label[start] < 0:
            seen, todo = [start], [start]
            label[start] = start
            while todo:
                for y in adj[todo.pop()]:
                    if label[y] < 0:
                        label[y] = start
                        seen.append(y)
                        todo.append(y)
    return np.array(label)

def test_components_match_a_graph_search():
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 300))
        if trial % 3 == 0:                       # one long chain in random order: the worst case
            p = rng.permutation(n)
            edges = np.stack([p[:-1], p[1:]], axis=1)
        else:
            edges = rng.integers(0, n, (int(rng.integers(0, 2 * n)), 2))
        assert components(edges.astype(np.int64), n).tolist() == _components_by_search(edges, n).tolist()

def test_runs_of_equal_values_are_exact_whatever_their_low_bits():
    """Repeated values are paired with their best-ranked occurrence, also when unrelated values
    share their high bits (the fast sort keys on those) and rank before them: a value that
    differs only in its low bits must not take the real head's place, nor hide the pair."""
    rng = np.random.default_rng(2)
    for n, top in ((1000, 64), (1000, 1 << 20), (5, 8), (2, 2)):
        values = rng.integers(0, top, n).astype(np.uint64) | np.uint64(0xABC0000000000000)
        head, mem = runs_of_equal(values)
        want = {}
        first = {}
        for i, v in enumerate(values.tolist()):
            if v in first:
                want[i] = first[v]
            else:
                first[v] = i
        assert dict(zip(mem.tolist(), head.tolist())) == want
        assert len(mem) == len(want)
    # the case of the bug: rank 0 is unrelated but shares the high bits; 1 and 2 are equal
    head, mem = runs_of_equal(np.array([0x1001, 0x1002, 0x1002], np.uint64))
    assert (head.tolist(), mem.tolist()) == ([1], [2])
