"""Greedy acyclic coloring (Gebremedhin, Tarafdar, Manne, Pothen 2007, Alg. 3.1 in spirit):
a distance-1 coloring in which every two-colored subgraph is a forest, so the Hessian is
recovered by substitution along the two-colored trees.

The two-colored trees are kept as disjoint sets of edges (union-find with path halving).
Coloring v with c closes a two-colored cycle exactly when two neighbours w1, w2 of v share a
color c' and are already joined in the {c, c'} subgraph, i.e. some edge (w1, x1) and some edge
(w2, x2) with color(x1) == color(x2) == c lie in the same tree. Such colors are forbidden; v
takes the smallest remaining one, and its new edges are merged into their trees.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.kernels import kernel


@kernel(cache=True)
def _find(parent, e):  # pragma: no cover - numba
    while parent[e] != e:
        parent[e] = parent[parent[e]]
        e = parent[e]
    return e


@kernel(cache=True)
def _union(parent, a, b):  # pragma: no cover - numba
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra != rb:
        parent[ra] = rb


@kernel(cache=True)
def greedy_acyclic(indptr, indices, rev, order):  # pragma: no cover - numba
    """Acyclically color the graph visiting vertices in ``order``.

    Args:
        indptr, indices: CSR adjacency (n vertices, no self loops).
        rev: position of the reverse of each directed edge.
        order: (n,) visiting order.

    Returns:
        (n,) int32 colors starting at 0.
    """
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    color = np.full(n, -1, dtype=np.int32)
    forbidden = np.full(n + 1, -1, dtype=np.int64)
    first_of = np.full(n + 1, -1, dtype=np.int64)
    first_edge = np.full(n + 1, -1, dtype=np.int64)
    merge_stamp = np.full(n + 1, -1, dtype=np.int64)
    repeated = np.full(n + 1, -1, dtype=np.int64)
    parent = np.arange(m)
    seen_stamp = np.full(m, -1, dtype=np.int64)
    seen_by = np.full(m, -1, dtype=np.int64)
    for v in order:
        for p in range(indptr[v], indptr[v + 1]):
            cw = color[indices[p]]
            if cw < 0:
                continue
            forbidden[cw] = v
            if first_of[cw] == v:
                repeated[cw] = v
            first_of[cw] = v
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            cw = color[w]
            if cw < 0 or repeated[cw] != v:
                continue
            for q in range(indptr[w], indptr[w + 1]):
                x = indices[q]
                cx = color[x]
                if x == v or cx < 0 or forbidden[cx] == v:
                    continue
                t = _find(parent, min(q, rev[q]))
                if seen_stamp[t] == v and seen_by[t] != w:
                    forbidden[cx] = v
                else:
                    seen_stamp[t] = v
                    seen_by[t] = w
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
        # Merge v's new edges into the {c, color(w)} trees: all of v's edges to neighbours of
        # one color join one tree, together with each such neighbour's c-colored edges.
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            cw = color[w]
            if cw < 0:
                continue
            e = min(p, rev[p])
            if merge_stamp[cw] == v:
                _union(parent, e, first_edge[cw])
            else:
                merge_stamp[cw] = v
                first_edge[cw] = e
            for q in range(indptr[w], indptr[w + 1]):
                x = indices[q]
                if x != v and color[x] == c:
                    _union(parent, e, min(q, rev[q]))
                    break
    return color
