"""Graphs the colorings work on, built from a :class:`SparsityPattern` with array operations.

* The adjacency graph of a symmetric pattern (vertices = rows = columns, an edge per
  off-diagonal nonzero pair), for star and acyclic colorings.
* The column intersection graph of a general pattern (columns adjacent when they share a
  row), on which a distance-1 coloring is exactly a partial distance-2 coloring of the
  bipartite graph: structurally orthogonal column groups (Gebremedhin, Manne, Pothen 2005,
  Sec. 3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asdex_pipe.pattern import SparsityPattern


@dataclass(frozen=True)
class Graph:
    """An undirected graph in CSR form without self loops.

    Attributes:
        indptr: (n + 1,) int64 row pointer.
        indices: (2·|E|,) int64 neighbours, sorted within each row.
        rev: (2·|E|,) int64; ``rev[p]`` is the position of the reverse of directed edge ``p``
            (only for adjacency graphs built by :func:`adjacency_graph`, else None).
    """

    indptr: np.ndarray
    indices: np.ndarray
    rev: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of vertices."""
        return int(self.indptr.shape[0] - 1)

    @property
    def degree(self) -> np.ndarray:
        """(n,) vertex degrees."""
        return np.diff(self.indptr)


def adjacency_graph(pattern: SparsityPattern) -> Graph:
    """Adjacency graph of a symmetric (n, n) pattern; the diagonal is dropped.

    ``rev`` pairs each directed edge with its reverse: with the pattern sorted row-major and
    symmetric, sorting the positions by (col, row) lists the transposed entries in the same
    row-major order, which gives the pairing without any search.
    """
    n = pattern.shape[0]
    rows = pattern.rows.astype(np.int64)
    cols = pattern.cols.astype(np.int64)
    off = rows != cols
    rows, cols = rows[off], cols[off]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    order = np.lexsort((rows, cols))
    rev = np.empty_like(order)
    rev[order] = np.arange(order.shape[0])
    return Graph(indptr, cols, rev)


def intersection_graph(pattern: SparsityPattern) -> Graph:
    """Column intersection graph of an (m, n) pattern: j ~ j' iff some row holds both.

    The product is taken on boolean structure: scipy adds booleans with logical or, so an
    entry is True whatever the number of shared rows. A narrow integer type would count
    them and wrap (int8: 256 shared rows read as 0, making the columns look independent).
    """
    a = pattern.to_scipy()  # bool
    g = (a.T @ a).tocsr()
    g.setdiag(0)
    g.eliminate_zeros()
    g.sort_indices()
    return Graph(g.indptr.astype(np.int64), g.indices.astype(np.int64))
