"""Public detection and coloring entry points, built on the input specs.

``hessian_sparsity``, ``jacobian_sparsity``, ``hessian_coloring`` and ``jacobian_coloring``
accept the seed's one-array form (``input_shape`` an int, a tuple of ints or a sample
array) and the general form ``args=(...)``, ``kwargs={...}``, ``argnums``, ``has_aux``
(see :mod:`asdex_pipe.frontdoor.inputs`). The one-array form goes straight to the
flat-vector detection; the general form detects on the augmented vector of differentiated
and data leaves and keeps the differentiated block, with the input structure recorded in
``pattern.provenance["input_structure"]``. Every detected pattern records the function
it was detected for in ``provenance["function"]`` (:func:`function_record`), which
``*_from_coloring`` compares with the function it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from asdex_pipe.coloring import api as _coloring
from asdex_pipe.detection import DETECTOR_VERSION, detect_hessian, detect_jacobian
from asdex_pipe.fingerprint import traced_key
from asdex_pipe.frontdoor.bind import augmented_function, bind
from asdex_pipe.frontdoor.calls import resolve_call
from asdex_pipe.frontdoor.inputs import ArgumentTypeError, InputSpec, resolve_inputs
from asdex_pipe.frontdoor.outputs import jacobian_mode, output_only
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.vocabulary import JACOBIAN_MODES, ORDERS, SYMMETRIC_ALGORITHMS, check_one_of

__all__ = [
    "function_name",
    "function_record",
    "hessian_coloring",
    "hessian_sparsity",
    "jacobian_coloring",
    "jacobian_sparsity",
    "pattern_for",
]


def detected_function(f: Callable, spec: InputSpec) -> tuple[Callable, tuple[int, ...]]:
    """The one-array function detection traces for ``f`` with ``spec``'s inputs, and the
    shape it is traced at (the array's for the one-array form; the augmented vector's
    otherwise)."""
    if spec.one_array:
        return output_only(f, spec.has_aux), spec.diff_leaves[0].shape
    traced, total = augmented_function(f, spec)
    return traced, (total,)


def function_name(f: Callable) -> str:
    """``module.qualname`` of ``f`` (its repr for callables without one), for messages."""
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    if name is None:
        return repr(f)
    module = getattr(f, "__module__", None)
    return f"{module}.{name}" if module else name


def function_record(f: Callable, spec: InputSpec, dtype: Any) -> dict[str, Any]:
    """What a detected pattern records about the function it was detected for.

    ``{"key", "shape", "dtype", "name"}``: the content key
    (:func:`asdex_pipe.fingerprint.traced_key`) of the function detection traces, the
    shape and dtype it is traced at, and ``f``'s name. A coloring reused with another
    function compares that function's key with this one
    (:func:`asdex_pipe.frontdoor.reuse.check_function_fits`).
    """
    traced, shape = detected_function(f, spec)
    key, used = traced_key(traced, shape, dtype, DETECTOR_VERSION)
    return {"key": key, "shape": list(shape), "dtype": used.name, "name": function_name(f)}


def restrict(pattern: SparsityPattern, rows: int, cols: int, spec: InputSpec) -> SparsityPattern:
    """The leading ``rows`` × ``cols`` block of ``pattern`` (the x block of an augmented
    pattern), with the input structure recorded in its provenance."""
    keep = (pattern.rows < rows) & (pattern.cols < cols)
    provenance = {**pattern.provenance, "input_structure": spec.describe()}
    # Filtering a row-major sorted, duplicate-free COO keeps it so.
    return SparsityPattern(
        pattern.rows[keep], pattern.cols[keep], (rows, cols), provenance=provenance, _trusted=True
    )


def pattern_for(
    kind: str, f: Callable, spec: InputSpec, dtype: Any, *, record: bool = True
) -> SparsityPattern:
    """Detect the ``"hessian"`` or ``"jacobian"`` pattern of ``f`` for ``spec``'s inputs.

    Args:
        kind: ``"hessian"`` or ``"jacobian"``.
        f: the user's function.
        spec: its inputs (:func:`asdex_pipe.frontdoor.inputs.resolve_inputs`).
        dtype: the dtype to trace at, or None (float64 where ``f`` allows it).
        record: record the function in ``provenance["function"]`` (:func:`function_record`;
            one more trace of ``f``).
    """
    if not callable(f):
        raise ArgumentTypeError(f"f must be callable, got {type(f).__name__}")
    detect = detect_hessian if kind == "hessian" else detect_jacobian
    traced, shape = detected_function(f, spec)
    pattern = detect(traced, shape, dtype)
    if not spec.one_array:
        n = spec.n
        pattern = restrict(pattern, n if kind == "hessian" else pattern.shape[0], n, spec)
    if record:
        pattern.provenance["function"] = function_record(f, spec, dtype)
    return pattern


def _spec(
    what: str, sample_args: tuple, sample_kwargs: Mapping[str, Any], given: dict[str, Any]
) -> tuple[InputSpec, Any]:
    """The inputs of a public call in any convention (``given``: its locals)."""
    input_shape, args, kwargs = resolve_call(
        what, sample_args, sample_kwargs, given["input_shape"], given["args"],
        given["kwargs"], given["argnums"], given["allow_int"],
    )  # fmt: skip
    return resolve_inputs(
        input_shape, given["dtype"], args, kwargs, given["argnums"], given["has_aux"],
        given["allow_int"],
    )  # fmt: skip


def _detected(
    kind: str, f: Callable, sample_args: tuple, sample_kwargs: Mapping, given: dict
) -> SparsityPattern:
    spec, trace_dtype = _spec(f"{kind}_sparsity", sample_args, sample_kwargs, given)
    return pattern_for(kind, f, spec, trace_dtype)


def hessian_sparsity(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    **sample_kwargs: Any,
) -> SparsityPattern:
    """Global, symmetric Hessian sparsity pattern of a scalar-valued ``f``.

    Args:
        f: ``f(x)`` (one array) or ``f(*args, **kwargs)`` returning a scalar (any size-1
            output), or ``(scalar, aux)`` with ``has_aux=True``.
        *sample_args, **sample_kwargs: the inputs as ``f`` takes them (see
            :mod:`asdex_pipe.frontdoor.calls`; one int, tuple of ints or array alone is
            the one-array form).
        input_shape: the one-array form by keyword: an int, a tuple of ints, or a sample
            array.
        dtype: floating dtype for tracing (default float64 where ``f`` allows it).
        args: the general form: tuple of sample arguments, each a pytree of arrays or
            ``jax.ShapeDtypeStruct``; values are never read.
        kwargs: keyword arguments of ``f`` (data, never differentiated).
        argnums: int or tuple of ints, the arguments to differentiate (default 0).
        has_aux: ``f`` returns ``(output, aux)``.
        allow_int: accept integer leaves among the differentiated arguments.

    Returns:
        (n, n) :class:`SparsityPattern` over the raveled differentiated leaves (in
        ``jax.tree_util`` order, argument by argument), valid for every value of the
        data arguments; the general form records the input structure in
        ``provenance["input_structure"]``, both forms the function in
        ``provenance["function"]`` (its content key, see :func:`function_record`).

    Raises:
        ValueError: malformed inputs (see :func:`resolve_inputs`) or a non-scalar ``f``.
        DensePatternError: (a ValueError) the Hessian is dense or nearly so and too large
            to be worth detecting (see :mod:`asdex_pipe.detection.budget`).
    """
    return _detected("hessian", f, sample_args, sample_kwargs, locals())


def jacobian_sparsity(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    **sample_kwargs: Any,
) -> SparsityPattern:
    """Global Jacobian sparsity pattern of ``f``, valid for every input and data value.

    Arguments as for :func:`hessian_sparsity`; ``f``'s output may be any pytree (leaves
    raveled and concatenated in ``jax.tree_util`` order into m rows). The pattern may
    contain extra entries but never misses a nonzero.

    Returns:
        (m, n) :class:`SparsityPattern`.

    Raises:
        DensePatternError: (a ValueError) the Jacobian is dense or nearly so and too large
            to be worth detecting.
    """
    return _detected("jacobian", f, sample_args, sample_kwargs, locals())


def hessian_coloring(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    algorithm: str = "star",
    order: str = "largest_first",
    postprocess: bool = True,
    dtype: Any = None,
    seed: int = 0,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    **sample_kwargs: Any,
) -> ColoredPattern:
    """Detect the Hessian pattern of scalar ``f`` and color it.

    Args:
        f, sample_args, sample_kwargs, input_shape, dtype, args, kwargs, argnums,
            has_aux, allow_int: as in :func:`hessian_sparsity`.
        algorithm: ``"star"`` or ``"acyclic"``.
        order, postprocess, seed: as in :func:`asdex_pipe.coloring.color_symmetric`
            (``seed``: the random order's RNG seed).

    Returns:
        ``ColoredPattern`` of mode ``"HVP"`` whose pattern records the input structure
        (general form).
    """
    check_one_of(algorithm, SYMMETRIC_ALGORITHMS, "algorithm")
    check_one_of(order, ORDERS, "order")
    sparsity = _detected("hessian", f, sample_args, sample_kwargs, locals())
    return _coloring.hessian_coloring_from_sparsity(sparsity, algorithm, order, postprocess, seed)


def jacobian_coloring(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    mode: str = "auto",
    order: str = "largest_first",
    dtype: Any = None,
    seed: int = 0,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    **sample_kwargs: Any,
) -> ColoredPattern:
    """Detect the Jacobian pattern of ``f`` and color it (columns for ``"fwd"``, rows for
    ``"rev"``, both for ``"bidirectional"``, the fewest products for ``"auto"``; complex
    outputs force ``"fwd"``).

    Arguments as in :func:`jacobian_sparsity` and
    :func:`asdex_pipe.coloring.jacobian_coloring_from_sparsity`.
    """
    check_one_of(mode, JACOBIAN_MODES, "mode")
    check_one_of(order, ORDERS, "order")
    spec, trace_dtype = _spec("jacobian_coloring", sample_args, sample_kwargs, locals())
    mode = jacobian_mode(bind(f, spec), spec, mode, trace_dtype)
    sparsity = pattern_for("jacobian", f, spec, trace_dtype)
    return _coloring.jacobian_coloring_from_sparsity(sparsity, mode, order, seed)
