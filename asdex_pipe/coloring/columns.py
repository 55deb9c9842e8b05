"""Partial distance-2 column colorings (structurally orthogonal column groups), unchecked.

The public functions (:mod:`asdex_pipe.coloring.api`) check every result; the one-sided
Jacobian colorings and both halves of a bicoloring (:mod:`asdex_pipe.coloring.bicoloring`)
are computed here. The column intersection graph is used when it is affordable (see
:func:`~asdex_pipe.coloring.bipartite.gram_affordable`), which keeps the colors every
earlier version produced; otherwise the coloring runs on the pattern itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from asdex_pipe.coloring.bipartite import color_columns_frugal, gram_affordable
from asdex_pipe.coloring.graph import Graph, intersection_graph
from asdex_pipe.coloring.greedy import greedy_distance1
from asdex_pipe.coloring.orders import BEST_CANDIDATES, vertex_order
from asdex_pipe.pattern import SparsityPattern
from asdex_pipe.sorting import unique_sorted

#: Orders the pattern-only (frugal) coloring supports; ``"best"`` tries those of them
#: that are among ``BEST_CANDIDATES``.
FRUGAL_ORDERS = ("largest_first", "natural", "random")


def finish(colors: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """Mark vertices that need no product with -1 and renumber the rest 0..k-1.

    Args:
        colors: (N,) integer colors.
        empty: (N,) bool, the vertices without nonzeros.

    Returns:
        (N,) int32 colors.
    """
    colors = colors.astype(np.int32)
    colors[empty] = -1
    used = unique_sorted(colors[colors >= 0])
    if used.size and used[-1] != used.size - 1:
        remap = np.full(int(used[-1]) + 1, -1, dtype=np.int32)
        remap[used] = np.arange(used.size, dtype=np.int32)
        colors = np.where(colors >= 0, remap[np.maximum(colors, 0)], -1).astype(np.int32)
    return colors


def num_colors(colors: np.ndarray) -> int:
    """Number of colors of a coloring with colors 0..k-1 (and -1 for none)."""
    return int(colors.max()) + 1 if colors.size else 0


def best_of(run: Callable[[str], np.ndarray], candidates=BEST_CANDIDATES) -> tuple[np.ndarray, str]:
    """Try the candidate orders; keep the fewest colors (earliest candidate on ties)."""
    best_colors, best_order = None, ""
    for name in candidates:
        colors = run(name)
        if best_colors is None or num_colors(colors) < num_colors(best_colors):
            best_colors, best_order = colors, name
    return best_colors, f"best:{best_order}"


def color_graph(graph: Graph, order: str, seed: int, kernel: Callable) -> tuple[np.ndarray, str]:
    """Run a greedy ``kernel(graph, visiting_order)`` in ``order`` (``"best"``: several)."""
    if order == "best":
        return best_of(lambda name: kernel(graph, vertex_order(graph, name, seed)))
    return kernel(graph, vertex_order(graph, order, seed)), order


def _d1(graph: Graph, order: np.ndarray) -> np.ndarray:
    return greedy_distance1(graph.indptr, graph.indices, order)


def color_columns(pattern: SparsityPattern, order: str, seed: int) -> tuple[np.ndarray, str]:
    """Partial distance-2 coloring of the columns of ``pattern``.

    Args:
        pattern: (m, n) pattern.
        order: a vertex order (see ``ORDERS``), ``"best"`` for several.
        seed: seed of the ``"random"`` order.

    Returns:
        (n,) int32 colors 0..k-1, -1 for empty columns, and the order actually used. Memory
        stays proportional to the pattern: without an affordable intersection graph the
        dynamic orders fall back to ``largest_first`` (see
        :func:`~asdex_pipe.coloring.bipartite.column_order`).
    """
    empty = np.bincount(pattern.cols, minlength=pattern.shape[1]) == 0
    if gram_affordable(pattern):
        colors, used = color_graph(intersection_graph(pattern), order, seed, _d1)
    elif order == "best":
        frugal = [name for name in BEST_CANDIDATES if name in FRUGAL_ORDERS]
        colors, used = best_of(lambda name: color_columns_frugal(pattern, name, seed)[0], frugal)
    else:
        colors, used = color_columns_frugal(pattern, order, seed)
    return finish(colors, empty), used
