"""Sparse second derivatives of a constrained program, in the form interior-point solvers take.

For ``min f(x)  s.t.  cl <= c(x) <= cu`` a solver such as IPOPT asks, every iteration, for

* the Hessian of the Lagrangian ``L(x) = obj_factor · f(x) + λ · c(x)`` as the values of a
  **fixed lower-triangle** structure ``(rows, cols)``, ``rows >= cols``;
* the constraint Jacobian ``∂c/∂x`` as the values of a fixed structure.

The structures are fixed once, so the Hessian pattern must hold for every ``obj_factor``
and ``λ``. It is found in one detection: the Hessian pattern of the augmented function
``z = (x, σ, λ) -> σ f(x) + λ · c(x)`` restricted to its x–x block. Detection propagates
dependencies, so that block is the union of the objective's and every constraint's Hessian
pattern, and no value of the multipliers can put a nonzero outside it.

That pattern is colored (star or acyclic) once; the values are then one batch of compressed
Hessian-vector products of the Lagrangian at the given multipliers plus gathers, all in one
jitted program.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.coloring import hessian_coloring_from_sparsity, jacobian_coloring_from_sparsity
from asdex_pipe.coloring.api import check_symmetric_options
from asdex_pipe.detection import hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection.api import normalize_input
from asdex_pipe.differentiation.builder import AUTO_SEEDS_MIN_N
from asdex_pipe.differentiation.compress import (
    check_chunk_size,
    hvp_products,
    jacobian_products,
)
from asdex_pipe.differentiation.hvp import check_mode
from asdex_pipe.differentiation.plans import apply_plan, device_colors, device_plan
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.vocabulary import SEEDS, check_one_of


# ------------------------------------------------------------------ validation
def _check_callable(fn: Any, what: str) -> None:
    if not callable(fn):
        raise ValueError(f"{what} must be a callable taking one array, got {type(fn).__name__}")


def _sample(shape: tuple[int, ...], dtype: Any) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, dtype if dtype is not None else np.float64)


def num_constraints(c: Callable | None, shape: tuple[int, ...], dtype: Any = None) -> int:
    """Number of constraints ``m`` of ``c`` at inputs of ``shape`` (0 for ``c=None``).

    Traces ``c`` abstractly only (``jax.eval_shape``, under 64-bit mode so a float64
    sample stays float64).

    Raises:
        ValueError: when ``c`` does not return one 1-D floating array (a scalar, a matrix
            or a pytree is refused: solvers take a vector of constraint values).
    """
    if c is None:
        return 0
    _check_callable(c, "the constraint function c")
    with jax.enable_x64(True):
        try:
            out = jax.eval_shape(c, _sample(shape, dtype))
        except Exception as exc:
            raise ValueError(
                f"the constraint function c fails on an input of shape {shape}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    if not isinstance(out, jax.ShapeDtypeStruct) or len(out.shape) != 1:
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(
            "the constraint function c must return a 1-D array of constraint values "
            f"(shape (m,)), got {got}; stack scalar constraints with jnp.stack([...])"
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise ValueError(f"the constraint function c must return floats, got dtype {out.dtype}")
    return int(out.shape[0])


def _check_scalar_objective(f: Callable, shape: tuple[int, ...], dtype: Any) -> None:
    _check_callable(f, "the objective f")
    with jax.enable_x64(True):
        try:
            out = jax.eval_shape(f, _sample(shape, dtype))
        except Exception as exc:
            raise ValueError(
                f"the objective f fails on an input of shape {shape}: {type(exc).__name__}: {exc}"
            ) from exc
    if not isinstance(out, jax.ShapeDtypeStruct) or math.prod(out.shape) != 1:
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(f"the objective f must return a scalar, got output of shape {got}")


def _flat_constraints(c: Callable | None) -> Callable:
    if c is None:
        return lambda y: jnp.zeros((0,), y.dtype)
    return lambda y: jnp.ravel(c(y))


def _lagrangian(f: Callable, c: Callable | None) -> Callable:
    """``(x, obj_factor, lagrange) -> obj_factor · f(x) + lagrange · c(x)``."""
    c_flat = _flat_constraints(c)

    def lagrangian(x, obj_factor, lagrange):
        value = obj_factor * jnp.reshape(f(x), ())
        if lagrange.shape[0] == 0:
            return value
        return value + jnp.vdot(lagrange, c_flat(x))

    return lagrangian


def _resolve_seeds(seeds: str, n: int) -> str:
    if seeds == "auto":
        return "indexed" if n >= AUTO_SEEDS_MIN_N else "constant"
    return seeds


def _check_point(x: Any, shape: tuple[int, ...], what: str) -> jax.Array:
    if not isinstance(x, jax.Array):
        x = jnp.asarray(x)
    if tuple(x.shape) != shape:
        raise ValueError(f"{what}: x has shape {tuple(x.shape)}, expected {shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{what}: x must be a floating-point array, got dtype {x.dtype}")
    return x


# ------------------------------------------------------------------ Lagrangian Hessian
def lagrangian_sparsity(
    f: Callable, c: Callable | None, input_shape: Any, dtype: Any = None
) -> SparsityPattern:
    """Hessian pattern of the Lagrangian, valid for every objective factor and multiplier.

    Detects the Hessian pattern of ``z = (x, σ, λ) -> σ f(x) + λ · c(x)`` once and keeps
    its x–x block: the union of the Hessian patterns of ``f`` and of every ``c_i``.

    Args:
        f: scalar objective of one array of shape ``input_shape``.
        c: constraint function returning a 1-D array of ``m`` values, or None.
        input_shape: int, tuple of ints, or a sample array.
        dtype: detection dtype (default: float64 where ``f`` and ``c`` trace at it).

    Returns:
        Symmetric (n, n) :class:`SparsityPattern`, ``n = prod(input_shape)``.

    Raises:
        ValueError: for a non-scalar ``f``, a ``c`` that is not vector-valued, or a
            malformed ``input_shape``.
    """
    shape, dt = normalize_input(input_shape, dtype)
    _check_scalar_objective(f, shape, dt)
    m = num_constraints(c, shape, dt)
    n = math.prod(shape)
    lagrangian = _lagrangian(f, c)

    def augmented(z):
        x = z[:n].reshape(shape)
        return lagrangian(x, z[n], z[n + 1 :])

    full = hessian_sparsity(augmented, (n + 1 + m,), dtype=dt)
    keep = (full.rows < n) & (full.cols < n)
    return SparsityPattern.from_coo(full.rows[keep], full.cols[keep], (n, n))


def lower_triangle(pattern: SparsityPattern) -> SparsityPattern:
    """The entries ``rows >= cols`` of a square pattern, in row-major order."""
    keep = pattern.rows >= pattern.cols
    return SparsityPattern.from_coo(pattern.rows[keep], pattern.cols[keep], pattern.shape)


@dataclass(frozen=True)
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
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    coloring: ColoredPattern
    mode: str
    input_shape: tuple[int, ...]
    num_constraints: int
    _program: Callable = field(repr=False)
    _arrays: dict[str, jax.Array] = field(repr=False)

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
            x: point of shape ``input_shape``.
            obj_factor: scalar weight of the objective.
            lagrange: (m,) constraint multipliers.

        Returns:
            (nnz,) values in the order of ``rows``, ``cols``; one jitted program (works
            under the caller's ``jax.jit`` too).
        """
        x = _check_point(x, self.input_shape, "LagrangianHessian.values")
        lagrange = jnp.asarray(lagrange, dtype=x.dtype)
        if lagrange.shape != (self.num_constraints,):
            raise ValueError(
                f"lagrange must have shape ({self.num_constraints},), got {lagrange.shape}"
            )
        obj_factor = jnp.asarray(obj_factor, dtype=x.dtype)
        if obj_factor.shape != ():
            raise ValueError(f"obj_factor must be a scalar, got shape {obj_factor.shape}")
        return self._program(x, obj_factor, lagrange, self._arrays)


def lagrangian_hessian_from_coloring(
    f: Callable,
    c: Callable | None,
    coloring: ColoredPattern,
    input_shape: Any,
    *,
    mode: str = "fwd_over_rev",
    chunk_size: int | None = None,
    seeds: str = "auto",
) -> LagrangianHessian:
    """Lagrangian Hessian from an existing ``HVP`` coloring of the Lagrangian pattern.

    The coloring's pattern must contain the Hessian pattern of the Lagrangian for every
    multiplier (e.g. from :func:`lagrangian_sparsity`, or a stored artifact of it).

    Args:
        f: scalar objective of one array of shape ``input_shape``.
        c: constraint function returning (m,) values, or None.
        coloring: symmetric (``HVP``) coloring, (n, n).
        input_shape: int, tuple, or a sample array (n elements).
        mode: HVP mode, ``"fwd_over_rev"``, ``"rev_over_fwd"`` or ``"rev_over_rev"``.
        chunk_size: at most this many HVPs at once (None: all colors at once).
        seeds: ``"constant"`` (seeds compiled in), ``"indexed"`` (built from an int8 color
            array), or ``"auto"`` (indexed from n = 10^4 on).

    Returns:
        A :class:`LagrangianHessian`.
    """
    check_mode(mode)
    check_one_of(seeds, SEEDS, "seeds")
    chunk = check_chunk_size(chunk_size)
    if not isinstance(coloring, ColoredPattern) or coloring.mode != "HVP":
        raise ValueError(
            "lagrangian_hessian_from_coloring needs an HVP (symmetric) coloring, got "
            f"{getattr(coloring, 'mode', type(coloring).__name__)}"
        )
    shape, dt = normalize_input(input_shape, None)
    n = math.prod(shape)
    if coloring.shape != (n, n):
        raise ValueError(
            f"the coloring has shape {coloring.shape} but input_shape {shape} has {n} elements"
        )
    _check_scalar_objective(f, shape, dt)
    m = num_constraints(c, shape, dt)
    # Colors were found on the full symmetric pattern; decompression plans symmetrize
    # whatever pattern they are given, so planning on the lower triangle reads exactly its
    # entries, already in IPOPT's (rows >= cols) form.
    lower = lower_triangle(coloring.sparsity)
    lower_coloring = ColoredPattern(
        lower, coloring.colors, "HVP", coloring.algorithm, coloring.order
    )
    plan = device_plan(lower_coloring, n)
    kind = plan["kind"]
    arrays = {k: jnp.asarray(v) for k, v in plan.items() if k != "kind"}
    k = coloring.num_colors
    host_colors = np.asarray(coloring.colors)
    indexed = _resolve_seeds(seeds, n) == "indexed"
    if indexed:
        arrays["colors"] = device_colors(coloring)
    lagrangian = _lagrangian(f, c)

    @jax.jit
    def program(x, obj_factor, lagrange, arrays):
        def lag(y):
            return lagrangian(y, obj_factor, lagrange)

        colors = arrays["colors"] if indexed else host_colors
        _, b = hvp_products(lag, x, colors, k, mode, chunk, with_value=False)
        return apply_plan(kind, arrays, b)

    idx = np.int32 if n < 2**31 - 1 else np.int64
    return LagrangianHessian(
        rows=lower.rows.astype(idx),
        cols=lower.cols.astype(idx),
        shape=(n, n),
        coloring=coloring,
        mode=mode,
        input_shape=shape,
        num_constraints=m,
        _program=program,
        _arrays=arrays,
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
        dtype: detection dtype (default float64 where possible).
        chunk_size: at most this many HVPs at once.
        seeds: see :func:`lagrangian_hessian_from_coloring`.

    Returns:
        A :class:`LagrangianHessian` with ``rows``, ``cols`` and ``values(x, obj_factor,
        lagrange)``.

    Raises:
        ValueError: for bad options (checked before detection), a non-scalar ``f`` or a
            ``c`` that is not vector-valued.
    """
    check_mode(mode)
    check_symmetric_options(algorithm, order)
    check_chunk_size(chunk_size)
    check_one_of(seeds, SEEDS, "seeds")
    sparsity = lagrangian_sparsity(f, c, input_shape, dtype)
    coloring = hessian_coloring_from_sparsity(sparsity, algorithm=algorithm, order=order)
    return lagrangian_hessian_from_coloring(
        f, c, coloring, input_shape, mode=mode, chunk_size=chunk_size, seeds=seeds
    )


# ------------------------------------------------------------------ constraint Jacobian
@dataclass(frozen=True)
class ConstraintJacobian:
    """The constraint Jacobian on a fixed structure.

    Attributes:
        rows, cols: (nnz,) int32 host arrays, row-major (IPOPT's ``jacobianstructure``).
        shape: (m, n).
        coloring: the column (``JVP``) or row (``VJP``) coloring used.
        input_shape: the shape ``x`` must have.
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]
    coloring: ColoredPattern
    input_shape: tuple[int, ...]
    _program: Callable = field(repr=False)
    _arrays: dict[str, jax.Array] = field(repr=False)

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
        x = _check_point(x, self.input_shape, "ConstraintJacobian.values")
        return self._program(x, self._arrays)


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
    chunk = check_chunk_size(chunk_size)
    shape, dt = normalize_input(input_shape, dtype)
    m = num_constraints(c, shape, dt)
    if c is None:
        raise ValueError("constraint_jacobian needs a constraint function, got None")
    n = math.prod(shape)
    sparsity = jacobian_sparsity(c, shape, dtype=dt)
    coloring = jacobian_coloring_from_sparsity(sparsity, mode=mode, order=order)
    plan = device_plan(coloring, m if coloring.mode == "JVP" else n)
    kind = plan["kind"]
    arrays = {key: jnp.asarray(v) for key, v in plan.items() if key != "kind"}
    k = coloring.num_colors
    host_colors = np.asarray(coloring.colors)

    def c_flat(y):
        return jnp.ravel(c(y.reshape(shape)))

    @jax.jit
    def program(x, arrays):
        flat = x.reshape(-1)
        _, b = jacobian_products(c_flat, flat, coloring.mode, host_colors, k, chunk)
        return apply_plan(kind, arrays, b)

    idx = np.int32 if max(m, n) < 2**31 - 1 else np.int64
    return ConstraintJacobian(
        rows=sparsity.rows.astype(idx),
        cols=sparsity.cols.astype(idx),
        shape=(m, n),
        coloring=coloring,
        input_shape=shape,
        _program=program,
        _arrays=arrays,
    )
