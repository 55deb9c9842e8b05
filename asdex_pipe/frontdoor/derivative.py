"""The one builder behind every public sparse Hessian / Jacobian function.

:func:`check_options` checks a builder's options once; :func:`build` resolves the inputs
(:mod:`asdex_pipe.frontdoor.inputs`), detects and colors unless a coloring
is given, and returns a :class:`SparseDerivative`. That object does its host work once
(binds ``f`` to flat inputs, builds the evaluation program of
:mod:`asdex_pipe.differentiation.program` with the format's finisher from
:data:`asdex_pipe.differentiation.formats.FORMAT_TABLE`) and, per call, splits the
arguments into the flat vector ``x`` and the data leaves, runs that one jitted program
(batched AD products, then gathers) and wraps the result on the host as the format says. It
composes with ``jax.jit`` and ``jax.vmap`` (except ``format="scipy"``, a host matrix).

Seed tuning is explicit: :meth:`SparseDerivative.tune_seeds` compiles and times both seed
variants and keeps the faster; ``seeds="auto"`` picks one by size before anything is
compiled (:func:`asdex_pipe.differentiation.program.auto_seeds`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.coloring import api as _coloring
from asdex_pipe.coloring.dense import dense_coloring
from asdex_pipe.detection import DensePatternError
from asdex_pipe.differentiation.blocks import Blocks
from asdex_pipe.differentiation.compress import COMPLEX_REV, hvp_products, jacobian_products
from asdex_pipe.differentiation.formats import FORMAT_TABLE, Layout
from asdex_pipe.differentiation.program import CompressedProgram
from asdex_pipe.frontdoor.bind import bind
from asdex_pipe.frontdoor.detect import pattern_for
from asdex_pipe.frontdoor.inputs import (
    ArgumentTypeError,
    InputSpec,
    StructureMismatch,
    check_x,
    input_spec,
    resolve_inputs,
    structure_key,
)
from asdex_pipe.frontdoor.outputs import flatten_output, jacobian_mode, pack_aux, unpack_aux
from asdex_pipe.frontdoor.reuse import check_function_fits
from asdex_pipe.indices import index_dtype
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

__all__ = ["Options", "SparseDerivative", "build", "check_options"]


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
        compressed: return the compressed products (k, L) instead of the matrix.
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
    compressed: bool = False

    def compressed_only(self) -> Options:
        """These options for the compressed products alone (no decompression)."""
        return dataclasses.replace(self, compressed=True)


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


# ------------------------------------------------------------------ eager building
def eager() -> Any:
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
        spec: the :class:`asdex_pipe.frontdoor.inputs.InputSpec` of the inputs.
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
        with eager():
            self._setup(f, coloring, spec, options, input_shape, dtype)

    def _setup(self, f, coloring, spec, options, input_shape, dtype) -> None:
        self.rebuild: Callable[[tuple, Mapping[str, Any]], SparseDerivative] | None = None
        self._siblings: dict[Any, SparseDerivative] = {}
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
        g = bind(f, spec)
        aux = bind(f, spec, aux=True) if spec.has_aux else None

        structure = options.structure or ("flat" if spec.one_array else "tree")
        self.structure = "flat" if options.format == "values" else structure
        self.blocks = self._block_layout(g, hessian) if self.structure == "tree" else None
        self.unravel = (
            (lambda v: jnp.reshape(v, input_shape or (n,))) if spec.one_array else spec.unravel
        )
        self.indices = jnp.asarray(
            np.stack([s.rows, s.cols], axis=1).astype(index_dtype(max(s.shape)))
        )
        self._format = FORMAT_TABLE[options.format]
        self._layout = layout = Layout(s, self.indices, self.blocks)
        finish_format = self._format.finish
        needs_indices = self._format.needs_indices(layout)

        def finish(values, arrays):
            return finish_format(values, arrays["indices"] if needs_indices else None, layout)

        self._program = CompressedProgram(
            self._body(g, aux, coloring, options, hessian, forward),
            coloring,
            n if hessian or not forward else m,
            options.seeds if hessian else "constant",
            None if options.compressed else finish,
            {"indices": self.indices} if needs_indices and not options.compressed else None,
            decompress=not options.compressed,
        )

    # ---------------------------------------------------------------- building
    def _block_layout(self, g: Callable, hessian: bool) -> Blocks:
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
        out = jax.eval_shape(g, x, data)
        leaves, out_tree = jax.tree.flatten(out)
        return Blocks(
            self.coloring, out_tree, [tuple(leaf.shape) for leaf in leaves], col_tree, col_shapes
        )

    @staticmethod
    def _body(g, aux, coloring, options, hessian, forward) -> Callable:
        """``(x, data, colors) -> ((value, aux), B)``: the compressed products."""
        k = coloring.num_colors
        m = coloring.shape[0]
        chunk, with_value = options.chunk_size, options.with_value

        def body(x, data, colors):
            extra_aux = pack_aux(aux(x, data)) if aux is not None else None
            if hessian:
                out_shape = []

                def scalar(y):
                    out = g(y, data)
                    out_shape.append(jnp.shape(out))  # f's output shape, seen while tracing
                    return out

                value, b = hvp_products(scalar, x, colors, k, options.mode, chunk, with_value)
                # The products see f as a scalar (shape ()); give the value f's own shape
                # ((1,) or (1, 1) too), as without products (an empty pattern) it has.
                if with_value:
                    value = jnp.reshape(value, out_shape[0])
                return (value, extra_aux), b
            f_flat, unflatten, size = flatten_output(g, x, data)
            if size != m:
                raise ValueError(
                    f"f returns {size} output elements but the coloring has pattern shape "
                    f"{coloring.shape}, i.e. {m} outputs"
                )
            y, b = jacobian_products(f_flat, x, coloring.mode, colors, k, chunk)
            if not forward and jnp.iscomplexobj(y):  # known at trace time, before any run
                raise ValueError(COMPLEX_REV)
            return ((unflatten(y) if with_value else None), extra_aux), b

        return body

    # ---------------------------------------------------------------- running
    @property
    def program(self) -> Callable:
        """The jitted ``(x, data, arrays) -> ((value, aux), out)`` program in use
        ("constant" seeds until an ``"auto"`` function has been tuned)."""
        return self._program.program

    @property
    def programs(self) -> dict[str, Callable]:
        """The seed variants built, by name."""
        return self._program.programs

    @property
    def arrays(self) -> dict[str, jax.Array]:
        """The program's device arrays (plan indices, colors)."""
        return self._program.arrays

    @property
    def seeds(self) -> str:
        """The seed variant in use, ``"constant"`` or ``"indexed"``."""
        return self._program.seeds

    @property
    def seed_timings(self) -> dict[str, float]:
        """Seconds per seed variant measured by :meth:`tune_seeds`."""
        return self._program.seed_timings

    def _split(self, args: tuple, kwargs: Mapping[str, Any]) -> tuple[jax.Array, tuple]:
        if self.spec.one_array:
            if len(args) != 1 or kwargs:
                raise StructureMismatch(
                    f"this function was built for one array argument, got {len(args)} "
                    f"positional and {len(kwargs)} keyword arguments (build it with args=(...) "
                    "for several)",
                    retrace=len(args) == 1,
                )
            return check_x(args[0], self.n, self.input_shape, self.dtype, self.shape), ()
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
        return self._program.tune(*self._split(args, kwargs))

    def _sibling(self, args: tuple, kwargs: Mapping[str, Any]) -> SparseDerivative:
        """The function built for these arguments' structure (built on first use)."""
        key = structure_key(args, kwargs)
        if key not in self._siblings:
            with eager():
                self._siblings[key] = self.rebuild(args, kwargs)
        return self._siblings[key]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            x, data = self._split(args, kwargs)
        except StructureMismatch as err:
            if self.rebuild is None or not err.retrace:
                raise
            return self._sibling(args, kwargs)(*args, **kwargs)
        if self._format.host_only and isinstance(x, jax.core.Tracer):
            raise ValueError(
                f"format={self.format!r} builds a host object and cannot run under "
                "jax.jit/vmap; use format='bcoo', 'dense' or 'values' there"
            )
        (value, aux), out = self._program(x, data)
        if not self.options.compressed:
            out = self._format.wrap(out, self._layout)
        has_aux = self.spec.has_aux
        if has_aux:
            aux = unpack_aux(aux)
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
    allow_int: bool = False,
    what: str = "",
) -> SparseDerivative:
    """Every public builder's body: resolve the inputs, detect and color unless
    ``coloring`` is given, check it against the inputs, and return the function.

    Args:
        options: from :func:`check_options` (already checked).
        f: the function.
        coloring: a precomputed coloring (``*_from_coloring``), or None to detect one.
        input_shape, dtype, args, kwargs, argnums, has_aux: the inputs, see
            :func:`asdex_pipe.frontdoor.inputs.resolve_inputs`. With a coloring and no inputs, the
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
        raise ArgumentTypeError(f"{what} needs a callable f, got {type(f).__name__}")
    # Detection, plans and device arrays are built eagerly even when a builder is called
    # inside the caller's jax.jit (nothing cached may be a tracer of that trace).
    with eager():
        return _build(
            options, f, coloring, input_shape, dtype, args, kwargs, argnums, has_aux,
            allow_int, what,
        )  # fmt: skip


def _one_sided_mode(sparsity: Any, order: str) -> str:
    """``"fwd"`` or ``"rev"``, whichever colors with fewer colors (ties: forward), for
    compressed products, which have one shape only for one-sided colorings."""
    fwd = _coloring.jacobian_coloring_from_sparsity(sparsity, mode="fwd", order=order)
    rev = _coloring.jacobian_coloring_from_sparsity(sparsity, mode="rev", order=order)
    return "fwd" if fwd.num_colors <= rev.num_colors else "rev"


def _build(
    options, f, coloring, input_shape, dtype, args, kwargs, argnums, has_aux, allow_int, what
):
    hessian = options.kind == "hessian"
    if coloring is None:
        spec, trace_dtype = resolve_inputs(
            input_shape, dtype, args, kwargs, argnums, has_aux, allow_int
        )
        shape = spec.diff_leaves[0].shape if spec.one_array else None
        try:
            sparsity = pattern_for(options.kind, f, spec, trace_dtype)
        except DensePatternError as err:  # evaluate densely, or refuse (coloring/dense.py)
            sparsity = err
        dense = isinstance(sparsity, DensePatternError)
        if hessian:
            coloring = (
                dense_coloring(sparsity, "hessian", (spec.n, spec.n), "", what)
                if dense
                else _coloring.hessian_coloring_from_sparsity(
                    sparsity,
                    algorithm=options.algorithm or "star",
                    order=options.order or "largest_first",
                )
            )
        else:
            mode = jacobian_mode(bind(f, spec), spec, options.mode, trace_dtype)
            if options.compressed and mode == "auto" and not dense:
                mode = _one_sided_mode(sparsity, options.order or "largest_first")
            coloring = (
                dense_coloring(sparsity, "jacobian", (sparsity.shape[0], spec.n), mode, what)
                if dense
                else _coloring.jacobian_coloring_from_sparsity(
                    sparsity, mode=mode, order=options.order or "largest_first"
                )
            )
        derivative = SparseDerivative(f, coloring, spec, options, shape, dtype)

        def rebuild(call_args: tuple, call_kwargs: Mapping[str, Any]) -> SparseDerivative:
            # The call's own arguments are the samples: as JAX retraces for new shapes,
            # static values or keyword arguments, detection runs again for them.
            return build(
                options, f, dtype=dtype, args=call_args, kwargs=call_kwargs,
                argnums=argnums, has_aux=has_aux, allow_int=allow_int, what=what,
            )  # fmt: skip

        derivative.rebuild = rebuild
        return derivative

    _check_coloring(coloring, options.kind, what)
    if options.compressed and coloring.mode == BIDIRECTIONAL:
        raise ValueError(
            f"{what}: a bidirectional (JVP+VJP) coloring has no single compressed matrix"
        )
    shape = None
    if input_shape is None and args is None:
        if coloring.sparsity.provenance.get("input_structure") is not None:
            # The structure is known from the first call's arguments (a treedef does not
            # round-trip through text); they are checked against the record then.
            return _Deferred(options, f, coloring, has_aux, what)  # type: ignore[return-value]
        if argnums != 0 or kwargs is not None:
            raise ValueError(
                f"{what}: give args=(...) (samples or jax.ShapeDtypeStruct) together "
                "with argnums / kwargs"
            )
        spec, _ = resolve_inputs(coloring.shape[1], None, None, None, 0, has_aux)
    else:
        spec, _ = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux, allow_int)
        if spec.one_array:
            shape = spec.diff_leaves[0].shape
            if math.prod(shape) != coloring.shape[1]:
                raise ValueError(
                    f"input_shape {shape} has {math.prod(shape)} elements but the coloring "
                    f"has pattern shape {coloring.shape}"
                )
        else:
            spec.check_recorded(coloring.sparsity, what)
    check_function_fits(options.kind, f, coloring, spec, shape, dtype, what)
    return SparseDerivative(f, coloring, spec, options, shape, dtype)


class _Deferred:
    """A function from a coloring that records structured inputs, built on its first call.

    The first call's arguments give the structure (with the recorded ``argnums``); they
    must match the record (:meth:`InputSpec.check_recorded`), else ``ValueError``, and
    ``f`` must fit the coloring (:func:`check_function_fits`), else
    ``PatternMismatchError``.
    """

    def __init__(self, options, f, coloring, has_aux, what):
        self.options, self.f, self.coloring = options, f, coloring
        nums = coloring.sparsity.provenance["input_structure"].get("argnums", 0)
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
            with eager():
                self.built = self._build(args, kwargs)
        return self.built(*args, **kwargs)

    def _build(self, args: tuple, kwargs: Mapping[str, Any]) -> SparseDerivative:
        if self._flat_call(args, kwargs):
            # The flat view: f over the raveled arguments, called with one vector.
            spec, _ = resolve_inputs(self.coloring.shape[1], None, None, None, 0, self.has_aux)
        else:
            spec = input_spec(args, kwargs, self.argnums, self.has_aux)
            spec.check_recorded(self.coloring.sparsity, self.what)
        check_function_fits(self.options.kind, self.f, self.coloring, spec, None, None, self.what)
        return SparseDerivative(self.f, self.coloring, spec, self.options, None, None)
