"""Sparse second derivatives of a constrained program, in the form interior-point solvers take.

For ``min f(x)  s.t.  cl <= c(x) <= cu`` a solver such as IPOPT asks, every iteration, for

* the Hessian of the Lagrangian ``L(x) = obj_factor · f(x) + λ · c(x)`` as the values of a
  **fixed lower-triangle** structure ``(rows, cols)``, ``rows >= cols``;
* the constraint Jacobian ``∂c/∂x`` as the values of a fixed structure.

Nothing here is a second AD engine: the Lagrangian is a function ``L(x, σ, λ)`` whose
multipliers are data arguments, handed to the front door's builders like any user
function. Its Hessian pattern is detected with the data as unknowns
(:func:`asdex_pipe.hessian_sparsity` with ``args=(x, σ, λ), argnums=0``): the x–x block of
the pattern over ``(x, σ, λ)``, i.e. the union of the objective's and every constraint's
Hessian pattern, which no value of the multipliers can leave. The values are
:func:`asdex_pipe.hessian_from_coloring` of ``L`` with ``format="values"``, followed by one
gather of the lower triangle in the same jitted program; the constraint Jacobian is
:func:`asdex_pipe.jacobian` with ``format="values"`` (row-major, IPOPT's order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.coloring import hessian_coloring_from_sparsity
from asdex_pipe.frontdoor import SparseDerivative, hessian_from_coloring, hessian_sparsity
from asdex_pipe.frontdoor.derivative import build, check_options
from asdex_pipe.frontdoor.inputs import normalize_input
from asdex_pipe.indices import index_dtype
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.vocabulary import (
    HVP_MODES,
    ORDERS,
    SEEDS,
    SYMMETRIC_ALGORITHMS,
    check_one_of,
    check_positive_int,
    check_scalar_output,
    scalar_function,
)


# ------------------------------------------------------------------ validation
def _check_callable(fn: Any, what: str) -> None:
    if not callable(fn):
        raise ValueError(f"{what} must be a callable taking one array, got {type(fn).__name__}")


def _sample(shape: tuple[int, ...], dtype: Any) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, dtype if dtype is not None else np.float64)


def _eval_shape(fn: Callable, shape: tuple[int, ...], dtype: Any, what: str) -> Any:
    """``fn``'s abstract output at an input of ``shape`` (64-bit mode on, so a float64
    sample stays float64); ValueError naming ``what`` when it fails."""
    _check_callable(fn, what)
    with jax.enable_x64(True):
        try:
            return jax.eval_shape(fn, _sample(shape, dtype))
        except Exception as exc:
            raise ValueError(
                f"{what} fails on an input of shape {shape}: {type(exc).__name__}: {exc}"
            ) from exc


def num_constraints(c: Callable | None, shape: tuple[int, ...], dtype: Any = None) -> int:
    """Number of constraints ``m`` of ``c`` at inputs of ``shape`` (0 for ``c=None``).

    Traces ``c`` abstractly only (``jax.eval_shape``).

    Raises:
        ValueError: when ``c`` does not return one 1-D floating array (a scalar, a matrix
            or a pytree is refused: solvers take a vector of constraint values).
    """
    if c is None:
        return 0
    return constraint_count(_eval_shape(c, shape, dtype, "the constraint function c"))


def constraint_count(out: Any) -> int:
    """``m`` from the abstract output of a constraint function (``jax.eval_shape``).

    Raises:
        ValueError: when it is not one 1-D floating array.
    """
    if not isinstance(out, jax.ShapeDtypeStruct) or len(out.shape) != 1:
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(
            "the constraint function c must return a 1-D array of constraint values "
            f"(shape (m,)), got {got}; stack scalar constraints with jnp.stack([...])"
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise ValueError(f"the constraint function c must return floats, got dtype {out.dtype}")
    return int(out.shape[0])


def _lagrangian(f: Callable, c: Callable | None) -> Callable:
    """``(x, obj_factor, lagrange) -> obj_factor · f(x) + lagrange · c(x)``."""
    objective = scalar_function(f, "the objective f")

    def lagrangian(x, obj_factor, lagrange):
        value = obj_factor * objective(x)
        if c is None or lagrange.shape[0] == 0:
            return value
        return value + jnp.vdot(lagrange, jnp.ravel(c(x)))

    return lagrangian


def _problem(
    f: Callable, c: Callable | None, input_shape: Any, dtype: Any
) -> tuple[tuple[int, ...], Any, int, tuple[jax.ShapeDtypeStruct, ...]]:
    """``(shape, dtype, m, samples)`` of a constrained program, checked before any detection:
    ``f`` scalar, ``c`` vector-valued; ``samples`` are ``(x, obj_factor, lagrange)``."""
    shape, dt = normalize_input(input_shape, dtype)
    check_scalar_output(_eval_shape(f, shape, dt, "the objective f"), "the objective f")
    m = num_constraints(c, shape, dt)
    samples = (_sample(shape, dt), _sample((), dt), _sample((m,), dt))
    return shape, dt, m, samples


# ------------------------------------------------------------------ Lagrangian Hessian
def lagrangian_sparsity(
    f: Callable, c: Callable | None, input_shape: Any, dtype: Any = None
) -> SparsityPattern:
    """Hessian pattern of the Lagrangian, valid for every objective factor and multiplier.

    The Hessian pattern of ``L(x, σ, λ) = σ f(x) + λ · c(x)`` over ``x`` with ``σ`` and
    ``λ`` as data (unknowns to the detector): the union of the Hessian patterns of ``f``
    and of every ``c_i``, in one detection.

    Args:
        f: scalar objective of one array of shape ``input_shape``.
        c: constraint function returning a 1-D array of ``m`` values, or None.
        input_shape: int, tuple of ints, or a sample array.
        dtype: detection dtype (default: float64 where ``f`` and ``c`` trace at it).

    Returns:
        Symmetric (n, n) :class:`SparsityPattern`, ``n = prod(input_shape)``, recording
        the Lagrangian's input structure.

    Raises:
        ValueError: for a non-scalar ``f``, a ``c`` that is not vector-valued, or a
            malformed ``input_shape``.
    """
    _, dt, _, samples = _problem(f, c, input_shape, dtype)
    return hessian_sparsity(_lagrangian(f, c), args=samples, argnums=0, dtype=dt)


def lower_triangle(pattern: SparsityPattern) -> SparsityPattern:
    """The entries ``rows >= cols`` of a square pattern, in row-major order."""
    keep = pattern.rows >= pattern.cols
    return SparsityPattern.from_coo(pattern.rows[keep], pattern.cols[keep], pattern.shape)


@dataclass
class LagrangianHessian:
    """The Hessian of the Lagrangian on a fixed lower-triangle structure.

    Attributes:
        rows, cols: (nnz,) int32 host arrays, ``rows >= cols``, sorted row-major (IPOPT's
            ``hessianstructure``).
        shape: (n, n).
        coloring: the ``HVP`` coloring of the full symmetric Lagrangian pattern.
        mode: HVP mode used by :meth:`values`.
        input_shape: the shape ``x`` must have.
        num_constraints: ``m``, the length of ``lagrange``.
        derivative: the full Hessian's values function
            (:func:`asdex_pipe.hessian_from_coloring` of the Lagrangian, ``format="values"``).
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    coloring: ColoredPattern
    mode: str
    input_shape: tuple[int, ...]
    num_constraints: int
    derivative: SparseDerivative = field(repr=False)
    _lower: jax.Array = field(repr=False)
    _program: Callable | None = field(default=None, repr=False)

    @property
    def nnz(self) -> int:
        """Number of lower-triangle entries (the length of :meth:`values`)."""
        return int(self.rows.shape[0])

    @property
    def num_colors(self) -> int:
        """Hessian-vector products per evaluation."""
        return self.coloring.num_colors

    def values(self, x: Any, obj_factor: Any, lagrange: Any) -> jax.Array:
        """Lower-triangle values of ``obj_factor · ∇²f(x) + Σ_i lagrange_i ∇²c_i(x)``.

        Args:
            x: point of shape ``input_shape`` (and the dtype the Hessian was built for).
            obj_factor: scalar weight of the objective.
            lagrange: (m,) constraint multipliers.

        Returns:
            (nnz,) values in the order of ``rows``, ``cols``: the products, their
            decompression and the lower-triangle gather in one jitted program (works under
            the caller's ``jax.jit`` too).

        Raises:
            ValueError: ``x``, ``obj_factor`` or ``lagrange`` of another shape or dtype.
        """
        x = x if isinstance(x, jax.Array) else jnp.asarray(x)
        obj_factor = jnp.asarray(obj_factor, dtype=x.dtype)
        lagrange = jnp.asarray(lagrange, dtype=x.dtype)
        # Checked here, where the names are known, not deep inside the program's trace.
        if tuple(x.shape) != self.input_shape:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected {self.input_shape}")
        if lagrange.shape != (self.num_constraints,):
            raise ValueError(
                f"lagrange must have shape ({self.num_constraints},), got {lagrange.shape}"
            )
        if obj_factor.shape != ():
            raise ValueError(f"obj_factor must be a scalar, got shape {obj_factor.shape}")
        if self._program is None:
            derivative, lower = self.derivative, self._lower
            self._program = jax.jit(lambda *a: derivative(*a)[lower])
        return self._program(x, obj_factor, lagrange)


def lagrangian_hessian_from_coloring(
    f: Callable,
    c: Callable | None,
    coloring: ColoredPattern,
    input_shape: Any,
    *,
    mode: str = "fwd_over_rev",
    chunk_size: int | None = None,
    seeds: str = "auto",
    dtype: Any = None,
) -> LagrangianHessian:
    """Lagrangian Hessian from an existing ``HVP`` coloring of the Lagrangian pattern.

    The coloring's pattern must contain the Hessian pattern of the Lagrangian for every
    multiplier (e.g. from :func:`lagrangian_sparsity`, or a stored artifact of it; a
    detected coloring of another function raises ``PatternMismatchError``).

    Args:
        f: scalar objective of one array of shape ``input_shape``.
        c: constraint function returning (m,) values, or None.
        coloring: symmetric (``HVP``) coloring, (n, n).
        input_shape: int, tuple, or a sample array (n elements).
        mode: HVP mode, ``"fwd_over_rev"``, ``"rev_over_fwd"`` or ``"rev_over_rev"``.
        chunk_size: at most this many HVPs at once (None: all colors at once).
        seeds: as in :func:`asdex_pipe.hessian_from_coloring`.
        dtype: the dtype ``x`` will have (default float64).

    Returns:
        A :class:`LagrangianHessian`.
    """
    check_one_of(mode, HVP_MODES, "mode")
    check_one_of(seeds, SEEDS, "seeds")
    check_positive_int(chunk_size, "chunk_size", allow_none=True)
    if not isinstance(coloring, ColoredPattern) or coloring.mode != "HVP":
        raise ValueError(
            "lagrangian_hessian_from_coloring needs an HVP (symmetric) coloring, got "
            f"{getattr(coloring, 'mode', type(coloring).__name__)}"
        )
    shape, _, m, samples = _problem(f, c, input_shape, dtype)
    n = math.prod(shape)
    if coloring.shape != (n, n):
        raise ValueError(
            f"the coloring has shape {coloring.shape} but input_shape {shape} has {n} elements"
        )
    derivative = hessian_from_coloring(
        _lagrangian(f, c), coloring, mode, "values", chunk_size, args=samples, argnums=0,
        seeds=seeds,
    )  # fmt: skip
    s = coloring.sparsity
    lower = np.flatnonzero(s.rows >= s.cols)
    idx = index_dtype(n)
    return LagrangianHessian(
        rows=s.rows[lower].astype(idx),
        cols=s.cols[lower].astype(idx),
        shape=(n, n),
        coloring=coloring,
        mode=mode,
        input_shape=shape,
        num_constraints=m,
        derivative=derivative,
        _lower=jnp.asarray(lower.astype(index_dtype(s.nnz))),
    )


def lagrangian_hessian(
    f: Callable,
    c: Callable | None,
    input_shape: Any,
    *,
    algorithm: str = "star",
    order: str = "largest_first",
    mode: str = "fwd_over_rev",
    dtype: Any = None,
    chunk_size: int | None = None,
    seeds: str = "auto",
) -> LagrangianHessian:
    """Detect, color and evaluate the Hessian of the Lagrangian on a fixed lower triangle.

    ``L(x) = obj_factor · f(x) + lagrange · c(x)``; one pattern, found in one detection,
    serves every ``obj_factor`` and ``lagrange`` (see :func:`lagrangian_sparsity`).

    Args:
        f: scalar objective of one array of shape ``input_shape``.
        c: constraint function returning a 1-D array of ``m`` values, or None.
        input_shape: int, tuple of ints, or a sample array (its shape).
        algorithm: ``"star"`` (direct decompression) or ``"acyclic"`` (fewer colors,
            substitution).
        order: vertex order of the coloring.
        mode: HVP mode.
        dtype: detection dtype and the dtype ``x`` will have (default float64).
        chunk_size: at most this many HVPs at once.
        seeds: see :func:`lagrangian_hessian_from_coloring`.

    Returns:
        A :class:`LagrangianHessian` with ``rows``, ``cols`` and ``values(x, obj_factor,
        lagrange)``.

    Raises:
        ValueError: for bad options (checked before detection), a non-scalar ``f`` or a
            ``c`` that is not vector-valued.
    """
    check_one_of(mode, HVP_MODES, "mode")
    check_one_of(algorithm, SYMMETRIC_ALGORITHMS, "algorithm")
    check_one_of(order, ORDERS, "order")
    check_positive_int(chunk_size, "chunk_size", allow_none=True)
    check_one_of(seeds, SEEDS, "seeds")
    sparsity = lagrangian_sparsity(f, c, input_shape, dtype)
    coloring = hessian_coloring_from_sparsity(sparsity, algorithm=algorithm, order=order)
    return lagrangian_hessian_from_coloring(
        f, c, coloring, input_shape, mode=mode, chunk_size=chunk_size, seeds=seeds, dtype=dtype
    )


# ------------------------------------------------------------------ constraint Jacobian
@dataclass(frozen=True)
class ConstraintJacobian:
    """The constraint Jacobian on a fixed structure.

    Attributes:
        rows, cols: (nnz,) int32 host arrays, row-major (IPOPT's ``jacobianstructure``).
        shape: (m, n).
        coloring: the column (``JVP``), row (``VJP``) or bidirectional coloring used.
        input_shape: the shape ``x`` must have.
        derivative: the values function (:func:`asdex_pipe.jacobian`, ``format="values"``).
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    coloring: ColoredPattern
    input_shape: tuple[int, ...]
    derivative: SparseDerivative = field(repr=False)

    @property
    def nnz(self) -> int:
        """Number of structural nonzeros (the length of :meth:`values`)."""
        return int(self.rows.shape[0])

    @property
    def num_colors(self) -> int:
        """JVPs or VJPs per evaluation."""
        return self.coloring.num_colors

    def values(self, x: Any) -> jax.Array:
        """Jacobian values (nnz,) at ``x`` in the order of ``rows``, ``cols``; one jitted
        program."""
        return self.derivative(x)


def constraint_jacobian(
    c: Callable,
    input_shape: Any,
    *,
    mode: str = "auto",
    order: str = "largest_first",
    dtype: Any = None,
    chunk_size: int | None = None,
) -> ConstraintJacobian:
    """Detect, color and evaluate the Jacobian of vector-valued ``c`` on a fixed structure.

    Args:
        c: function of one array of shape ``input_shape`` returning (m,) values.
        input_shape: int, tuple of ints, or a sample array.
        mode: ``"fwd"`` (column coloring, JVPs), ``"rev"`` (row coloring, VJPs),
            ``"bidirectional"`` (both) or ``"auto"`` (whichever needs fewer products).
        order: vertex order of the coloring.
        dtype: detection dtype.
        chunk_size: at most this many products at once.

    Returns:
        A :class:`ConstraintJacobian` with ``rows``, ``cols`` and ``values(x)``.

    Raises:
        ValueError: for a ``c`` that is not vector-valued or bad options.
    """
    if c is None:
        raise ValueError("constraint_jacobian needs a constraint function, got None")
    options = check_options("jacobian", mode, "values", chunk_size, order=order)
    shape, dt = normalize_input(input_shape, dtype)
    m = num_constraints(c, shape, dt)
    n = math.prod(shape)
    derivative = build(options, c, input_shape=shape, dtype=dt, what="constraint_jacobian")
    s = derivative.coloring.sparsity
    idx = index_dtype(max(m, n))
    return ConstraintJacobian(
        rows=s.rows.astype(idx),
        cols=s.cols.astype(idx),
        shape=(m, n),
        coloring=derivative.coloring,
        input_shape=shape,
        derivative=derivative,
    )
