"""Greedy distance-1 coloring; on the column intersection graph it is the partial
distance-2 coloring of Gebremedhin, Manne, Pothen (2005), Alg. 3.2 (GreedyPartialD2Coloring)."""

from __future__ import annotations

import numpy as np

from asdex_pipe.kernels import kernel


@kernel(cache=True)
def greedy_distance1(indptr, indices, order):  # pragma: no cover - numba
    """Color vertices in ``order`` with the smallest color no colored neighbour has.

    Args:
        indptr, indices: CSR graph (n vertices).
        order: (n,) visiting order.

    Returns:
        (n,) int32 colors starting at 0.
    """
    n = indptr.shape[0] - 1
    color = np.full(n, -1, dtype=np.int32)
    forbidden = np.full(n + 1, -1, dtype=np.int64)
    for v in order:
        for p in range(indptr[v], indptr[v + 1]):
            c = color[indices[p]]
            if c >= 0:
                forbidden[c] = v
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return color
