"""Direct decompression plans: which compressed entry holds each nonzero on its own.

The compressed matrix ``B`` has one row per color: ``B[c] = A @ s_c`` for column colorings
(modes ``HVP``, ``JVP``; ``s_c`` is the 0/1 indicator of color ``c``) and
``B[c] = s_c @ A`` for row colorings (``VJP``). A nonzero can be read directly from ``B``
when, among the entries summed into one compressed entry, it is the only structural
nonzero:

* column coloring (Coleman & Moré 1983): ``A_ij = B[c(j), i]`` when ``j`` is the only
  column of color ``c(j)`` with a nonzero in row ``i`` — true for every entry of a valid
  (structurally orthogonal) column coloring;
* row coloring: ``A_ij = B[c(i), j]``, the transposed statement;
* symmetric (star) coloring (Gebremedhin, Manne & Pothen 2005, Sec. 4.1): for a symmetric
  ``H`` either ``H_ij = B[c(j), i]`` or, by symmetry, ``H_ij = H_ji = B[c(i), j]``;
  a star coloring guarantees one of the two for every entry;
* bidirectional coloring (``JVP+VJP``, a star bicoloring): ``A_ij`` from the JVP of
  column color ``κ(j)`` when ``j`` is the only column of that color in row ``i``, else
  from the VJP of row color ``ρ(i)`` (``i`` alone of its color in column ``j``).

A coloring in which every vertex has its own color (the dense route of the builders) is
read as a column (or row) coloring without any grouping: nothing can collide.

All of this is planned once on the host with vectorised numpy; evaluation is one gather.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asdex_pipe.pattern import BIDIRECTIONAL, ColoredPattern, SparsityPattern
from asdex_pipe.sorting import group_counts


class DecompressionError(ValueError):
    """The coloring cannot recover the pattern (wrong kind of coloring for the method)."""


@dataclass(frozen=True)
class DirectPlan:
    """Entry ``e`` of the pattern (row-major order) is ``B[color[e], vertex[e]]``.

    Attributes:
        color: (nnz,) int64, the compressed row (color) holding the entry.
        vertex: (nnz,) int64, the position inside that compressed row (a row index of
            ``A`` for column colorings, a column index for row colorings).
    """

    color: np.ndarray
    vertex: np.ndarray


def _first_bad(rows: np.ndarray, cols: np.ndarray, bad: np.ndarray) -> tuple[int, int]:
    e = int(np.argmax(bad))
    return int(rows[e]), int(cols[e])


def column_plan(sparsity: SparsityPattern, colors: np.ndarray) -> DirectPlan:
    """Plan for a column coloring (``JVP``): ``A_ij = B[c(j), i]``.

    Raises:
        DecompressionError: if two columns of one color share a row (not structurally
            orthogonal), naming one offending entry.
    """
    r = sparsity.rows.astype(np.int64)
    c = sparsity.cols.astype(np.int64)
    k = int(colors.max()) + 1 if colors.size else 0
    cc = colors[c].astype(np.int64)
    bad = group_counts(r * max(k, 1) + cc) != 1
    if bad.any():
        i, j = _first_bad(r, c, bad)
        raise DecompressionError(
            f"not a valid column coloring: column {j} shares color {colors[j]} with another "
            f"column that has a nonzero in row {i}"
        )
    return DirectPlan(color=cc, vertex=r)


def row_plan(sparsity: SparsityPattern, colors: np.ndarray) -> DirectPlan:
    """Plan for a row coloring (``VJP``): ``A_ij = B[c(i), j]``.

    Raises:
        DecompressionError: if two rows of one color share a column.
    """
    r = sparsity.rows.astype(np.int64)
    c = sparsity.cols.astype(np.int64)
    k = int(colors.max()) + 1 if colors.size else 0
    rc = colors[r].astype(np.int64)
    bad = group_counts(c * max(k, 1) + rc) != 1
    if bad.any():
        i, j = _first_bad(r, c, bad)
        raise DecompressionError(
            f"not a valid row coloring: row {i} shares color {colors[i]} with another row "
            f"that has a nonzero in column {j}"
        )
    return DirectPlan(color=rc, vertex=c)


def symmetric_edges(sparsity: SparsityPattern) -> tuple[np.ndarray, np.ndarray]:
    """Row-major coordinates of the symmetrized pattern (pattern ∪ transpose), as int64."""
    s = sparsity if sparsity.is_symmetric() else sparsity.symmetrize()
    return s.rows.astype(np.int64), s.cols.astype(np.int64)


def star_plan(sparsity: SparsityPattern, colors: np.ndarray) -> DirectPlan:
    """Plan for a symmetric coloring read directly (star coloring).

    Compression sums over the symmetrized pattern ``S`` (a Hessian is symmetric even if the
    given pattern lists only one triangle), so uniqueness is counted there.

    Raises:
        DecompressionError: when some entry is recoverable neither from its row nor from its
            column, i.e. the coloring is not a star coloring (an acyclic one needs
            substitution).
    """
    n = sparsity.shape[0]
    sr, sc = symmetric_edges(sparsity)
    k = int(colors.max()) + 1 if colors.size else 0
    # unique_in_row[e]: entry e=(i, j) of S is the only one of color c(j) in row i. Neutral
    # columns (color -1) are in no product: they are counted apart and never readable.
    cs = colors[sc]
    unique_in_row = (group_counts(sr * (k + 1) + cs + 1) == 1) & (cs >= 0)
    # For symmetric S, the (col, row)-sorted order swapped is the row-major order, so the
    # transposed partner of entry T[q] is entry q.
    t = np.lexsort((sr, sc))
    partner = np.empty_like(t)
    partner[t] = np.arange(t.size)
    # Entries of the user's pattern, located inside S.
    r = sparsity.rows.astype(np.int64)
    c = sparsity.cols.astype(np.int64)
    pos = np.searchsorted(sr * n + sc, r * n + c)
    use_row = unique_in_row[pos]
    use_col = unique_in_row[partner[pos]]
    bad = ~(use_row | use_col)
    if bad.any():
        i, j = _first_bad(r, c, bad)
        raise DecompressionError(
            f"entry ({i}, {j}) cannot be read directly from the compressed Hessian: the "
            f"coloring is not a star coloring (use substitution for an acyclic coloring)"
        )
    color = np.where(use_row, colors[c], colors[r]).astype(np.int64)
    vertex = np.where(use_row, r, c)
    return DirectPlan(color=color, vertex=vertex)


def bidirectional_plan(sparsity: SparsityPattern, colors: np.ndarray) -> DirectPlan:
    """Plan for a bidirectional coloring: ``color[e]`` below the number of column colors
    k_f means ``A_ij = B_jvp[color, i]``, otherwise ``A_ij = B_vjp[color - k_f, j]``.

    Args:
        sparsity: (m, n) pattern.
        colors: (n + m,) column colors then row colors (-1: in no product).

    Raises:
        DecompressionError: when some entry is recoverable from neither side.
    """
    n = sparsity.shape[1]
    kappa, rho = colors[:n], colors[n:]
    r = sparsity.rows.astype(np.int64)
    c = sparsity.cols.astype(np.int64)
    k = int(colors.max()) + 2 if colors.size else 1  # shifted by one: -1 is its own group
    by_col = (kappa[c] >= 0) & (group_counts(r * k + kappa[c] + 1) == 1)
    by_row = (rho[r] >= 0) & (group_counts(c * k + rho[r] + 1) == 1)
    bad = ~(by_col | by_row)
    if bad.any():
        i, j = _first_bad(r, c, bad)
        raise DecompressionError(
            f"entry ({i}, {j}) is recovered neither by the JVP of its column's color nor by "
            "the VJP of its row's color: not a valid bidirectional coloring"
        )
    return DirectPlan(
        color=np.where(by_col, kappa[c], rho[r]).astype(np.int64), vertex=np.where(by_col, r, c)
    )


def _one_color_each(colors: np.ndarray) -> bool:
    """True when no two vertices share a color (-1 aside): every product holds one vertex."""
    used = colors[colors >= 0]
    return used.size == 0 or int(np.bincount(used).max()) == 1


def direct_plan(coloring: ColoredPattern) -> DirectPlan:
    """The direct plan matching the coloring's mode (``HVP`` → star, ``JVP``, ``VJP``,
    ``JVP+VJP`` → bidirectional)."""
    colors = np.asarray(coloring.colors, dtype=np.int64)
    s = coloring.sparsity
    if coloring.mode in ("HVP", "JVP") and _one_color_each(colors):
        # Dense route: one product per column; B[c(j), i] is H_ij (A_ij) alone. (A star
        # coloring may leave a vertex neutral, -1: then its entries are read from rows.)
        color = colors[s.cols.astype(np.int64)]
        if color.size == 0 or int(color.min()) >= 0:
            return DirectPlan(color=color, vertex=s.rows.astype(np.int64))
    if coloring.mode == "VJP" and _one_color_each(colors):
        return DirectPlan(color=colors[s.rows.astype(np.int64)], vertex=s.cols.astype(np.int64))
    if coloring.mode == BIDIRECTIONAL:
        return bidirectional_plan(s, colors)
    if coloring.mode == "HVP":
        return star_plan(coloring.sparsity, colors)
    if coloring.mode == "JVP":
        return column_plan(coloring.sparsity, colors)
    return row_plan(coloring.sparsity, colors)
