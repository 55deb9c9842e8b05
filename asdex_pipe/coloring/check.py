"""Independent coloring checkers, written from the definitions with whole-array numpy/scipy.

They share no code with the coloring algorithms, so a bug in one is caught by the other.
Each raises :class:`InvalidColoringError` naming an offending pair, or returns None.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from asdex_pipe.pattern import SparsityPattern
from asdex_pipe.sorting import group_counts, unique_inverse


class InvalidColoringError(ValueError):
    """A coloring does not satisfy the definition it claims."""


def _colors_for(
    pattern: SparsityPattern, colors, axis: int, what: str, touched: np.ndarray | None = None
) -> np.ndarray:
    """Colors as int64 after checking their length and that ``touched`` vertices (default:
    every vertex with a nonzero) have a color."""
    c = np.asarray(colors)
    size = pattern.shape[axis]
    if c.shape != (size,):
        raise InvalidColoringError(f"{what} coloring needs {size} colors, got shape {c.shape}")
    if touched is None:
        touched = pattern.cols if axis == 1 else pattern.rows
    if touched.size and np.any(c[touched] < 0):
        bad = int(touched[np.argmax(c[touched] < 0)])
        raise InvalidColoringError(f"vertex {bad} has nonzeros but no color (-1)")
    return c.astype(np.int64)


def _first_duplicate(keys: np.ndarray) -> tuple[int, int] | None:
    """Positions (a, b) of two equal keys, or None if all keys are distinct."""
    if keys.size < 2:
        return None
    order = np.argsort(keys, kind="stable")
    dup = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    if dup.size == 0:
        return None
    return int(order[dup[0]]), int(order[dup[0] + 1])


def check_coloring_cols(pattern: SparsityPattern, colors) -> None:
    """Columns of one color must be structurally orthogonal (no row shares two of them).

    Args:
        pattern: (m, n) pattern.
        colors: (n,) column colors; -1 only on empty columns.
    """
    c = _colors_for(pattern, colors, 1, "column")
    k = int(c.max()) + 1 if c.size else 0
    keys = pattern.rows.astype(np.int64) * max(k, 1) + c[pattern.cols]
    dup = _first_duplicate(keys)
    if dup is not None:
        a, b = dup
        raise InvalidColoringError(
            f"columns {int(pattern.cols[a])} and {int(pattern.cols[b])} share color "
            f"{int(c[pattern.cols[a]])} and both have a nonzero in row {int(pattern.rows[a])}"
        )


def check_coloring_rows(pattern: SparsityPattern, colors) -> None:
    """Rows of one color must be structurally orthogonal (no column shares two of them)."""
    c = _colors_for(pattern, colors, 0, "row")
    k = int(c.max()) + 1 if c.size else 0
    keys = pattern.cols.astype(np.int64) * max(k, 1) + c[pattern.rows]
    dup = _first_duplicate(keys)
    if dup is not None:
        a, b = dup
        raise InvalidColoringError(
            f"rows {int(pattern.rows[a])} and {int(pattern.rows[b])} share color "
            f"{int(c[pattern.rows[a]])} and both have a nonzero in column {int(pattern.cols[a])}"
        )


def check_coloring_symmetric(pattern: SparsityPattern, colors, algorithm: str = "star") -> None:
    """Check a symmetric coloring of a symmetric pattern.

    ``star``: every nonzero H_ij is directly recoverable: j is the only column of color
    c(j) in row i, or i the only column of color c(i) in row j (and so the coloring is a
    proper distance-1 coloring). Neutral vertices (color -1, in no product) are allowed
    where this still holds, which rules them out for diagonal nonzeros. ``acyclic``: a
    proper distance-1 coloring in which every two-colored subgraph is a forest.
    """
    if algorithm not in ("star", "acyclic"):
        raise ValueError(f"algorithm must be 'star' or 'acyclic', got {algorithm!r}")
    if pattern.shape[0] != pattern.shape[1] or not pattern.is_symmetric():
        raise ValueError("symmetric colorings need a symmetric pattern")
    # Star colorings may leave vertices neutral (-1, in no product) as long as every
    # nonzero stays readable; a diagonal nonzero can only be read through its own color.
    diag = pattern.rows[pattern.rows == pattern.cols]
    c = _colors_for(pattern, colors, 1, "symmetric", diag if algorithm == "star" else None)
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
        return
    k = int(c.max()) + 1
    if algorithm == "star":
        key = i * (k + 1) + c[j] + 1
        alone = (group_counts(key) == 1) & (c[j] >= 0)  # j alone with its color in row i
        # Position of (j, i): the symmetric pattern lists transposed entries in the same order.
        t = np.lexsort((i, j))
        partner = np.empty_like(t)
        partner[t] = np.arange(t.size)
        ok = alone | alone[partner]
        if not np.all(ok):
            a = int(np.argmax(~ok))
            raise InvalidColoringError(
                f"nonzero ({int(i[a])}, {int(j[a])}) is not directly recoverable: row "
                f"{int(i[a])} has another column of color {int(c[j[a]])} and row {int(j[a])} "
                f"another column of color {int(c[i[a]])} (a two-colored path on 4 vertices)"
            )
        return
    # acyclic: a graph is a forest iff edges == vertices - components, per color pair.
    upper = i < j
    i, j = i[upper], j[upper]
    lo, hi = np.minimum(c[i], c[j]), np.maximum(c[i], c[j])
    pair = lo * k + hi
    # Nodes are (pair, vertex): one copy of each vertex per two-colored subgraph it is in.
    node_keys = np.concatenate([pair * len(c) + i, pair * len(c) + j])
    nodes, node_id = unique_inverse(node_keys)
    e = i.size
    g = sp.coo_array(
        (np.ones(e, dtype=np.int8), (node_id[:e], node_id[e:])), shape=(nodes.size, nodes.size)
    )
    ncomp, label = connected_components(g, directed=False)
    edges_per = np.bincount(label[node_id[:e]], minlength=ncomp)
    nodes_per = np.bincount(label, minlength=ncomp)
    cyclic = np.flatnonzero(edges_per >= nodes_per)
    if cyclic.size:
        comp = cyclic[0]
        a = int(np.flatnonzero(label[node_id[:e]] == comp)[0])
        raise InvalidColoringError(
            f"the subgraph of colors {int(lo[a])} and {int(hi[a])} has a cycle through edge "
            f"({int(i[a])}, {int(j[a])})"
        )
