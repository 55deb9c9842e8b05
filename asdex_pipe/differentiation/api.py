"""Public sparse Hessian / Jacobian functions.

Every builder does its host work once — plan the decompression, move index arrays to the
device — and returns a function of ``x`` that validates ``x`` (shape, dtype) before any
tracing, then runs one jitted program: batched AD products followed by gathers. The
returned functions compose with ``jax.jit`` and ``jax.vmap`` (except ``format="scipy"``,
which returns a host matrix).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from jax.experimental import sparse as jsparse

from asdex_pipe.coloring.api import COMPLEX_REV, jacobian_mode_for
from asdex_pipe.detection.api import normalize_input
from asdex_pipe.differentiation.compress import (
    check_chunk_size,
    hvp_products,
    jvp_products,
    vjp_products,
)
from asdex_pipe.differentiation.hvp import check_mode
from asdex_pipe.differentiation.plans import apply_plan, device_plan
from asdex_pipe.pattern import ColoredPattern

FORMATS = ("bcoo", "dense", "scipy")
SEEDS = ("auto", "constant", "indexed")
# Below this many inputs an evaluation takes microseconds: "auto" does not spend a second
# compilation on choosing the seed variant and uses "constant".
AUTO_SEEDS_MIN_N = 10_000
JACOBIAN_MODES = ("auto", "fwd", "rev")


# ------------------------------------------------------------------ validation
def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    return format


def _check_seeds(seeds: str) -> str:
    if seeds not in SEEDS:
        raise ValueError(f"seeds must be one of {SEEDS}, got {seeds!r}")
    return seeds


def normalize_shape(input_shape: Any) -> tuple[int, ...]:
    """``input_shape`` (int ``n`` meaning ``(n,)``, tuple of ints, or a sample array, as in
    detection) as a tuple of non-negative ints."""
    return normalize_input(input_shape, None)[0]


def _check_coloring(coloring: Any, allowed: tuple[str, ...], what: str) -> ColoredPattern:
    if not isinstance(coloring, ColoredPattern):
        raise ValueError(f"{what} expects a ColoredPattern, got {type(coloring).__name__}")
    if coloring.mode not in allowed:
        source = "hessian_coloring" if "HVP" in allowed else "jacobian_coloring"
        raise ValueError(
            f"{what} needs a coloring of mode {' or '.join(allowed)} (from {source}), "
            f"got a {coloring.mode} coloring of shape {coloring.shape}"
        )
    return coloring


def _check_x(
    x: Any,
    n: int,
    input_shape: tuple[int, ...] | None,
    dtype: Any,
    pattern_shape: tuple[int, int],
) -> jax.Array:
    """Validate ``x`` against the coloring before any tracing; return it as an array."""
    if not isinstance(x, jax.Array):
        try:
            x = jnp.asarray(x)
        except (TypeError, ValueError):
            raise ValueError(
                f"x must be an array of {n} floating-point values, got {type(x).__name__}"
            ) from None
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"x must be a floating-point array, got dtype {x.dtype} (shape {x.shape})")
    if input_shape is not None and tuple(x.shape) != input_shape:
        raise ValueError(
            f"x has shape {tuple(x.shape)} but the function was built for input_shape "
            f"{input_shape} (pattern shape {pattern_shape})"
        )
    if math.prod(x.shape) != n:
        raise ValueError(
            f"x has shape {tuple(x.shape)} ({math.prod(x.shape)} elements) but the coloring "
            f"has pattern shape {pattern_shape}, i.e. {n} inputs"
        )
    if dtype is not None and x.dtype != jnp.dtype(dtype):
        raise ValueError(
            f"x has dtype {x.dtype} (shape {tuple(x.shape)}) but the function was built for "
            f"dtype {jnp.dtype(dtype)}"
        )
    return x


# ------------------------------------------------------------------ assembly
def _scatter_dense(values: jax.Array, idx: jax.Array, shape: tuple[int, int]) -> jax.Array:
    out = jnp.zeros(shape, values.dtype)
    return out.at[idx[:, 0], idx[:, 1]].set(
        values, indices_are_sorted=True, unique_indices=True, mode="promise_in_bounds"
    )


class _Evaluator:
    """Holds the device-side plan and the jitted program for one coloring.

    The jitted program returns only the nonzero values; the BCOO is wrapped around them
    outside, with index arrays that live on the device once. Returning the indices from
    the program would copy 2 × nnz integers per call (twice the values' own traffic).
    """

    def __init__(
        self,
        coloring: ColoredPattern,
        length: int,
        format: str,
        input_shape: tuple[int, ...] | None,
        dtype: Any,
        body: Callable,
        with_value: bool,
        seeds: str = "constant",
    ):
        plan = device_plan(coloring, length)
        kind = plan["kind"]
        s = coloring.sparsity
        shape = s.shape
        self.shape = shape
        self.n = s.shape[1]
        self.format = format
        self.input_shape = input_shape
        self.dtype = dtype
        self.with_value = with_value
        self.coloring = coloring
        idx_dtype = np.int32 if max(s.shape) < 2**31 - 1 else np.int64
        self.indices = jnp.asarray(np.stack([s.rows, s.cols], axis=1).astype(idx_dtype))
        self.arrays = {k: jnp.asarray(v) for k, v in plan.items() if k != "kind"}
        colors = np.asarray(coloring.colors)
        if seeds == "auto" and self.n < AUTO_SEEDS_MIN_N:
            seeds = "constant"
        if seeds != "constant":
            k = coloring.num_colors
            id_dtype = np.int8 if k < 2**7 else np.int16 if k < 2**15 else np.int32
            self.arrays["colors"] = jnp.asarray(colors.astype(id_dtype))
        if format == "dense":
            self.arrays["indices"] = self.indices
        # BCOO's constructor validates its arguments (~0.1 ms per call, as much as a whole
        # n = 1000 evaluation); unflattening a stored tree structure skips that.
        self._bcoo_tree = jax.tree.structure(
            jsparse.BCOO(
                (jnp.zeros(s.nnz, jnp.float32), self.indices),
                shape=shape,
                indices_sorted=True,
                unique_indices=True,
            )
        )

        def make_program(indexed: bool) -> Callable:
            def program(x, arrays):
                value, b = body(x, arrays["colors"] if indexed else colors)
                values = apply_plan(kind, arrays, b)
                if format == "dense":
                    return value, _scatter_dense(values, arrays["indices"], shape)
                return value, values

            return jax.jit(program)

        # "constant" seeds are compile-time constants (see seed_matrix): XLA folds their
        # seed-only work, a large gain when the function has quadratic parts (PDE energy,
        # 10^6 unknowns: 47 ms against 86 ms indexed). "indexed" seeds are built in the
        # program from an int8 color array: no k × n constants to stream, a gain for cheap
        # functions (Rosenbrock at 10^6: 2.0 ms against 3.4 ms). Neither wins everywhere,
        # so "auto" times both on the first call and keeps the faster.
        self.programs = {
            name: make_program(name == "indexed")
            for name in ("constant", "indexed")
            if seeds in (name, "auto")
        }
        self.seeds = seeds
        self.seed_timings: dict[str, float] = {}

    @property
    def program(self) -> Callable:
        """The jitted program ``(x, arrays) -> (value, values)`` in use ("constant" seeds
        until an ``"auto"`` evaluator has been tuned)."""
        return self.programs["constant" if self.seeds == "auto" else self.seeds]

    def _tune(self, x: jax.Array) -> None:
        """Time both seed variants on ``x`` (after compiling each) and keep the faster."""
        for program in self.programs.values():
            jax.block_until_ready(program(x, self.arrays))
        timings = {name: float("inf") for name in self.programs}
        for _ in range(3):  # interleaved, best of three: robust to a busy machine
            for name, program in self.programs.items():
                t0 = time.perf_counter()
                jax.block_until_ready(program(x, self.arrays))
                timings[name] = min(timings[name], time.perf_counter() - t0)
        self.seed_timings = timings
        self.seeds = min(timings, key=timings.__getitem__)
        self.programs = {self.seeds: self.programs[self.seeds]}

    def __call__(self, x: Any) -> Any:
        x = _check_x(x, self.n, self.input_shape, self.dtype, self.shape)
        if self.format == "scipy" and isinstance(x, jax.core.Tracer):
            raise ValueError(
                "format='scipy' builds a host matrix and cannot run under jax.jit/vmap; "
                "use format='bcoo' or 'dense' there"
            )
        if self.seeds == "auto" and not isinstance(x, jax.core.Tracer):
            self._tune(x)
        value, out = self.program(x, self.arrays)
        if self.format == "bcoo":
            out = jax.tree.unflatten(self._bcoo_tree, [out, self.indices])
        elif self.format == "scipy":
            s = self.coloring.sparsity
            out = sp.csr_array((np.asarray(out), s.cols, s.indptr), shape=s.shape)
        return (value, out) if self.with_value else out


# ------------------------------------------------------------------- Hessians
def _hessian_evaluator(
    f: Callable,
    coloring: ColoredPattern,
    mode: str,
    format: str,
    chunk_size: int | None,
    input_shape: tuple[int, ...] | None,
    dtype: Any,
    with_value: bool,
    what: str,
    seeds: str,
) -> _Evaluator:
    _check_coloring(coloring, ("HVP",), what)
    check_mode(mode)
    _check_format(format)
    _check_seeds(seeds)
    chunk = check_chunk_size(chunk_size)
    n = coloring.shape[1]
    if input_shape is not None and math.prod(input_shape) != n:
        raise ValueError(
            f"input_shape {input_shape} has {math.prod(input_shape)} elements but the "
            f"coloring has pattern shape {coloring.shape}"
        )
    k = coloring.num_colors

    def body(x, colors):
        return hvp_products(f, x, colors, k, mode, chunk, with_value)

    return _Evaluator(coloring, n, format, input_shape, dtype, body, with_value, seeds)


def hessian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    mode: str = "fwd_over_rev",
    format: str = "bcoo",
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    seeds: str = "auto",
) -> Callable:
    """Sparse Hessian function from a precomputed ``HVP`` coloring.

    Args:
        f: scalar function of one array of ``n`` elements (any shape).
        coloring: ``ColoredPattern`` of mode ``HVP``, (n, n).
        mode: HVP mode, one of ``HVP_MODES``.
        format: ``"bcoo"`` (jit-able, entries in the pattern's row-major order),
            ``"dense"`` (n, n) array, or ``"scipy"`` (CSR, outside jit).
        chunk_size: at most this many HVPs at once (None: all colors at once).
        input_shape: optional shape ``x`` must have (otherwise any shape of n elements).
        dtype: optional dtype ``x`` must have.
        seeds: ``"constant"`` (seed vectors compiled into the program, which lets XLA
            fold their share of the work), ``"indexed"`` (built in the program from the
            colors; cheaper for cheap functions), or ``"auto"``: from n = 10^4 inputs
            on, the first call made outside ``jax.jit``/``vmap`` compiles and times both
            and keeps the faster (the choice and timings are in ``.seeds`` /
            ``.seed_timings``); smaller problems use ``"constant"``.

    Returns:
        ``x -> H`` with ``H`` of shape (n, n).

    Raises:
        ValueError: wrong coloring mode, unknown mode/format, bad chunk_size, or a
            coloring that cannot recover its pattern; the returned function raises
            ValueError for an ``x`` whose shape or dtype does not fit.
    """
    shape = None if input_shape is None else normalize_shape(input_shape)
    return _hessian_evaluator(
        f, coloring, mode, format, chunk_size, shape, dtype, False, "hessian_from_coloring", seeds
    )


def value_and_hessian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    mode: str = "fwd_over_rev",
    format: str = "bcoo",
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    seeds: str = "auto",
) -> Callable:
    """Like :func:`hessian_from_coloring` but ``x -> (f(x), H)``.

    ``f(x)`` comes from the primal computation the HVPs already perform (no extra
    forward pass).
    """
    shape = None if input_shape is None else normalize_shape(input_shape)
    return _hessian_evaluator(
        f,
        coloring,
        mode,
        format,
        chunk_size,
        shape,
        dtype,
        True,
        "value_and_hessian_from_coloring",
        seeds,
    )


def _hessian_coloring_for(
    f: Callable, input_shape: tuple[int, ...], algorithm: str, order: str, dtype: Any
) -> ColoredPattern:
    from asdex_pipe.coloring import hessian_coloring_from_sparsity
    from asdex_pipe.coloring.api import check_symmetric_options
    from asdex_pipe.detection import hessian_sparsity

    check_symmetric_options(algorithm, order)
    sparsity = hessian_sparsity(f, input_shape, dtype=dtype)
    return hessian_coloring_from_sparsity(sparsity, algorithm=algorithm, order=order)


def hessian(
    f: Callable,
    input_shape: Any,
    mode: str = "fwd_over_rev",
    algorithm: str = "star",
    order: str = "largest_first",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
    seeds: str = "auto",
) -> Callable:
    """Detect the Hessian sparsity of ``f``, color it, and return ``x -> H``.

    Args:
        f: scalar function of one array of shape ``input_shape``.
        input_shape: int or tuple; ``n = prod(input_shape)``.
        mode: HVP mode (``"fwd_over_rev"``, ``"rev_over_fwd"``, ``"rev_over_rev"``).
        algorithm: ``"star"`` (direct decompression) or ``"acyclic"`` (fewer colors,
            substitution).
        order: vertex order for the coloring.
        format: ``"bcoo"``, ``"dense"`` or ``"scipy"``.
        chunk_size: at most this many HVPs at once.
        dtype: dtype used for detection and required of ``x`` (None: any float).
        seeds: how seed vectors enter the program; see :func:`hessian_from_coloring`.

    Returns:
        ``x -> H`` of shape (n, n). Detection and coloring run once, here.
    """
    shape = normalize_shape(input_shape)
    check_mode(mode)
    _check_format(format)
    check_chunk_size(chunk_size)
    _check_seeds(seeds)
    coloring = _hessian_coloring_for(f, shape, algorithm, order, dtype)
    return _hessian_evaluator(
        f, coloring, mode, format, chunk_size, shape, dtype, False, "hessian", seeds
    )


def value_and_hessian(
    f: Callable,
    input_shape: Any,
    mode: str = "fwd_over_rev",
    algorithm: str = "star",
    order: str = "largest_first",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
    seeds: str = "auto",
) -> Callable:
    """Like :func:`hessian` but ``x -> (f(x), H)`` without an extra forward pass."""
    shape = normalize_shape(input_shape)
    check_mode(mode)
    _check_format(format)
    check_chunk_size(chunk_size)
    _check_seeds(seeds)
    coloring = _hessian_coloring_for(f, shape, algorithm, order, dtype)
    return _hessian_evaluator(
        f, coloring, mode, format, chunk_size, shape, dtype, True, "value_and_hessian", seeds
    )


# ------------------------------------------------------------------ Jacobians
def flatten_output(f: Callable, x: jax.Array) -> tuple[Callable, Callable, int]:
    """Wrap ``f`` (pytree output) as ``x -> flat vector``; also return unflatten and size.

    Uses ``jax.eval_shape`` only (no computation), so it is cheap at trace time.
    """
    out = jax.eval_shape(f, x)
    leaves, treedef = jax.tree.flatten(out)
    shapes = [tuple(leaf.shape) for leaf in leaves]
    dtypes = [leaf.dtype for leaf in leaves]
    sizes = [math.prod(s) for s in shapes]
    common = jnp.result_type(*dtypes) if dtypes else jnp.float32
    bounds = np.cumsum([0, *sizes])

    def f_flat(y):
        parts = [jnp.ravel(leaf).astype(common) for leaf in jax.tree.leaves(f(y))]
        return jnp.concatenate(parts) if parts else jnp.zeros((0,), common)

    def unflatten(flat):
        parts = [
            flat[bounds[i] : bounds[i + 1]].reshape(shapes[i]).astype(dtypes[i])
            for i in range(len(shapes))
        ]
        return jax.tree.unflatten(treedef, parts)

    return f_flat, unflatten, int(bounds[-1])


def _jacobian_evaluator(
    f: Callable,
    coloring: ColoredPattern,
    format: str,
    chunk_size: int | None,
    input_shape: tuple[int, ...] | None,
    dtype: Any,
    with_value: bool,
    what: str,
) -> _Evaluator:
    _check_coloring(coloring, ("JVP", "VJP"), what)
    _check_format(format)
    chunk = check_chunk_size(chunk_size)
    m, n = coloring.shape
    if input_shape is not None and math.prod(input_shape) != n:
        raise ValueError(
            f"input_shape {input_shape} has {math.prod(input_shape)} elements but the "
            f"coloring has pattern shape {coloring.shape}"
        )
    k = coloring.num_colors
    forward = coloring.mode == "JVP"

    def body(x, colors):
        f_flat, unflatten, size = flatten_output(f, x)
        if size != m:
            raise ValueError(
                f"f returns {size} output elements but the coloring has pattern shape "
                f"{coloring.shape}, i.e. {m} outputs"
            )
        if forward:
            y, b = jvp_products(f_flat, x, colors, k, chunk)
        else:
            y, b = vjp_products(f_flat, x, colors, k, chunk)
            if jnp.iscomplexobj(y):  # known at trace time, before anything runs
                raise ValueError(COMPLEX_REV)
        return (unflatten(y) if with_value else None), b

    return _Evaluator(coloring, m if forward else n, format, input_shape, dtype, body, with_value)


def jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    format: str = "bcoo",
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
) -> Callable:
    """Sparse Jacobian function from a ``JVP`` (column) or ``VJP`` (row) coloring.

    Args:
        f: function of one array of n elements; its output (any pytree) is flattened and
            concatenated into m rows.
        coloring: ``ColoredPattern`` of mode ``JVP`` (products are JVPs) or ``VJP``
            (products are VJPs after one forward pass), shape (m, n).
        format, chunk_size, input_shape, dtype: as in :func:`hessian_from_coloring`.

    Returns:
        ``x -> J`` of shape (m, n).
    """
    shape = None if input_shape is None else normalize_shape(input_shape)
    return _jacobian_evaluator(
        f, coloring, format, chunk_size, shape, dtype, False, "jacobian_from_coloring"
    )


def value_and_jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    format: str = "bcoo",
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
) -> Callable:
    """Like :func:`jacobian_from_coloring` but ``x -> (f(x), J)``; ``f(x)`` keeps its pytree
    structure and comes from the products' primal computation."""
    shape = None if input_shape is None else normalize_shape(input_shape)
    return _jacobian_evaluator(
        f, coloring, format, chunk_size, shape, dtype, True, "value_and_jacobian_from_coloring"
    )


def _jacobian_coloring_for(
    f: Callable, input_shape: tuple[int, ...], mode: str, dtype: Any
) -> ColoredPattern:
    from asdex_pipe.coloring import jacobian_coloring_from_sparsity
    from asdex_pipe.detection import jacobian_sparsity

    sparsity = jacobian_sparsity(f, input_shape, dtype=dtype)
    return jacobian_coloring_from_sparsity(sparsity, mode=mode)


def _check_jacobian_mode(mode: str) -> None:
    if mode not in JACOBIAN_MODES:
        raise ValueError(f"mode must be one of {JACOBIAN_MODES}, got {mode!r}")


def jacobian(
    f: Callable,
    input_shape: Any,
    mode: str = "auto",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
) -> Callable:
    """Detect the Jacobian sparsity of ``f``, color it, and return ``x -> J`` (m, n).

    Args:
        f: function of one array of shape ``input_shape``.
        input_shape: int or tuple.
        mode: ``"fwd"`` (column coloring, JVPs), ``"rev"`` (row coloring, VJPs) or
            ``"auto"`` (whichever needs fewer colors; always forward for complex outputs,
            which ``"rev"`` refuses).
        format, chunk_size, dtype: as in :func:`hessian`.
    """
    shape = normalize_shape(input_shape)
    _check_format(format)
    check_chunk_size(chunk_size)
    _check_jacobian_mode(mode)
    mode = jacobian_mode_for(f, shape, mode, dtype)
    coloring = _jacobian_coloring_for(f, shape, mode, dtype)
    return _jacobian_evaluator(f, coloring, format, chunk_size, shape, dtype, False, "jacobian")


def value_and_jacobian(
    f: Callable,
    input_shape: Any,
    mode: str = "auto",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
) -> Callable:
    """Like :func:`jacobian` but ``x -> (f(x), J)``."""
    shape = normalize_shape(input_shape)
    _check_format(format)
    check_chunk_size(chunk_size)
    _check_jacobian_mode(mode)
    mode = jacobian_mode_for(f, shape, mode, dtype)
    coloring = _jacobian_coloring_for(f, shape, mode, dtype)
    return _jacobian_evaluator(
        f, coloring, format, chunk_size, shape, dtype, True, "value_and_jacobian"
    )
