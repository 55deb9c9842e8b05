"""Independent coloring checkers, written from the definitions with whole-array numpy/scipy.

They share no code with the coloring algorithms, so a bug in one is caught by the other.
Each raises :class:`InvalidColoringError` naming an offending pair, or returns None.

They are cheap enough to run on every coloring the library returns (see
:mod:`asdex_pipe.coloring.api`): every step is O(nnz) array work. Grouping by (vertex,
color) uses a dense table of ``size × colors`` counters when that table is no larger
than the pattern itself (stencils, bands: a few colors), and a sort otherwise; the
transposed position of every nonzero comes from scipy's counting-sort transpose; the
forest test of acyclic colorings is a plain union-find (numba). All counts and indices
are int64 or boolean: nothing can wrap.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from asdex_pipe.kernels import kernel
from asdex_pipe.pattern import SparsityPattern
from asdex_pipe.sorting import unique_inverse


class InvalidColoringError(ValueError):
    """A coloring does not satisfy the definition it claims.

    Raised by the checkers for a coloring passed in, and by the public coloring functions
    when a coloring they computed fails its check (an internal bug: never returned).
    """


def _colors_for(
    pattern: SparsityPattern, colors, axis: int, what: str, touched: np.ndarray | None = None
) -> np.ndarray:
    """Colors as int64 after checking their length and that ``touched`` vertices (default:
    every vertex with a nonzero) have a color."""
    c = np.asarray(colors)
    size = pattern.shape[axis]
    if c.shape != (size,):
        raise InvalidColoringError(f"{what} coloring needs {size} colors, got shape {c.shape}")
    if c.size and (c.dtype == np.bool_ or not np.issubdtype(c.dtype, np.integer)):
        raise InvalidColoringError(f"{what} colors must be integers, got dtype {c.dtype}")
    if touched is None:
        touched = pattern.cols if axis == 1 else pattern.rows
    if touched.size and np.any(c[touched] < 0):
        bad = int(touched[np.argmax(c[touched] < 0)])
        raise InvalidColoringError(f"vertex {bad} has nonzeros but no color (-1)")
    return c.astype(np.int64)


def _dense_table_fits(groups: int, colors: int, entries: int) -> bool:
    """Whether a (groups × colors) table of counters costs no more than the entries do."""
    return groups * colors <= 2 * entries + groups + 1024


def _group_sizes(group: np.ndarray, color: np.ndarray, groups: int, colors: int) -> np.ndarray:
    """For each entry, how many entries share its (group, color); int64.

    Args:
        group: (N,) int64 in [0, groups).
        color: (N,) int64 in [0, colors).
    """
    key = group * colors + color
    if _dense_table_fits(groups, colors, key.size):
        return np.bincount(key, minlength=groups * colors)[key]
    _, inverse = unique_inverse(key)
    return np.bincount(inverse)[inverse]


def _first_clash(key: np.ndarray, sizes: np.ndarray) -> tuple[int, int]:
    """Positions of two entries with equal ``key``, given per-entry group ``sizes`` > 1."""
    a = int(np.argmax(sizes > 1))
    same = np.flatnonzero(key == key[a])
    return int(same[0]), int(same[1])


def _structurally_orthogonal(
    pattern: SparsityPattern, c: np.ndarray, along: np.ndarray, across: np.ndarray, size: int
) -> tuple[int, int] | None:
    """Two entries in one line ``along`` whose ``across`` vertices share a color, or None."""
    if along.size == 0:
        return None
    k = int(c.max()) + 1
    group = along.astype(np.int64)
    color = c[across]
    sizes = _group_sizes(group, color, size, k)
    if np.all(sizes == 1):
        return None
    return _first_clash(group * k + color, sizes)


def check_coloring_cols(pattern: SparsityPattern, colors) -> None:
    """Columns of one color must be structurally orthogonal (no row shares two of them).

    Args:
        pattern: (m, n) pattern.
        colors: (n,) column colors; -1 only on empty columns.
    """
    c = _colors_for(pattern, colors, 1, "column")
    clash = _structurally_orthogonal(pattern, c, pattern.rows, pattern.cols, pattern.shape[0])
    if clash is not None:
        a, b = clash
        raise InvalidColoringError(
            f"columns {int(pattern.cols[a])} and {int(pattern.cols[b])} share color "
            f"{int(c[pattern.cols[a]])} and both have a nonzero in row {int(pattern.rows[a])}"
        )


def check_coloring_rows(pattern: SparsityPattern, colors) -> None:
    """Rows of one color must be structurally orthogonal (no column shares two of them).

    Args:
        pattern: (m, n) pattern.
        colors: (m,) row colors; -1 only on empty rows.
    """
    c = _colors_for(pattern, colors, 0, "row")
    clash = _structurally_orthogonal(pattern, c, pattern.cols, pattern.rows, pattern.shape[1])
    if clash is not None:
        a, b = clash
        raise InvalidColoringError(
            f"rows {int(pattern.rows[a])} and {int(pattern.rows[b])} share color "
            f"{int(c[pattern.rows[a]])} and both have a nonzero in column {int(pattern.cols[a])}"
        )


def check_coloring_bidirectional(pattern: SparsityPattern, colors) -> None:
    """Every nonzero must be read directly from a JVP of its column's color or from a VJP
    of its row's color (a star bicoloring, Gebremedhin, Manne, Pothen 2005).

    A JVP of column color k sums the columns of color k, so A[i, j] is read from it when j
    is the only column of color κ(j) in row i; a VJP of row color l sums the rows of color
    l, so A[i, j] is read from it when i is the only row of color ρ(i) in column j.
    Columns and rows colored -1 are in no product. Column and row colors must be disjoint
    (each color is one product, either a JVP or a VJP).

    Args:
        pattern: (m, n) pattern.
        colors: (n + m,) integer colors: the n column colors, then the m row colors; -1
            for a vertex in no product.
    """
    m, n = pattern.shape
    c = np.asarray(colors)
    if c.shape != (n + m,):
        raise InvalidColoringError(
            f"a bidirectional coloring of a {m}×{n} pattern needs {n + m} colors (columns, "
            f"then rows), got shape {c.shape}"
        )
    if c.size and (c.dtype == np.bool_ or not np.issubdtype(c.dtype, np.integer)):
        raise InvalidColoringError(f"bidirectional colors must be integers, got dtype {c.dtype}")
    c = c.astype(np.int64)
    if c.size and int(c.min()) < -1:
        raise InvalidColoringError(f"colors must be >= -1, got {int(c.min())}")
    kappa, rho = c[:n], c[n:]
    shared = np.intersect1d(kappa[kappa >= 0], rho[rho >= 0])
    if shared.size:
        raise InvalidColoringError(
            f"color {int(shared[0])} is used by a column and by a row; a color is one "
            "product, a JVP or a VJP"
        )
    if pattern.nnz == 0:
        return
    i = pattern.rows.astype(np.int64)
    j = pattern.cols.astype(np.int64)
    k = int(c.max()) + 2  # colors shifted by one: -1 becomes its own group 0
    by_col = (kappa[j] >= 0) & (_group_sizes(i, kappa[j] + 1, m, k) == 1)
    by_row = (rho[i] >= 0) & (_group_sizes(j, rho[i] + 1, n, k) == 1)
    ok = by_col | by_row
    if not np.all(ok):
        a = int(np.argmax(~ok))
        r, q = int(i[a]), int(j[a])
        jvp = (
            f"column {q} is in no JVP"
            if kappa[q] < 0
            else f"row {r} holds another column of color {int(kappa[q])}"
        )
        vjp = (
            f"row {r} is in no VJP"
            if rho[r] < 0
            else f"column {q} holds another row of color {int(rho[r])}"
        )
        raise InvalidColoringError(
            f"nonzero ({r}, {q}) is recovered neither by a JVP ({jvp}) nor by a VJP ({vjp})"
        )


def _transposed_positions(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """For entries (i, j) of a symmetric structure sorted row-major, the position of (j, i).

    scipy's CSR → CSC conversion is a counting sort, O(nnz + n); reading the result as CSR
    of the transpose lists (j, i) in the row-major order of the original structure.
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n), out=indptr[1:])
    a = sp.csr_array((np.arange(i.size, dtype=np.int64), j, indptr), shape=(n, n))
    return a.tocsc().data


def check_coloring_symmetric(pattern: SparsityPattern, colors, algorithm: str = "star") -> None:
    """Check a symmetric coloring of a symmetric pattern.

    ``star``: every nonzero H_ij is directly recoverable: j is the only column of color
    c(j) in row i, or i the only column of color c(i) in row j (and so the coloring is a
    proper distance-1 coloring). Neutral vertices (color -1, in no product) are allowed
    where this still holds, which rules them out for diagonal nonzeros. ``acyclic``: a
    proper distance-1 coloring in which every two-colored subgraph is a forest.

    Args:
        pattern: symmetric (n, n) pattern.
        colors: (n,) colors; -1 on vertices without nonzeros (star: without a diagonal
            nonzero, as long as every entry stays readable).
        algorithm: a symmetric algorithm of the table
            (:data:`asdex_pipe.coloring.algorithms.ALGORITHMS`): ``"star"`` or ``"acyclic"``.
    """
    # The table imports this module for its checkers: look the name up at call time.
    from asdex_pipe.coloring.algorithms import symmetric_algorithm

    entry = symmetric_algorithm(algorithm)
    if pattern.shape[0] != pattern.shape[1] or not pattern.is_symmetric():
        raise ValueError("symmetric colorings need a symmetric pattern")
    entry.check(pattern, colors)


def _proper_distance1(pattern: SparsityPattern, colors, touched: np.ndarray | None):
    """Shared first step of the symmetric checks: ``(i, j, c, n, k)`` of the off-diagonal
    nonzeros once no two adjacent vertices share a color, or None without any.

    Args:
        touched: the vertices that must have a color (default: every vertex with a
            nonzero), see :func:`_colors_for`.
    """
    c = _colors_for(pattern, colors, 1, "symmetric", touched)
    off = pattern.rows != pattern.cols
    i = pattern.rows[off].astype(np.int64)
    j = pattern.cols[off].astype(np.int64)
    same = (c[i] == c[j]) & (c[i] >= 0)
    if np.any(same):
        a = int(np.argmax(same))
        raise InvalidColoringError(
            f"adjacent vertices {int(i[a])} and {int(j[a])} share color {int(c[i[a]])}"
        )
    if i.size == 0:
        return None
    return i, j, c, pattern.shape[0], int(c.max()) + 1


def check_star_unchecked(pattern: SparsityPattern, colors) -> None:
    """The star check of :func:`check_coloring_symmetric` for a pattern already known to be
    symmetric (the library's colorings verified symmetry before coloring, and that test, a
    transpose, costs as much as the check itself).

    Star colorings may leave vertices neutral (-1, in no product) as long as every nonzero
    stays readable; a diagonal nonzero can only be read through its own color.
    """
    diag = pattern.rows[pattern.rows == pattern.cols]
    parts = _proper_distance1(pattern, colors, diag)
    if parts is not None:
        _check_star(*parts)


def check_acyclic_unchecked(pattern: SparsityPattern, colors) -> None:
    """The acyclic check of :func:`check_coloring_symmetric` for a pattern already known
    to be symmetric (see :func:`check_star_unchecked`)."""
    parts = _proper_distance1(pattern, colors, None)
    if parts is not None:
        _check_acyclic(*parts)


def _check_star(i: np.ndarray, j: np.ndarray, c: np.ndarray, n: int, k: int) -> None:
    # j alone with its color in row i: H_ij = B[c(j), i]. Neutral -1 is its own group.
    alone = (_group_sizes(i, c[j] + 1, n, k + 1) == 1) & (c[j] >= 0)
    ok = alone | alone[_transposed_positions(i, j, n)]
    if not np.all(ok):
        a = int(np.argmax(~ok))
        raise InvalidColoringError(
            f"nonzero ({int(i[a])}, {int(j[a])}) is not directly recoverable: row "
            f"{int(i[a])} has another column of color {int(c[j[a]])} and row {int(j[a])} "
            f"another column of color {int(c[i[a]])} (a two-colored path on 4 vertices)"
        )


def _check_acyclic(i: np.ndarray, j: np.ndarray, c: np.ndarray, n: int, k: int) -> None:
    # Check every two-colored subgraph for a cycle at once, on a graph with one copy of
    # each vertex per two-colored subgraph it is in.
    upper = i < j
    i, j = i[upper], j[upper]
    e = i.size
    # The copy of vertex v in the {c(v), b} subgraph is keyed (v, b): < n·k, no overflow.
    node_keys = np.concatenate([i * k + c[j], j * k + c[i]])
    if _dense_table_fits(n, k, node_keys.size):
        present = np.zeros(n * k, dtype=bool)
        present[node_keys] = True
        ids = np.cumsum(present) - 1
        num_nodes = int(ids[-1]) + 1
        node_id = ids[node_keys]
    else:
        uniq, node_id = unique_inverse(node_keys)
        num_nodes = uniq.size
    a = _first_cycle_edge(node_id[:e], node_id[e:], num_nodes)
    if a >= 0:
        lo, hi = sorted((int(c[i[a]]), int(c[j[a]])))
        raise InvalidColoringError(
            f"the subgraph of colors {lo} and {hi} has a cycle through edge "
            f"({int(i[a])}, {int(j[a])})"
        )


@kernel(cache=True)
def _first_cycle_edge(a, b, num_nodes):  # pragma: no cover - numba
    """Index of the first edge (a[e], b[e]) that joins two already connected nodes, or -1
    (the graph is a forest). Union-find with path halving: O(E α(E)), where scipy's
    connected components needs a symmetrized float copy of the graph (3x slower)."""
    parent = np.arange(num_nodes)
    for e in range(a.shape[0]):
        x = a[e]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        y = b[e]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x == y:
            return e
        parent[x] = y
    return -1
