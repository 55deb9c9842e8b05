"""Public coloring functions: column/row colorings for Jacobians, symmetric for Hessians.

Each result is checked by the independent checker of its kind before it is returned
(:func:`_validated`): no invalid coloring leaves these functions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from asdex_pipe.coloring.acyclic import greedy_acyclic
from asdex_pipe.coloring.check import (
    InvalidColoringError,
    check_coloring_cols,
    check_symmetric_unchecked,
)
from asdex_pipe.coloring.graph import Graph, adjacency_graph, intersection_graph
from asdex_pipe.coloring.greedy import greedy_distance1
from asdex_pipe.coloring.neutral import neutralize_star
from asdex_pipe.coloring.orders import BEST_CANDIDATES, ORDERS, vertex_order
from asdex_pipe.coloring.star import greedy_star
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.sorting import unique_sorted

ALGORITHMS = ("star", "acyclic")
JACOBIAN_MODES = ("auto", "fwd", "rev")


def _check_order(order: str) -> None:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; choose one of: {', '.join(ORDERS)}")


def _check_pattern(pattern: Any) -> None:
    if not isinstance(pattern, SparsityPattern):
        raise ValueError(f"expected a SparsityPattern, got {type(pattern).__name__}")


def _finish(colors: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """Mark vertices that need no product with -1 and renumber the rest 0..k-1."""
    colors = colors.astype(np.int32)
    colors[empty] = -1
    used = unique_sorted(colors[colors >= 0])
    if used.size and used[-1] != used.size - 1:
        remap = np.full(int(used[-1]) + 1, -1, dtype=np.int32)
        remap[used] = np.arange(used.size, dtype=np.int32)
        colors = np.where(colors >= 0, remap[np.maximum(colors, 0)], -1).astype(np.int32)
    return colors


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


def _best(run: Callable[[str], np.ndarray]) -> tuple[np.ndarray, str]:
    """Try the candidate orders; keep the fewest colors (earliest candidate on ties)."""
    best_colors, best_order = None, ""
    for name in BEST_CANDIDATES:
        colors = run(name)
        k = int(colors.max()) + 1 if colors.size else 0
        if best_colors is None or k < int(best_colors.max(initial=-1)) + 1:
            best_colors, best_order = colors, name
    return best_colors, f"best:{best_order}"


def _color_graph(graph: Graph, order: str, seed: int, kernel: Callable) -> tuple[np.ndarray, str]:
    if order == "best":
        return _best(lambda name: kernel(graph, vertex_order(graph, name, seed)))
    return kernel(graph, vertex_order(graph, order, seed)), order


def _d1(graph: Graph, order: np.ndarray) -> np.ndarray:
    return greedy_distance1(graph.indptr, graph.indices, order)


def _columns(pattern: SparsityPattern, order: str, seed: int) -> tuple[np.ndarray, str]:
    _check_pattern(pattern)
    _check_order(order)
    graph = intersection_graph(pattern)
    colors, used = _color_graph(graph, order, seed, _d1)
    empty = np.bincount(pattern.cols, minlength=pattern.shape[1]) == 0
    colors = _finish(colors, empty)
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


COMPLEX_REV = (
    "f has complex outputs: a VJP (row) coloring would lose their imaginary parts "
    "(jax.jacrev refuses such functions too); use mode='fwd' / a JVP coloring"
)


def complex_output(f: Callable, x: Any) -> bool:
    """True when some output leaf of ``f`` at ``x`` (array or ShapeDtypeStruct) is complex."""
    import jax
    import jax.numpy as jnp

    return any(jnp.iscomplexobj(leaf) for leaf in jax.tree.leaves(jax.eval_shape(f, x)))


def jacobian_mode_for(f: Callable, input_shape: Any, mode: str, dtype: Any = None) -> str:
    """``mode`` checked against ``f``'s outputs: complex outputs need forward mode, so
    ``"auto"`` becomes ``"fwd"`` and ``"rev"`` raises ``ValueError``."""
    import jax
    import jax.numpy as jnp

    from asdex_pipe.detection.api import normalize_input

    shape, sample_dtype = normalize_input(input_shape, dtype)
    x = jax.ShapeDtypeStruct(shape, sample_dtype or jnp.float32)
    if mode != "fwd" and complex_output(f, x):
        if mode == "rev":
            raise ValueError(COMPLEX_REV)
        return "fwd"
    return mode


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
    colors, used = _color_graph(graph, order, seed, kernel)
    empty = np.bincount(pattern.cols, minlength=n) == 0
    return _finish(colors, empty), used


def _postprocessed(
    pattern: SparsityPattern, colors: np.ndarray, algorithm: str, postprocess: bool
) -> np.ndarray:
    if not postprocess:
        out = np.where(colors < 0, 0, colors).astype(np.int32) if colors.size else colors
    elif algorithm == "star":
        out = _finish(neutralize_star(pattern, colors), colors < 0)
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
    """Color a Jacobian pattern: columns for JVPs (``"fwd"``), rows for VJPs (``"rev"``).

    ``"auto"`` picks the side with fewer colors (forward on ties).

    Args:
        sparsity: (m, n) Jacobian pattern.
        mode: ``"fwd"`` (column coloring, JVPs), ``"rev"`` (row coloring, VJPs) or ``"auto"``.
        order: vertex order (see ``ORDERS``); ``"best"`` tries several.
        seed: seed of the ``"random"`` order.

    Raises:
        InvalidColoringError: never for a valid input; it would mean the computed coloring
            failed the independent check (an internal bug), and nothing is returned.
    """
    _check_jacobian_options(mode, order)
    _check_pattern(sparsity)
    fwd = rev = None
    if mode in ("fwd", "auto"):
        fwd = _columns(sparsity, order, seed)
    if mode in ("rev", "auto"):
        rev = _columns(sparsity.transpose(), order, seed)
    if rev is None or (fwd is not None and fwd[0].max(initial=-1) <= rev[0].max(initial=-1)):
        _warn_if_dense(fwd[0], "column")
        return ColoredPattern(sparsity, fwd[0], "JVP", "column", fwd[1])
    _warn_if_dense(rev[0], "row")
    return ColoredPattern(sparsity, rev[0], "VJP", "row", rev[1])


def hessian_coloring(
    f: Callable,
    input_shape: Any,
    algorithm: str = "star",
    order: str = "largest_first",
    postprocess: bool = True,
    dtype: Any = None,
    seed: int = 0,
) -> ColoredPattern:
    """Detect the Hessian pattern of scalar ``f`` and color it (see
    :func:`hessian_coloring_from_sparsity`).

    Args:
        f: scalar function of one array of shape ``input_shape``.
        input_shape: int, tuple, or a sample array.
    """
    from asdex_pipe.detection import hessian_sparsity

    check_symmetric_options(algorithm, order)
    sparsity = hessian_sparsity(f, input_shape, dtype)
    return hessian_coloring_from_sparsity(sparsity, algorithm, order, postprocess, seed)


def jacobian_coloring(
    f: Callable,
    input_shape: Any,
    mode: str = "auto",
    order: str = "largest_first",
    dtype: Any = None,
    seed: int = 0,
) -> ColoredPattern:
    """Detect the Jacobian pattern of ``f`` and color it (see
    :func:`jacobian_coloring_from_sparsity`)."""
    from asdex_pipe.detection import jacobian_sparsity

    _check_jacobian_options(mode, order)
    mode = jacobian_mode_for(f, input_shape, mode, dtype)
    sparsity = jacobian_sparsity(f, input_shape, dtype)
    return jacobian_coloring_from_sparsity(sparsity, mode, order, seed)
