"""Neutral colors: drop the star colors whose products no nonzero needs.

After star coloring, every off-diagonal nonzero H_ij can be read from one or two places
of the compressed Hessian: ``B[c(j), i]`` when j is the only vertex of color c(j) in row
i, and ``B[c(i), j]`` when i is the only one of color c(i) in row j. A diagonal entry can
only be read from its own color. A color none of whose reads is needed costs a product
for nothing; its vertices are made neutral (color -1: in no seed). Dropping a whole
color class leaves every other class, and so every remaining read, unchanged.

This only ever helps patterns with empty diagonal positions (bilinear couplings, saddle
point problems); with a full diagonal every color is needed.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.pattern import SparsityPattern
from asdex_pipe.sorting import group_counts


def needed_star_colors(pattern: SparsityPattern, colors: np.ndarray) -> np.ndarray:
    """Boolean mask (k,) of the colors some nonzero must be read from.

    Args:
        pattern: symmetric (n, n) pattern.
        colors: (n,) star coloring, -1 on vertices without nonzeros, 0..k-1 otherwise.
    """
    c = np.asarray(colors, dtype=np.int64)
    k = int(c.max()) + 1 if c.size else 0
    needed = np.zeros(k, dtype=bool)
    r = pattern.rows.astype(np.int64)
    q = pattern.cols.astype(np.int64)
    needed[c[r[r == q]]] = True
    if needed.all():  # the usual Hessian: a full diagonal needs every color, skip the rest
        return needed
    off = r != q
    i, j = r[off], q[off]
    if i.size == 0:
        return needed
    alone = group_counts(i * k + c[j]) == 1  # entry (i, j) is readable from B[c(j), i]
    # The symmetric pattern lists (j, i) at the position the (col, row) sort gives (i, j).
    t = np.lexsort((i, j))
    partner = np.empty_like(t)
    partner[t] = np.arange(t.size)
    upper = i < j
    via_j = np.where(alone[upper], c[j[upper]], -1)  # color of read B[c(j), i], or -1
    via_i = np.where(alone[partner][upper], c[i[upper]], -1)  # color of read B[c(i), j]
    needed[via_j[via_i < 0]] = True  # only one way to read the pair
    needed[via_i[via_j < 0]] = True
    both = (via_i >= 0) & (via_j >= 0)
    a, b = via_j[both], via_i[both]
    # Pairs readable either way: keep the color that serves most unserved pairs, repeat.
    while True:
        open_ = ~(needed[a] | needed[b])
        if not open_.any():
            return needed
        votes = np.bincount(np.concatenate([a[open_], b[open_]]), minlength=k)
        needed[int(np.argmax(votes))] = True


def neutralize_star(pattern: SparsityPattern, colors: np.ndarray) -> np.ndarray:
    """The star coloring with every unneeded color class set to -1 (see module docstring).

    Args:
        pattern: symmetric (n, n) pattern.
        colors: (n,) star coloring, -1 on vertices without nonzeros.

    Returns:
        (n,) int32 colors; kept colors are not renumbered here.
    """
    c = np.asarray(colors, dtype=np.int32)
    if c.size == 0 or int(c.max()) < 0:
        return c
    needed = needed_star_colors(pattern, c)
    return np.where((c >= 0) & needed[np.maximum(c, 0)], c, -1).astype(np.int32)
