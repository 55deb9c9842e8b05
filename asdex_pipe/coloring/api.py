"""Public coloring functions: column/row/bidirectional colorings for Jacobians, symmetric
for Hessians.

Each result is checked by the independent checker of its kind before it is returned
(:func:`_validated`): no invalid coloring leaves these functions.

Jacobian mode selection (``mode="auto"``) never colors a side it does not need: the
densest row bounds the column colors from below (its columns need distinct colors), the
densest column the row colors, and each bidirectional scheme has its own bound (see
:mod:`asdex_pipe.coloring.bicoloring`). Candidates are colored in increasing order of their
bound, and one whose bound already exceeds the best coloring found is skipped, so a dense
row never makes the column side run. Every coloring works in memory proportional to the
pattern (see :mod:`asdex_pipe.coloring.columns`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from asdex_pipe.coloring import bicoloring
from asdex_pipe.coloring.acyclic import greedy_acyclic
from asdex_pipe.coloring.check import (
    InvalidColoringError,
    check_coloring_bidirectional,
    check_coloring_cols,
    check_symmetric_unchecked,
)
from asdex_pipe.coloring.columns import color_columns, color_graph, finish
from asdex_pipe.coloring.graph import adjacency_graph
from asdex_pipe.coloring.neutral import neutralize_star
from asdex_pipe.coloring.orders import ORDERS
from asdex_pipe.coloring.star import greedy_star
from asdex_pipe.pattern import BIDIRECTIONAL, ColoredPattern, SparsityPattern
from asdex_pipe.vocabulary import JACOBIAN_MODES

ALGORITHMS = ("star", "acyclic")


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; choose one of: {', '.join(ORDERS)}")


def _check_pattern(pattern: Any) -> None:
    if not isinstance(pattern, SparsityPattern):
        raise ValueError(f"expected a SparsityPattern, got {type(pattern).__name__}")


def _validated(check: Callable[[], None], what: str) -> None:
    """Run an independent checker on a coloring about to be returned.

    Every public coloring function passes its result through here, so no invalid coloring
    leaves the library, whatever bug an algorithm may have: the checkers share no code with
    the algorithms and cost O(nnz) array work (a fraction of the coloring itself).

    Raises:
        InvalidColoringError: the computed coloring is invalid (a bug in asdex_pipe).
    """
    try:
        check()
    except InvalidColoringError as exc:
        raise InvalidColoringError(
            f"internal error: the {what} coloring asdex_pipe computed failed its independent "
            f"check ({exc}); it was not returned. Please report this with the pattern."
        ) from exc


def _warn_if_dense(colors: np.ndarray, what: str) -> None:
    k = int(colors.max()) + 1 if colors.size else 0
    if k > 1 and k == colors.size:
        warnings.warn(
            f"{what} coloring uses {k} colors for {k} vertices: it saves nothing over a dense "
            "evaluation (the pattern is dense or nearly so)",
            UserWarning,
            stacklevel=3,
        )


def _columns(pattern: SparsityPattern, order: str, seed: int) -> tuple[np.ndarray, str]:
    _check_pattern(pattern)
    _check_order(order)
    colors, used = color_columns(pattern, order, seed)
    # Row colorings come here with the transposed pattern: this checks them as rows.
    _validated(lambda: check_coloring_cols(pattern, colors), "column/row")
    return colors, used


def color_cols(pattern: SparsityPattern, order: str = "largest_first", seed: int = 0) -> np.ndarray:
    """Partial distance-2 column coloring: columns of one color are structurally orthogonal.

    Args:
        pattern: (m, n) Jacobian pattern.
        order: vertex order (see ``ORDERS``); ``"best"`` tries several.
        seed: seed of the ``"random"`` order.

    Returns:
        (n,) int32 colors, -1 for empty columns.

    Raises:
        InvalidColoringError: never for a valid input; it would mean the computed coloring
            failed the independent check (an internal bug), and nothing is returned.
    """
    colors, _ = _columns(pattern, order, seed)
    _warn_if_dense(colors, "column")
    return colors


def color_rows(pattern: SparsityPattern, order: str = "largest_first", seed: int = 0) -> np.ndarray:
    """Partial distance-2 row coloring: rows of one color are structurally orthogonal.

    Args:
        pattern: (m, n) Jacobian pattern.
        order: vertex order (see ``ORDERS``); ``"best"`` tries several.
        seed: seed of the ``"random"`` order.

    Returns:
        (m,) int32 colors, -1 for empty rows.

    Raises:
        InvalidColoringError: never for a valid input; it would mean the computed coloring
            failed the independent check (an internal bug), and nothing is returned.
    """
    _check_pattern(pattern)
    colors, _ = _columns(pattern.transpose(), order, seed)
    _warn_if_dense(colors, "row")
    return colors


def check_symmetric_options(algorithm: str, order: str) -> None:
    """Raise ``ValueError`` for an unknown symmetric coloring ``algorithm`` or vertex ``order``
    (callers check before detection, so a typo costs nothing)."""
    _check_order(order)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")


def _check_jacobian_options(mode: str, order: str) -> None:
    _check_order(order)
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(JACOBIAN_MODES)}")


def _symmetric(
    pattern: SparsityPattern, algorithm: str, order: str, seed: int
) -> tuple[np.ndarray, str]:
    _check_pattern(pattern)
    check_symmetric_options(algorithm, order)
    m, n = pattern.shape
    if m != n:
        raise ValueError(
            f"symmetric coloring needs a square pattern, got shape {pattern.shape}; "
            "use column coloring (color_cols) for a general Jacobian"
        )
    if not pattern.is_symmetric():
        raise ValueError(
            "symmetric coloring needs a symmetric pattern; call pattern.symmetrize() first, "
            "or use column coloring (color_cols)"
        )
    graph = adjacency_graph(pattern)
    if algorithm == "star":
        kernel = lambda g, o: greedy_star(g.indptr, g.indices, o)  # noqa: E731
    else:
        kernel = lambda g, o: greedy_acyclic(g.indptr, g.indices, g.rev, o)  # noqa: E731
    colors, used = color_graph(graph, order, seed, kernel)
    empty = np.bincount(pattern.cols, minlength=n) == 0
    return finish(colors, empty), used


def _postprocessed(
    pattern: SparsityPattern, colors: np.ndarray, algorithm: str, postprocess: bool
) -> np.ndarray:
    if not postprocess:
        out = np.where(colors < 0, 0, colors).astype(np.int32) if colors.size else colors
    elif algorithm == "star":
        out = finish(neutralize_star(pattern, colors), colors < 0)
    else:
        out = colors
    # Checked after post-processing, so the neutral colors are checked too.
    _validated(lambda: check_symmetric_unchecked(pattern, out, algorithm), algorithm)
    return out


def color_symmetric(
    pattern: SparsityPattern,
    algorithm: str = "star",
    order: str = "largest_first",
    postprocess: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Star or acyclic coloring of a symmetric (n, n) pattern.

    Args:
        pattern: symmetric Hessian pattern.
        algorithm: ``"star"`` (direct recovery) or ``"acyclic"`` (recovery by substitution;
            usually fewer colors).
        order: vertex order (see ``ORDERS``).
        postprocess: renumber colors contiguously and give isolated vertices (empty row and
            column) the color -1, so no product is spent on them; for star colorings also
            drop the colors no nonzero needs to be read from (their vertices get -1, see
            :mod:`asdex_pipe.coloring.neutral`).
        seed: seed of the ``"random"`` order.

    Returns:
        (n,) int32 colors.

    Raises:
        InvalidColoringError: never for a valid input; it would mean the computed coloring
            failed the independent check (an internal bug), and nothing is returned.
    """
    colors, _ = _symmetric(pattern, algorithm, order, seed)
    colors = _postprocessed(pattern, colors, algorithm, postprocess)
    _warn_if_dense(colors, algorithm)
    return colors


def hessian_coloring_from_sparsity(
    sparsity: SparsityPattern,
    algorithm: str = "star",
    order: str = "largest_first",
    postprocess: bool = True,
    seed: int = 0,
) -> ColoredPattern:
    """Color a symmetric Hessian pattern for HVP evaluation.

    Arguments as for :func:`color_symmetric`.

    Returns:
        ``ColoredPattern`` with mode ``"HVP"``; its ``order`` is the order actually used
        (``"best:<winner>"`` for ``order="best"``).

    Raises:
        InvalidColoringError: never for a valid input; it would mean the computed coloring
            failed the independent check (an internal bug), and nothing is returned.
    """
    colors, used = _symmetric(sparsity, algorithm, order, seed)
    colors = _postprocessed(sparsity, colors, algorithm, postprocess)
    _warn_if_dense(colors, algorithm)
    return ColoredPattern(sparsity, colors, "HVP", algorithm, used)


def jacobian_coloring_from_sparsity(
    sparsity: SparsityPattern, mode: str = "auto", order: str = "largest_first", seed: int = 0
) -> ColoredPattern:
    """Color a Jacobian pattern: columns for JVPs (``"fwd"``), rows for VJPs (``"rev"``),
    or both (``"bidirectional"``: some rows by VJPs, the rest of the entries by JVPs).

    ``"auto"`` picks the fewest products: forward on ties with reverse, bidirectional only
    when it needs strictly fewer than both (a dense row together with a dense column, e.g.
    ``[x**2 + x[0]·a; sum(x)]``: 3 products where either side needs n). Sides are skipped
    when their lower bound (the densest row for columns, the densest column for rows) shows
    they cannot win, so no dense structure is ever built (see the module docstring).

    Args:
        sparsity: (m, n) Jacobian pattern.
        mode: ``"fwd"`` (column coloring, JVPs), ``"rev"`` (row coloring, VJPs),
            ``"bidirectional"`` (see :mod:`asdex_pipe.coloring.bicoloring`) or ``"auto"``.
        order: vertex order (see ``ORDERS``); ``"best"`` tries several.
        seed: seed of the ``"random"`` order.

    Returns:
        ``ColoredPattern`` of mode ``"JVP"`` (algorithm ``"column"``), ``"VJP"`` (``"row"``)
        or ``"JVP+VJP"`` (``"bicoloring"``; colors: n column colors, then m row colors).

    Raises:
        InvalidColoringError: never for a valid input; it would mean the computed coloring
            failed the independent check (an internal bug), and nothing is returned.
    """
    _check_jacobian_options(mode, order)
    _check_pattern(sparsity)
    if mode in ("fwd", "rev"):
        colored = _one_sided(sparsity, mode, order, seed)
        _warn_if_dense(colored.colors, colored.algorithm)
        return colored
    transposed = sparsity.transpose()  # once: every row-side step needs it
    rows_mask, rows_bound = bicoloring.peel_rows(sparsity)
    cols_mask, cols_bound = bicoloring.peel_rows(transposed)
    if mode == "bidirectional":
        first = _bidirectional(sparsity, rows_mask, None, order, seed)
        if cols_bound >= first.num_colors:
            return first
        second = _bidirectional(sparsity, None, cols_mask, order, seed, transposed)
        return second if second.num_colors < first.num_colors else first
    n = sparsity.shape[1]
    max_row = int(np.diff(sparsity.indptr).max(initial=0))
    max_col = int(np.bincount(sparsity.cols, minlength=n).max(initial=0))
    # (lower bound, preference on ties, how to color); one-sided colorings first on ties.
    candidates: list[tuple[int, int, Callable[[], ColoredPattern]]] = [
        (max_row, 0, lambda: _one_sided(sparsity, "fwd", order, seed)),
        (max_col, 1, lambda: _one_sided(sparsity, "rev", order, seed, transposed)),
    ]
    if rows_mask.any():
        candidates.append(
            (rows_bound, 2, lambda: _bidirectional(sparsity, rows_mask, None, order, seed))
        )
    if cols_mask.any():
        candidates.append(
            (
                cols_bound,
                3,
                lambda: _bidirectional(sparsity, None, cols_mask, order, seed, transposed),
            )
        )
    best: tuple[int, int, ColoredPattern] | None = None
    for bound, rank, run in sorted(candidates, key=lambda cand: cand[:2]):
        if best is not None and (bound, rank) > best[:2]:
            continue  # it cannot need fewer products, nor as few with a better rank
        colored = run()
        if best is None or (colored.num_colors, rank) < best[:2]:
            best = (colored.num_colors, rank, colored)
    chosen = best[2]
    if chosen.mode != BIDIRECTIONAL:
        _warn_if_dense(chosen.colors, chosen.algorithm)
    return chosen


def _one_sided(
    sparsity: SparsityPattern,
    side: str,
    order: str,
    seed: int,
    transposed: SparsityPattern | None = None,
) -> ColoredPattern:
    """The column (``"fwd"``) or row (``"rev"``) coloring as a ``ColoredPattern``
    (``transposed``: the transposed pattern when already at hand)."""
    if side == "fwd":
        colors, used = _columns(sparsity, order, seed)
        return ColoredPattern(sparsity, colors, "JVP", "column", used)
    t = sparsity.transpose() if transposed is None else transposed
    colors, used = _columns(t, order, seed)
    return ColoredPattern(sparsity, colors, "VJP", "row", used)


def _bidirectional(
    sparsity: SparsityPattern,
    vjp_rows: np.ndarray | None,
    jvp_cols: np.ndarray | None,
    order: str,
    seed: int,
    transposed: SparsityPattern | None = None,
) -> ColoredPattern:
    """A bidirectional coloring (rows ``vjp_rows`` by VJPs, or the transposed scheme with
    columns ``jvp_cols`` by JVPs), checked."""
    if vjp_rows is not None:
        colors, used = bicoloring.bicolor_rows(sparsity, vjp_rows, order, seed)
    else:
        colors, used = bicoloring.bicolor_cols(sparsity, jvp_cols, order, seed, transposed)
    _validated(lambda: check_coloring_bidirectional(sparsity, colors), "bidirectional")
    return ColoredPattern(sparsity, colors, BIDIRECTIONAL, "bicoloring", used)
