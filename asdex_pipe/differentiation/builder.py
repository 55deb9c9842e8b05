"""The one builder behind every public sparse Hessian / Jacobian function.

:func:`check_options` checks a builder's options once; :func:`build` resolves the inputs
through the front door (:mod:`asdex_pipe.arguments`), detects and colors unless a coloring
is given, and returns a :class:`SparseDerivative`. That object does its host work once
(plans the decompression, moves index arrays to the device) and, per call, splits the
arguments into the flat vector ``x`` and the data leaves, runs one jitted program (batched
AD products, then gathers) and wraps the values in the requested format and structure. It
composes with ``jax.jit`` and ``jax.vmap`` (except ``format="scipy"``, a host matrix).

Seed tuning is explicit: :meth:`SparseDerivative.tune_seeds` compiles and times both seed
variants and keeps the faster; ``seeds="auto"`` calls it on the first call made outside
``jax.jit`` from n = 10^4 inputs on (smaller problems use ``"constant"``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from asdex_pipe.api import jacobian_mode, output_only, pattern_for, resolve_inputs
from asdex_pipe.arguments import InputSpec, input_spec, split_aux
from asdex_pipe.coloring import api as _coloring
from asdex_pipe.coloring.dense import dense_coloring
from asdex_pipe.detection.api import normalize_input
from asdex_pipe.detection.budget import DensePatternError
from asdex_pipe.differentiation.blocks import Blocks, bcoo_tree, scatter_dense
from asdex_pipe.differentiation.compress import hvp_products, jacobian_products
from asdex_pipe.differentiation.plans import apply_plan, device_colors, device_plan
from asdex_pipe.differentiation.reuse import check_function_fits
from asdex_pipe.pattern import BIDIRECTIONAL, ColoredPattern
from asdex_pipe.vocabulary import (
    FORMATS,
    HVP_MODES,
    JACOBIAN_MODES,
    ORDERS,
    SEEDS,
    STRUCTURES,
    SYMMETRIC_ALGORITHMS,
    check_one_of,
    check_positive_int,
)

__all__ = [
    "AUTO_SEEDS_MIN_N",
    "Options",
    "SparseDerivative",
    "build",
    "check_options",
    "flatten_output",
    "normalize_shape",
]

AUTO_SEEDS_MIN_N = 10_000


# ------------------------------------------------------------------ options
@dataclass(frozen=True)
class Options:
    """Checked options of one builder call.

    Attributes:
        kind: ``"hessian"`` or ``"jacobian"``.
        mode: HVP mode (Hessians) or ``"auto"``/``"fwd"``/``"rev"`` (Jacobians).
        format: one of ``FORMATS``.
        chunk_size: at most this many products at once (None: all).
        seeds: one of ``SEEDS`` (Hessians; Jacobians always use constant seeds).
        with_value: also return ``f``'s value.
        structure: ``"tree"``, ``"flat"`` or None (tree for pytree inputs, flat for one
            array).
        algorithm, order: coloring options when the builder detects and colors.
    """

    kind: str
    mode: str
    format: str
    chunk_size: int | None
    seeds: str
    with_value: bool
    structure: str | None
    algorithm: str | None = None
    order: str | None = None


def check_options(
    kind: str,
    mode: str,
    format: str,
    chunk_size: Any,
    seeds: str = "constant",
    with_value: bool = False,
    structure: str | None = None,
    algorithm: str | None = None,
    order: str | None = None,
) -> Options:
    """Check every option of a builder once, before any tracing; return them as
    :class:`Options`. Raises ``ValueError`` naming the bad option and the choices."""
    check_one_of(mode, HVP_MODES if kind == "hessian" else JACOBIAN_MODES, "mode")
    check_one_of(format, FORMATS, "format")
    chunk = check_positive_int(chunk_size, "chunk_size", allow_none=True)
    check_one_of(seeds, SEEDS, "seeds")
    if structure is not None:
        check_one_of(structure, STRUCTURES, "structure")
    if order is not None:
        check_one_of(order, ORDERS, "order")
    if algorithm is not None and kind == "hessian":
        check_one_of(algorithm, SYMMETRIC_ALGORITHMS, "algorithm")
    return Options(kind, mode, format, chunk, seeds, with_value, structure, algorithm, order)


def normalize_shape(input_shape: Any) -> tuple[int, ...]:
    """``input_shape`` (int ``n`` meaning ``(n,)``, tuple of ints, or a sample array, as in
    detection) as a tuple of non-negative ints."""
    return normalize_input(input_shape, None)[0]


def _check_coloring(coloring: Any, kind: str, what: str) -> ColoredPattern:
    allowed = ("HVP",) if kind == "hessian" else ("JVP", "VJP", BIDIRECTIONAL)
    if not isinstance(coloring, ColoredPattern):
        raise ValueError(f"{what} expects a ColoredPattern, got {type(coloring).__name__}")
    if coloring.mode not in allowed:
        source = "hessian_coloring" if kind == "hessian" else "jacobian_coloring"
        raise ValueError(
            f"{what} needs a coloring of mode {' or '.join(allowed)} (from {source}), "
            f"got a {coloring.mode} coloring of shape {coloring.shape}"
        )
    return coloring


def _check_x(
    x: Any, n: int, input_shape: tuple[int, ...] | None, dtype: Any, pattern_shape: tuple
) -> jax.Array:
    """Validate the one-array form's ``x`` before any tracing; return it as an array."""
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


# ------------------------------------------------------------------ outputs
def flatten_output(f: Callable, x: Any, *rest: Any) -> tuple[Callable, Callable, int]:
    """Wrap ``f`` (pytree output) as ``x -> flat vector``; also return unflatten and size.

    ``rest`` are further arguments passed through unchanged. Uses ``jax.eval_shape`` only
    (no computation), so it is cheap at trace time.
    """
    out = jax.eval_shape(f, x, *rest)
    leaves, treedef = jax.tree.flatten(out)
    shapes = [tuple(leaf.shape) for leaf in leaves]
    dtypes = [leaf.dtype for leaf in leaves]
    sizes = [math.prod(s) for s in shapes]
    common = jnp.result_type(*dtypes) if dtypes else jnp.float32
    bounds = np.cumsum([0, *sizes])

    def f_flat(y):
        parts = [jnp.ravel(leaf).astype(common) for leaf in jax.tree.leaves(f(y, *rest))]
        return jnp.concatenate(parts) if parts else jnp.zeros((0,), common)

    def unflatten(flat):
        parts = [
            flat[bounds[i] : bounds[i + 1]].reshape(shapes[i]).astype(dtypes[i])
            for i in range(len(shapes))
        ]
        return jax.tree.unflatten(treedef, parts)

    return f_flat, unflatten, int(bounds[-1])


# ------------------------------------------------------------------ eager building
def _eager() -> Any:
    """``jax.ensure_compile_time_eval()`` where a builder runs inside the caller's staging
    trace (``jax.jit``), else a context that does nothing.

    Inside such a trace every operation, even on constants, yields a tracer of that trace:
    detection cannot read its constants, and device arrays cached for later calls would
    leak (``UnexpectedTracerError`` on the next call outside). Eager evaluation keeps them
    concrete. Elsewhere it is not entered, because it also folds constants while tracing
    (detection would see another jaxpr than ``hessian_sparsity`` does).
    """
    staging = isinstance(jnp.zeros(()), jax.core.Tracer)  # a constant became a tracer
    return jax.ensure_compile_time_eval() if staging else contextlib.nullcontext()


# ------------------------------------------------------------------ aux
class _Passthrough:
    """Aux leaves that are not traced values, carried out of the jitted program in the
    output's tree structure (a pytree node without children) instead of as outputs.

    jit keeps the output structure of each trace with its compiled program, so every call
    of that program returns the values of its trace: exactly what a Python value computed
    while tracing is. Hashed and compared by identity.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


jax.tree_util.register_pytree_node(_Passthrough, lambda p: ((), p), lambda p, _: p)


def _pack_aux(aux: Any) -> tuple[list[Any], _Passthrough]:
    """Split ``f``'s aux (in the program's trace) into the traced leaves, returned as
    outputs, and everything else (strings, Python numbers, numpy arrays, the tree)."""
    leaves, tree = jax.tree.flatten(aux)
    traced = [isinstance(leaf, jax.core.Tracer) for leaf in leaves]
    arrays = [leaf for leaf, t in zip(leaves, traced, strict=True) if t]
    static = [None if t else leaf for leaf, t in zip(leaves, traced, strict=True)]
    return arrays, _Passthrough((tree, static, traced))


def _unpack_aux(packed: tuple[list[Any], _Passthrough]) -> Any:
    """The aux as ``f`` returned it, from :func:`_pack_aux`'s parts after the program."""
    arrays, box = packed
    tree, static, traced = box.value
    it = iter(arrays)
    leaves = [next(it) if t else v for v, t in zip(static, traced, strict=True)]
    return jax.tree.unflatten(tree, leaves)


# ------------------------------------------------------------------ the callable
class SparseDerivative:
    """The sparse Hessian / Jacobian function every builder returns.

    Call it like ``f``: ``fn(x)`` for the one-array form, ``fn(*args, **kwargs)`` for the
    general form. It returns the matrix (``H`` or ``J``), ``(value, matrix)`` for the
    ``value_and_*`` builders, and with ``has_aux`` also ``f``'s aux, as JAX does:
    ``(matrix, aux)`` and ``((value, aux), matrix)``. The value has ``f``'s output shape.

    Aux is returned as ``jax.grad(f, has_aux=True)`` returns it: leaves computed from the
    arguments come back as arrays (computed in the program), every other leaf (strings,
    Python numbers, numpy arrays, None, containers) unchanged. Those are taken when the
    program is traced (once per argument shapes and dtypes, like any Python value under
    ``jax.jit``), so an aux that changes without its inputs changing keeps its first value.

    Everything built once (plans, device arrays, the programs) is built eagerly, even
    when the builder or the first call runs inside the caller's ``jax.jit``, so the
    function can be used inside and outside traces in any order.

    Attributes:
        coloring: the ``ColoredPattern`` used; its ``sparsity`` gives the (rows, cols)
            that ``format="values"`` refers to.
        spec: the :class:`asdex_pipe.arguments.InputSpec` of the inputs.
        unravel: flat (n,) vector -> the differentiated argument(s) (the one array for
            the one-array form), the inverse of the flat view's column order.
        seeds: seed variant in use (``"auto"`` until tuned).
        seed_timings: seconds per variant measured by :meth:`tune_seeds`.
        program: the jitted ``(x, data, arrays) -> ((value, aux), out)`` program in use.
        arrays: its device arrays (plan indices, colors).
    """

    def __init__(
        self,
        f: Callable,
        coloring: ColoredPattern,
        spec: InputSpec,
        options: Options,
        input_shape: tuple[int, ...] | None,
        dtype: Any,
    ):
        # Built eagerly even inside a caller's trace: cached device arrays that were
        # tracers of that trace would leak into every later call (UnexpectedTracerError).
        with _eager():
            self._setup(f, coloring, spec, options, input_shape, dtype)

    def _setup(self, f, coloring, spec, options, input_shape, dtype) -> None:
        self.coloring = coloring
        self.spec = spec
        self.options = options
        self.format = options.format
        self.input_shape = input_shape
        self.dtype = dtype
        s = coloring.sparsity
        self.shape = s.shape
        m, n = s.shape
        self.n = n
        hessian = options.kind == "hessian"
        forward = hessian or coloring.mode == "JVP"
        plan = device_plan(coloring, n if hessian or not forward else m)
        kind = plan["kind"]
        self.arrays = {k: jnp.asarray(v) for k, v in plan.items() if k != "kind"}
        idx_dtype = np.int32 if max(s.shape) < 2**31 - 1 else np.int64
        self.indices = jnp.asarray(np.stack([s.rows, s.cols], axis=1).astype(idx_dtype))
        colors = np.asarray(coloring.colors)
        seeds = options.seeds if hessian else "constant"
        if seeds == "auto" and n < AUTO_SEEDS_MIN_N:
            seeds = "constant"
        if seeds != "constant":
            self.arrays["colors"] = device_colors(coloring)

        if spec.one_array:
            g = output_only(f, spec.has_aux)

            def g_flat(x, data):
                return g(x)

            aux = (lambda x, data: split_aux(f(x))[1]) if spec.has_aux else None
        else:
            g_flat = spec.flat_function(f)
            aux = spec.flat_function(f, aux=True) if spec.has_aux else None

        structure = options.structure or ("flat" if spec.one_array else "tree")
        self.structure = "flat" if options.format == "values" else structure
        self.blocks = None
        if self.structure == "tree":
            self.blocks = self._block_layout(g_flat, hessian)
        self.unravel = (
            (lambda v: jnp.reshape(v, input_shape or (n,))) if spec.one_array else spec.unravel
        )
        body = self._body(g_flat, aux, coloring, options, hessian, forward)
        fmt, blocks = options.format, self.blocks
        if fmt == "dense" or (fmt == "bcoo" and blocks is not None):
            self.arrays["indices"] = self.indices

        def finish(values, arrays):
            if fmt == "dense":
                dense = scatter_dense(values, arrays["indices"], (m, n))
                return blocks.dense(dense) if blocks is not None else dense
            if fmt == "bcoo" and blocks is not None:
                return blocks.values(values)
            return values

        def make_program(indexed: bool) -> Callable:
            def program(x, data, arrays):
                extra, b = body(x, data, arrays["colors"] if indexed else colors)
                return extra, finish(apply_plan(kind, arrays, b), arrays)

            return jax.jit(program)

        # "constant" seeds are compile-time constants (see seed_matrix): XLA folds their
        # seed-only work, a large gain when the function has quadratic parts (PDE energy,
        # 10^6 unknowns: 47 ms against 86 ms indexed). "indexed" seeds are built in the
        # program from an int8 color array: no k × n constants to stream, a gain for cheap
        # functions (Rosenbrock at 10^6: 2.0 ms against 3.4 ms). Neither wins everywhere.
        self.programs = {
            name: make_program(name == "indexed")
            for name in ("constant", "indexed")
            if seeds in (name, "auto")
        }
        self.seeds = seeds
        self.seed_timings: dict[str, float] = {}
        self._bcoo = bcoo_tree(s.nnz, self.indices, s.shape)

    # ---------------------------------------------------------------- building
    def _block_layout(self, g_flat: Callable, hessian: bool) -> Blocks:
        spec = self.spec
        col_shapes = [leaf.shape for leaf in spec.diff_leaves]
        if spec.one_array:
            col_shapes = [self.input_shape or (self.n,)]
        col_tree = spec.diff_tree
        if hessian:
            return Blocks(self.coloring, col_tree, col_shapes, col_tree, col_shapes)
        x, data = (
            spec.abstract()
            if not spec.one_array
            else (
                jax.ShapeDtypeStruct(self.input_shape or (self.n,), self.dtype or jnp.float32),
                (),
            )
        )
        out = jax.eval_shape(g_flat, x, data)
        leaves, out_tree = jax.tree.flatten(out)
        return Blocks(
            self.coloring, out_tree, [tuple(leaf.shape) for leaf in leaves], col_tree, col_shapes
        )

    @staticmethod
    def _body(g_flat, aux, coloring, options, hessian, forward) -> Callable:
        """``(x, data, colors) -> ((value, aux), B)``: the compressed products."""
        k = coloring.num_colors
        m = coloring.shape[0]
        chunk, with_value = options.chunk_size, options.with_value

        def body(x, data, colors):
            extra_aux = _pack_aux(aux(x, data)) if aux is not None else None
            if hessian:
                out_shape = []

                def scalar(y):
                    out = g_flat(y, data)
                    out_shape.append(jnp.shape(out))  # f's output shape, seen while tracing
                    return out

                value, b = hvp_products(scalar, x, colors, k, options.mode, chunk, with_value)
                # The products see f as a scalar (shape ()); give the value f's own shape
                # ((1,) or (1, 1) too), as without products (an empty pattern) it has.
                if with_value:
                    value = jnp.reshape(value, out_shape[0])
                return (value, extra_aux), b
            f_flat, unflatten, size = flatten_output(g_flat, x, data)
            if size != m:
                raise ValueError(
                    f"f returns {size} output elements but the coloring has pattern shape "
                    f"{coloring.shape}, i.e. {m} outputs"
                )
            y, b = jacobian_products(f_flat, x, coloring.mode, colors, k, chunk)
            if not forward and jnp.iscomplexobj(y):  # known at trace time, before any run
                raise ValueError(_coloring.COMPLEX_REV)
            return ((unflatten(y) if with_value else None), extra_aux), b

        return body

    # ---------------------------------------------------------------- running
    @property
    def program(self) -> Callable:
        """The jitted program in use ("constant" seeds until an ``"auto"`` function has
        been tuned)."""
        return self.programs["constant" if self.seeds == "auto" else self.seeds]

    def _split(self, args: tuple, kwargs: Mapping[str, Any]) -> tuple[jax.Array, tuple]:
        if self.spec.one_array:
            if len(args) != 1 or kwargs:
                raise ValueError(
                    f"this function was built for one array argument, got {len(args)} "
                    f"positional and {len(kwargs)} keyword arguments (build it with args=(...) "
                    "for several)"
                )
            return _check_x(args[0], self.n, self.input_shape, self.dtype, self.shape), ()
        x, data = self.spec.split(args, kwargs)
        if self.dtype is not None and x.dtype != jnp.dtype(self.dtype):
            raise ValueError(
                f"the differentiated leaves have dtype {x.dtype} but the function was built "
                f"for dtype {jnp.dtype(self.dtype)}"
            )
        return x, data

    def tune_seeds(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        """Compile and time both seed variants on these arguments and keep the faster.

        Interleaved, best of three (robust to a busy machine). Returns the timings (also
        in ``seed_timings``); afterwards ``seeds`` names the variant kept. A no-op when
        only one variant was built.
        """
        if len(self.programs) < 2:
            return self.seed_timings
        x, data = self._split(args, kwargs)
        for program in self.programs.values():
            jax.block_until_ready(program(x, data, self.arrays))
        timings = {name: float("inf") for name in self.programs}
        for _ in range(3):
            for name, program in self.programs.items():
                t0 = time.perf_counter()
                jax.block_until_ready(program(x, data, self.arrays))
                timings[name] = min(timings[name], time.perf_counter() - t0)
        self.seed_timings = timings
        self.seeds = min(timings, key=timings.__getitem__)
        self.programs = {self.seeds: self.programs[self.seeds]}
        return timings

    def _wrap(self, out: Any) -> Any:
        fmt, blocks = self.format, self.blocks
        if fmt in ("values", "dense"):
            return blocks.nest(out) if fmt == "dense" and blocks is not None else out
        if fmt == "bcoo":
            if blocks is None:
                return jax.tree.unflatten(self._bcoo, [out, self.indices])
            return blocks.nest(blocks.bcoo(out))
        s = self.coloring.sparsity
        matrix = sp.csr_array((np.asarray(out), s.cols, s.indptr), shape=s.shape)
        return blocks.nest(blocks.scipy(matrix)) if blocks is not None else matrix

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        x, data = self._split(args, kwargs)
        traced = isinstance(x, jax.core.Tracer)
        if self.format == "scipy" and traced:
            raise ValueError(
                "format='scipy' builds a host matrix and cannot run under jax.jit/vmap; "
                "use format='bcoo', 'dense' or 'values' there"
            )
        if self.seeds == "auto" and not traced:
            self.tune_seeds(*args, **kwargs)
        (value, aux), out = self.program(x, data, self.arrays)
        out = self._wrap(out)
        has_aux = self.spec.has_aux
        if has_aux:
            aux = _unpack_aux(aux)
        if self.options.with_value:
            return ((value, aux) if has_aux else value), out
        return (out, aux) if has_aux else out


# ------------------------------------------------------------------ the one builder
def build(
    options: Options,
    f: Callable,
    *,
    coloring: ColoredPattern | None = None,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    what: str = "",
) -> SparseDerivative:
    """Every public builder's body: resolve the inputs, detect and color unless
    ``coloring`` is given, check it against the inputs, and return the function.

    Args:
        options: from :func:`check_options` (already checked).
        f: the function.
        coloring: a precomputed coloring (``*_from_coloring``), or None to detect one.
        input_shape, dtype, args, kwargs, argnums, has_aux: the inputs, see
            :func:`asdex_pipe.api.resolve_inputs`. With a coloring and no inputs, the
            structure recorded in the coloring's pattern is used when there is one, else
            the one-array form with any shape of n elements.
        what: the public name, for messages.

    A detected coloring is checked against ``f`` (:func:`check_function_fits`: the
    function it was detected for, or one whose pattern it contains), here or, for a
    coloring that records structured inputs, on the first call.

    Raises:
        PatternMismatchError: ``f``'s pattern is not contained in the coloring's.
        ValueError: malformed options, inputs or coloring.
    """
    if not callable(f):
        raise ValueError(f"{what} needs a callable f, got {type(f).__name__}")
    # Detection, plans and device arrays are built eagerly even when a builder is called
    # inside the caller's jax.jit (nothing cached may be a tracer of that trace).
    with _eager():
        return _build(
            options, f, coloring, input_shape, dtype, args, kwargs, argnums, has_aux, what
        )


def _build(options, f, coloring, input_shape, dtype, args, kwargs, argnums, has_aux, what):
    hessian = options.kind == "hessian"
    shape = None
    if coloring is not None:
        _check_coloring(coloring, options.kind, what)
        recorded = coloring.sparsity.provenance.get("input_structure")
        if input_shape is None and args is None:
            if recorded is not None:
                # The structure is known from the first call's arguments (a treedef does
                # not round-trip through text); they are checked against the record then.
                return _Deferred(options, f, coloring, recorded, has_aux, what)  # type: ignore[return-value]
            if argnums != 0 or kwargs is not None:
                raise ValueError(
                    f"{what}: give args=(...) (samples or jax.ShapeDtypeStruct) together "
                    "with argnums / kwargs"
                )
            else:
                spec = resolve_inputs(coloring.shape[1], None, None, None, 0, has_aux)
        else:
            spec = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux)
            if spec.one_array:
                shape = normalize_shape(input_shape)
        if spec.one_array and shape is not None and math.prod(shape) != coloring.shape[1]:
            raise ValueError(
                f"input_shape {shape} has {math.prod(shape)} elements but the coloring has "
                f"pattern shape {coloring.shape}"
            )
        if not spec.one_array:
            spec.check_recorded(coloring.sparsity, what)
        check_function_fits(options.kind, f, coloring, spec, shape, dtype, what)
    else:
        spec = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux)
        if spec.one_array:
            shape = normalize_shape(input_shape)
        sample = input_shape
        if spec.one_array and hasattr(input_shape, "dtype"):
            if not jnp.issubdtype(input_shape.dtype, jnp.inexact):
                sample = shape
        try:
            sparsity = pattern_for(options.kind, f, spec, sample, dtype)
        except DensePatternError as err:  # evaluate densely, or refuse (coloring/dense.py)
            sparsity = err
        if isinstance(sparsity, DensePatternError) and hessian:
            coloring = dense_coloring(sparsity, "hessian", (spec.n, spec.n), "", what)
        elif hessian:
            coloring = _coloring.hessian_coloring_from_sparsity(
                sparsity, algorithm=options.algorithm, order=options.order
            )
        else:
            if spec.one_array:
                mode = _coloring.jacobian_mode_for(
                    output_only(f, has_aux), shape, options.mode, dtype
                )
            else:
                mode = jacobian_mode(f, spec, options.mode)
            if isinstance(sparsity, DensePatternError):
                shape_mn = (sparsity.shape[0], spec.n)
                coloring = dense_coloring(sparsity, "jacobian", shape_mn, mode, what)
            else:
                coloring = _coloring.jacobian_coloring_from_sparsity(sparsity, mode=mode)
    return SparseDerivative(f, coloring, spec, options, shape, dtype)


class _Deferred:
    """A function from a coloring that records structured inputs, built on its first call.

    The first call's arguments give the structure (with the recorded ``argnums``); they
    must match the record (:meth:`InputSpec.check_recorded`), else ``ValueError``, and
    ``f`` must fit the coloring (:func:`check_function_fits`), else
    ``PatternMismatchError``.
    """

    def __init__(self, options, f, coloring, recorded, has_aux, what):
        self.options, self.f, self.coloring = options, f, coloring
        nums = recorded.get("argnums", 0)
        self.argnums = tuple(nums) if isinstance(nums, list) else nums
        self.has_aux, self.what = has_aux, what
        self.built: SparseDerivative | None = None

    def _flat_call(self, args: tuple, kwargs: Mapping[str, Any]) -> bool:
        """One array argument where the record has several leaves or arguments."""
        if len(args) != 1 or kwargs or not hasattr(args[0], "shape"):
            return False
        recorded = self.coloring.sparsity.provenance["input_structure"]
        several = recorded.get("num_args", 1) != 1 or len(recorded.get("leaves", [])) != 1
        return several and math.prod(args[0].shape) == self.coloring.shape[1]

    def __getattr__(self, name: str) -> Any:
        built = self.__dict__.get("built")
        if built is None:
            raise AttributeError(f"{name} (available after the first call)")
        return getattr(built, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.built is None:
            # The first call may run inside the caller's jax.jit: build eagerly (see build).
            with _eager():
                self.built = self._build(args, kwargs)
        return self.built(*args, **kwargs)

    def _build(self, args: tuple, kwargs: Mapping[str, Any]) -> SparseDerivative:
        if self._flat_call(args, kwargs):
            # The flat view: f over the raveled arguments, called with one vector.
            spec = resolve_inputs(self.coloring.shape[1], None, None, None, 0, self.has_aux)
        else:
            spec = input_spec(args, kwargs, self.argnums, self.has_aux)
            spec.check_recorded(self.coloring.sparsity, self.what)
        check_function_fits(self.options.kind, self.f, self.coloring, spec, None, None, self.what)
        return SparseDerivative(self.f, self.coloring, spec, self.options, None, None)
