"""Bidirectional coloring of Jacobian patterns: JVPs for some columns, VJPs for some rows.

One-sided colorings fail on a dense row (every column needs its own JVP color) together
with a dense column (every row its own VJP color): ``[x**2 + x[0]·a; sum(x)]`` needs n
products either way. Reading the dense row by one VJP, and the other rows by JVPs where
the dense column has a color of its own, needs three.

Method: the direct bidirectional determination of Coleman & Verma (1998, "The efficient
computation of sparse Jacobian matrices using automatic differentiation", SIAM J. Sci.
Comput. 19(4)), in the language of Gebremedhin, Manne & Pothen (2005, "What color is your
Jacobian? Graph coloring for computing derivatives", SIAM Review 47(4), Sec. 3): a set R
of rows is read by VJPs, every other row by JVPs. Then

* the rows of R are colored so that no column holds two of one color: a VJP of row color
  ``l`` gives every A[r, c] with r in R and ρ(r) = l directly;
* the columns with a nonzero outside R are colored so that no row outside R holds two of
  one color (rows in R do not matter: they are read by VJPs): a JVP of column color ``k``
  gives every A[r, c] with r outside R and κ(c) = k directly;
* the other columns (nonzeros only in R) and the rows outside R take no product
  (color -1, "neutral" in the star bicoloring of Gebremedhin et al.).

Every nonzero is then recovered directly from the products of its row or its column, which
is what the independent checker
(:func:`~asdex_pipe.coloring.check.check_coloring_bidirectional`) verifies; the combined
coloring is a star bicoloring of the bipartite graph.

Choosing R (our heuristic, after Coleman & Verma's idea of moving dense rows to the
reverse side): rows enter R by decreasing degree. After the t densest rows, any such
coloring needs at least M(t) + D(t) products, M(t) the largest number of R-rows one column
holds (they need distinct row colors) and D(t) the degree of the densest row left (its
columns need distinct column colors). Both are tracked for every t in one pass over the
pattern, and R is the shortest prefix minimising the bound. The transposed scheme (dense
columns read by JVPs, the rest by VJPs) is the same on the transposed pattern. With t = 0
a scheme is the one-sided coloring; the caller compares the candidates.

Cost: the peeling pass is O(nnz + m + n); the two colorings are those of
:mod:`asdex_pipe.coloring.columns` on the two parts, whose rows are at most as dense as
the bound allows. Memory stays proportional to the pattern.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.coloring.columns import color_columns, num_colors
from asdex_pipe.kernels import kernel
from asdex_pipe.pattern import SparsityPattern


@kernel(cache=True)
def _peeling_bounds(row_ptr, row_cols, order, n):  # pragma: no cover - numba
    """Lower bounds M(t) + D(t) for t = 0..m (see the module docstring)."""
    m = order.shape[0]
    count = np.zeros(n, dtype=np.int64)
    bound = np.empty(m + 1, dtype=np.int64)
    most = 0  # M(t): the most R-rows one column holds
    for t in range(m + 1):
        rest = 0
        if t < m:
            r = order[t]
            rest = row_ptr[r + 1] - row_ptr[r]
        bound[t] = most + rest
        if t < m:
            for q in range(row_ptr[r], row_ptr[r + 1]):
                c = row_cols[q]
                count[c] += 1
                if count[c] > most:
                    most = count[c]
    return bound


def peel_rows(pattern: SparsityPattern) -> tuple[np.ndarray, int]:
    """The rows to read by VJPs, and the lower bound on products that choice gives.

    Args:
        pattern: (m, n) Jacobian pattern.

    Returns:
        (m,) bool mask of the rows of R (the shortest prefix of rows by decreasing degree
        that minimises the bound; none when no dense row pays off), and the bound.
    """
    m, n = pattern.shape
    degree = np.diff(pattern.indptr)
    order = np.argsort(-degree, kind="stable").astype(np.int64)
    bound = _peeling_bounds(pattern.indptr, pattern.cols.astype(np.int64), order, n)
    t = int(np.argmin(bound))
    mask = np.zeros(m, dtype=bool)
    mask[order[:t]] = True
    return mask, int(bound[t])


def _restrict_rows(pattern: SparsityPattern, keep: np.ndarray) -> SparsityPattern:
    """The nonzeros of the rows ``keep`` (bool (m,)), same shape."""
    sel = keep[pattern.rows]
    return SparsityPattern(pattern.rows[sel], pattern.cols[sel], pattern.shape, _trusted=True)


def combine(col_colors: np.ndarray, row_colors: np.ndarray) -> np.ndarray:
    """One (n + m,) color array: column colors 0..k_f-1, then row colors shifted to
    k_f..k_f+k_r-1, -1 on both sides for vertices in no product (the layout of a
    ``ColoredPattern`` of mode ``"JVP+VJP"``)."""
    k_f = num_colors(col_colors)
    rows = np.where(row_colors >= 0, row_colors + k_f, -1)
    return np.concatenate([col_colors, rows]).astype(np.int32)


def bicolor_rows(
    pattern: SparsityPattern, vjp_rows: np.ndarray, order: str, seed: int
) -> tuple[np.ndarray, str]:
    """Bidirectional coloring reading the rows ``vjp_rows`` by VJPs, the others by JVPs.

    Args:
        pattern: (m, n) Jacobian pattern.
        vjp_rows: (m,) bool, the set R.
        order: vertex order of both colorings (see ``ORDERS``).
        seed: seed of the ``"random"`` order.

    Returns:
        (n + m,) int32 combined colors (see :func:`combine`) and the order used.
    """
    by_rows = _restrict_rows(pattern, vjp_rows)
    by_cols = _restrict_rows(pattern, ~vjp_rows)
    col_colors, used = color_columns(by_cols, order, seed)
    row_colors, _ = color_columns(by_rows.transpose(), order, seed)
    return combine(col_colors, row_colors), used


def bicolor_cols(
    pattern: SparsityPattern,
    jvp_cols: np.ndarray,
    order: str,
    seed: int,
    transposed: SparsityPattern | None = None,
) -> tuple[np.ndarray, str]:
    """The transposed scheme: the columns ``jvp_cols`` ((n,) bool) by JVPs, every other
    column's nonzeros by VJPs (``transposed``: ``pattern.T`` when at hand). Returns as
    :func:`bicolor_rows`."""
    m = pattern.shape[0]
    t = pattern.transpose() if transposed is None else transposed
    swapped, used = bicolor_rows(t, jvp_cols, order, seed)
    # On the transpose, "columns" are our rows and "rows" our columns.
    t_cols, t_rows = swapped[:m], swapped[m:]
    k_t = num_colors(t_cols)
    col_colors = np.where(t_rows >= 0, t_rows - k_t, -1)
    return combine(col_colors, t_cols), used


def products(colors: np.ndarray) -> int:
    """AD products of a combined coloring (its number of colors)."""
    return num_colors(colors)
