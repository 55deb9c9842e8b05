"""Public coloring functions: column/row/bidirectional colorings for Jacobians, symmetric
for Hessians.

Every algorithm is an entry of the table :data:`asdex_pipe.coloring.algorithms.ALGORITHMS`
(its kernel, post-processing, checker, mode and name): these functions validate the
arguments, run the entry and never branch on an algorithm's name. Each result is checked
by the entry's independent checker before it is returned (:func:`_validated`): no invalid
coloring leaves these functions.

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
from asdex_pipe.coloring.algorithms import (
    ALGORITHMS,
    Algorithm,
    by_jacobian_mode,
    symmetric_algorithm,
)
from asdex_pipe.coloring.check import InvalidColoringError
from asdex_pipe.coloring.orders import ORDERS
from asdex_pipe.pattern import BIDIRECTIONAL, ColoredPattern, SparsityPattern
from asdex_pipe.vocabulary import JACOBIAN_MODES


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


def _colored(
    entry: Algorithm,
    pattern: SparsityPattern,
    order: str,
    seed: int,
    postprocess: bool = True,
    transposed: SparsityPattern | None = None,
) -> tuple[np.ndarray, str]:
    """``(colors, order used)`` of ``entry``'s kernel on a validated ``pattern``, post-processed
    (see :func:`color_symmetric`) and checked by the entry's independent checker."""
    colors, used = entry.kernel(pattern, order, seed, transposed)
    if not postprocess:
        colors = np.where(colors < 0, 0, colors).astype(np.int32) if colors.size else colors
    elif entry.postprocess is not None:
        colors = entry.postprocess(pattern, colors)
    # Checked after post-processing, so the neutral colors are checked too.
    _validated(lambda: entry.check(pattern, colors), entry.label)
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
    entry = ALGORITHMS["column"]
    colors = _jacobian_colors(pattern, entry, order, seed)
    _warn_if_dense(colors, entry.label)
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
    entry = ALGORITHMS["row"]
    colors = _jacobian_colors(pattern, entry, order, seed)
    _warn_if_dense(colors, entry.label)
    return colors


def _jacobian_colors(
    pattern: SparsityPattern, entry: Algorithm, order: str, seed: int
) -> np.ndarray:
    _check_pattern(pattern)
    _check_order(order)
    return _colored(entry, pattern, order, seed)[0]


def check_symmetric_options(algorithm: str, order: str) -> None:
    """Raise ``ValueError`` for an unknown symmetric coloring ``algorithm`` or vertex ``order``
    (callers check before detection, so a typo costs nothing)."""
    _check_order(order)
    symmetric_algorithm(algorithm)


def _check_jacobian_options(mode: str, order: str) -> None:
    _check_order(order)
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(JACOBIAN_MODES)}")


def _symmetric(
    pattern: SparsityPattern, algorithm: str, order: str, seed: int, postprocess: bool
) -> tuple[np.ndarray, str, Algorithm]:
    """Validate the arguments and color: ``(colors, order used, table entry)``."""
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
    entry = ALGORITHMS[algorithm]
    colors, used = _colored(entry, pattern, order, seed, postprocess)
    return colors, used, entry


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
    colors, _, entry = _symmetric(pattern, algorithm, order, seed, postprocess)
    _warn_if_dense(colors, entry.label)
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
    colors, used, entry = _symmetric(sparsity, algorithm, order, seed, postprocess)
    _warn_if_dense(colors, entry.label)
    return ColoredPattern(sparsity, colors, entry.mode, entry.name, used)


def color_for_hvps(
    sparsity: SparsityPattern,
    algorithm: str = "star",
    order: str = "largest_first",
    postprocess: bool = True,
    seed: int = 0,
) -> ColoredPattern:
    """Color a Hessian pattern for HVP evaluation with any algorithm of the table that can
    (``for_hvps``: those of :data:`asdex_pipe.vocabulary.ALGORITHMS`).

    Symmetric algorithms color as :func:`hessian_coloring_from_sparsity`. A one-sided
    Jacobian coloring (column or row: structurally orthogonal groups) treats H as a general
    matrix; H is symmetric, so a row coloring's groups are column groups too. Either way the
    result is an ``HVP`` coloring named after ``algorithm``.

    Raises:
        ValueError: ``algorithm`` cannot color a Hessian for HVPs.
    """
    entry = ALGORITHMS.get(algorithm)
    if entry is None or not entry.for_hvps:
        offered = [name for name, e in ALGORITHMS.items() if e.for_hvps]
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(offered)}")
    if entry.symmetric:
        return hessian_coloring_from_sparsity(sparsity, algorithm, order, postprocess, seed)
    general = jacobian_coloring_from_sparsity(sparsity, entry.jacobian_mode, order, seed)
    return ColoredPattern(
        sparsity, general.colors, "HVP", entry.name, general.order, provenance=general.provenance
    )


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
    if mode != "auto":
        colored = _jacobian(by_jacobian_mode(mode), sparsity, order, seed)
        if colored.mode != BIDIRECTIONAL:
            _warn_if_dense(colored.colors, ALGORITHMS[colored.algorithm].label)
        return colored
    transposed = sparsity.transpose()  # once: every row-side step needs it
    rows_mask, rows_bound = bicoloring.peel_rows(sparsity)
    cols_mask, cols_bound = bicoloring.peel_rows(transposed)
    n = sparsity.shape[1]
    max_row = int(np.diff(sparsity.indptr).max(initial=0))
    max_col = int(np.bincount(sparsity.cols, minlength=n).max(initial=0))
    # (lower bound, preference on ties, how to color); one-sided colorings first on ties.
    candidates: list[tuple[int, int, Callable[[], ColoredPattern]]] = [
        (max_row, 0, lambda: _jacobian(ALGORITHMS["column"], sparsity, order, seed)),
        (max_col, 1, lambda: _jacobian(ALGORITHMS["row"], sparsity, order, seed, transposed)),
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
        _warn_if_dense(chosen.colors, ALGORITHMS[chosen.algorithm].label)
    return chosen


def _jacobian(
    entry: Algorithm,
    sparsity: SparsityPattern,
    order: str,
    seed: int,
    transposed: SparsityPattern | None = None,
) -> ColoredPattern:
    """``entry``'s checked coloring of a Jacobian pattern as a ``ColoredPattern``
    (``transposed``: the transposed pattern when already at hand)."""
    colors, used = _colored(entry, sparsity, order, seed, transposed=transposed)
    return ColoredPattern(sparsity, colors, entry.mode, entry.name, used)


def _bidirectional(
    sparsity: SparsityPattern,
    vjp_rows: np.ndarray | None,
    jvp_cols: np.ndarray | None,
    order: str,
    seed: int,
    transposed: SparsityPattern | None = None,
) -> ColoredPattern:
    """One scheme of the bidirectional coloring (rows ``vjp_rows`` by VJPs, or the
    transposed scheme with columns ``jvp_cols`` by JVPs), checked: the candidates of
    ``mode="auto"``, which has the schemes' bounds at hand."""
    entry = by_jacobian_mode("bidirectional")
    if vjp_rows is not None:
        colors, used = bicoloring.bicolor_rows(sparsity, vjp_rows, order, seed)
    else:
        colors, used = bicoloring.bicolor_cols(sparsity, jvp_cols, order, seed, transposed)
    _validated(lambda: entry.check(sparsity, colors), entry.label)
    return ColoredPattern(sparsity, colors, entry.mode, entry.name, used)
