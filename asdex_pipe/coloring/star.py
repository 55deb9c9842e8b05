"""Greedy star coloring (Gebremedhin, Manne, Pothen 2005, Sec. 4.1; the exact test of
Gebremedhin, Tarafdar, Manne, Pothen 2007, Alg. 4.1, applied to the current partial coloring).

A star coloring is a distance-1 coloring in which every path on four vertices uses at least
three colors; then every nonzero H_ij can be read directly from the compressed Hessian.
Each vertex takes the smallest color that creates no two-colored path on four vertices with
the already colored ones. Any two-colored P4 of the final coloring is caught when its last
vertex is colored, so the result is a star coloring by construction.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def greedy_star(indptr, indices, order):  # pragma: no cover - numba
    """Star-color the graph visiting vertices in ``order``.

    Args:
        indptr, indices: CSR adjacency (n vertices, no self loops).
        order: (n,) visiting order.

    Returns:
        (n,) int32 colors starting at 0.
    """
    n = indptr.shape[0] - 1
    color = np.full(n, -1, dtype=np.int32)
    forbidden = np.full(n + 1, -1, dtype=np.int64)
    first_of = np.full(n + 1, -1, dtype=np.int64)  # first neighbour of v seen with a color
    repeated = np.full(n + 1, -1, dtype=np.int64)  # == v when v has 2+ neighbours of a color
    for v in order:
        # Distance-1, and which neighbour colors repeat (v would be an inner vertex of P4s).
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            cw = color[w]
            if cw < 0:
                continue
            forbidden[cw] = v
            if first_of[cw] == v:
                repeated[cw] = v
            first_of[cw] = v
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            cw = color[w]
            if cw < 0:
                continue
            inner = repeated[cw] == v
            for q in range(indptr[w], indptr[w + 1]):
                x = indices[q]
                cx = color[x]
                if x == v or cx < 0 or forbidden[cx] == v:
                    continue
                if inner:
                    # u - v - w - x with color(u) == color(w): v must differ from x.
                    forbidden[cx] = v
                    continue
                # v - w - x - y with color(y) == color(w): v must differ from x.
                for r in range(indptr[x], indptr[x + 1]):
                    y = indices[r]
                    if y != w and color[y] == cw:
                        forbidden[cx] = v
                        break
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return color
