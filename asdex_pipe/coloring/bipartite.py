"""Column colorings of general patterns in memory proportional to the pattern.

The column intersection graph (:func:`asdex_pipe.coloring.graph.intersection_graph`) has
an edge for every pair of columns sharing a row: a row with d nonzeros contributes d²
entries, so one dense row makes it complete (10^10 entries at n = 10^5). This module
decides when that graph is affordable and colors without it when it is not:

* :func:`gram_cost` bounds the graph's size by the sum of squared row degrees;
* :func:`greedy_partial_d2` is the partial distance-2 coloring of the bipartite graph
  (Gebremedhin, Manne, Pothen 2005, Alg. 3.2) run on the pattern itself: each column
  forbids the colors of the columns sharing one of its rows, found through the rows.
  Same colors as greedy distance-1 coloring of the intersection graph in the same order;
  O(m + n) extra memory, O(sum of squared row degrees) time;
* when some row holds every non-empty column, each column needs a color of its own, and
  that coloring is written down without any search.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.kernels import kernel
from asdex_pipe.pattern import SparsityPattern

#: The intersection graph is built when the sum of squared row degrees (a bound on its
#: entries) is at most this many times the pattern's nnz, or below ``GRAM_MIN``.
GRAM_FACTOR = 64
GRAM_MIN = 2**24


def row_degrees(pattern: SparsityPattern) -> np.ndarray:
    """(m,) int64 number of nonzeros of each row."""
    return np.diff(pattern.indptr)


def gram_cost(pattern: SparsityPattern) -> int:
    """Sum of squared row degrees: the work of the column intersection graph and a bound
    on its number of entries (exact Python int, no overflow)."""
    d = row_degrees(pattern)
    return int(np.dot(d.astype(np.float64), d.astype(np.float64)))


def gram_affordable(pattern: SparsityPattern) -> bool:
    """Whether the column intersection graph fits the memory budget (see ``GRAM_FACTOR``)."""
    return gram_cost(pattern) <= max(GRAM_FACTOR * pattern.nnz, GRAM_MIN)


def one_color_each(pattern: SparsityPattern) -> np.ndarray | None:
    """The coloring giving every non-empty column its own color (in index order), when a
    row holds every non-empty column (then no coloring does better); else None."""
    n = pattern.shape[1]
    if pattern.nnz == 0:
        return None
    used = np.bincount(pattern.cols, minlength=n) > 0
    if int(row_degrees(pattern).max()) < int(used.sum()):
        return None
    colors = np.full(n, -1, dtype=np.int32)
    colors[used] = np.arange(int(used.sum()), dtype=np.int32)
    return colors


def column_order(pattern: SparsityPattern, order: str, seed: int) -> tuple[np.ndarray, str]:
    """A visiting order of the columns that needs no intersection graph, and its name.

    ``largest_first`` ranks columns by the sum of their rows' degrees (an upper bound on
    their intersection-graph degree); ``natural`` and ``random`` are as usual. The dynamic
    orders need the graph, so they fall back to this ``largest_first``.
    """
    n = pattern.shape[1]
    if order == "natural":
        return np.arange(n, dtype=np.int64), order
    if order == "random":
        return np.random.default_rng(seed).permutation(n).astype(np.int64), order
    weight = np.bincount(
        pattern.cols, weights=row_degrees(pattern)[pattern.rows].astype(np.float64), minlength=n
    )
    return np.argsort(-weight, kind="stable").astype(np.int64), "largest_first"


def color_columns_frugal(pattern: SparsityPattern, order: str, seed: int) -> tuple[np.ndarray, str]:
    """Column coloring without the intersection graph: (n,) colors (0.. for every column,
    empty ones included) and the order used."""
    trivial = one_color_each(pattern)
    if trivial is not None:
        return np.where(trivial < 0, 0, trivial).astype(np.int32), "natural"
    t = pattern.transpose()
    visit, used = column_order(pattern, order, seed)
    colors = greedy_partial_d2(
        pattern.indptr, pattern.cols.astype(np.int64), t.indptr, t.cols.astype(np.int64), visit
    )
    return colors, used


@kernel(cache=True)
def greedy_partial_d2(row_ptr, row_cols, col_ptr, col_rows, order):  # pragma: no cover - numba
    """Partial distance-2 coloring of the columns, visiting them in ``order``.

    Args:
        row_ptr, row_cols: CSR of the pattern (the columns of each row).
        col_ptr, col_rows: CSR of its transpose (the rows of each column).
        order: (n,) visiting order.

    Returns:
        (n,) int32 colors starting at 0.
    """
    n = col_ptr.shape[0] - 1
    color = np.full(n, -1, dtype=np.int32)
    forbidden = np.full(n + 1, -1, dtype=np.int64)
    for v in order:
        for p in range(col_ptr[v], col_ptr[v + 1]):
            r = col_rows[p]
            for q in range(row_ptr[r], row_ptr[r + 1]):
                c = color[row_cols[q]]
                if c >= 0:
                    forbidden[c] = v
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return color
