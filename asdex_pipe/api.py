"""Public detection and coloring entry points behind the front door.

``hessian_sparsity``, ``jacobian_sparsity``, ``hessian_coloring`` and ``jacobian_coloring``
accept the seed's one-array form (``input_shape`` an int, a tuple of ints or a sample
array) and the general form ``args=(...)``, ``kwargs={...}``, ``argnums``, ``has_aux``
(see :mod:`asdex_pipe.arguments`). The one-array form goes straight to the flat-vector
core, unchanged; the general form detects on the augmented vector of differentiated and
data leaves and keeps the differentiated block, with the input structure recorded in
``pattern.provenance["input_structure"]``. Every detected pattern records the function
it was detected for in ``provenance["function"]`` (:func:`function_record`), which
``*_from_coloring`` compares with the function it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.arguments import (
    InputSpec,
    augmented_function,
    input_spec,
    is_one_array,
    one_array_spec,
    restrict,
    split_aux,
)
from asdex_pipe.coloring import api as _coloring
from asdex_pipe.detection import api as _detection
from asdex_pipe.fingerprint import traced_key
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.vocabulary import (
    JACOBIAN_MODES,
    ORDERS,
    SYMMETRIC_ALGORITHMS,
    check_one_of,
)

__all__ = [
    "hessian_coloring",
    "hessian_sparsity",
    "jacobian_coloring",
    "jacobian_sparsity",
    "resolve_inputs",
]


def resolve_inputs(
    input_shape: Any,
    dtype: Any,
    args: Any,
    kwargs: Mapping[str, Any] | None,
    argnums: Any,
    has_aux: bool,
) -> InputSpec:
    """The :class:`InputSpec` of a builder call, from either form (checked, no tracing).

    ``input_shape`` alone (int, tuple of ints, sample array, ShapeDtypeStruct) is the
    one-array form; a pytree sample in ``input_shape`` (a dict, a tuple of arrays, ...)
    means ``args=(input_shape,)``; ``args``/``kwargs`` give every argument.

    Raises:
        ValueError: neither or both of ``input_shape`` and ``args``, or any error of
            :func:`asdex_pipe.arguments.input_spec`.
    """
    if args is not None and input_shape is not None:
        raise ValueError("give either input_shape (one array) or args=(...), not both")
    if args is None and input_shape is None:
        raise ValueError("the inputs are missing: give input_shape or args=(...)")
    if args is None and kwargs is None and is_one_array(input_shape) and argnums == 0:
        shape, _ = _detection.normalize_input(input_shape, dtype)
        # The leaf dtype is a placeholder: the one-array form checks x's dtype only
        # against an explicit ``dtype``.
        return one_array_spec(shape, np.float64, has_aux)
    if args is None:
        args = (input_shape,)
    return input_spec(args, kwargs, argnums, has_aux)


def output_only(f: Callable, has_aux: bool) -> Callable:
    """``f`` without its aux output (``f`` itself when ``has_aux`` is False)."""
    if not has_aux:
        return f
    return lambda *a, **k: split_aux(f(*a, **k))[0]


def detected_function(f: Callable, spec: InputSpec, input_shape: Any) -> tuple[Callable, Any]:
    """The one-array function detection traces for ``f`` with ``spec``'s inputs, and its
    input (``input_shape`` for the one-array form; the augmented length otherwise)."""
    if spec.one_array:
        return output_only(f, spec.has_aux), input_shape
    return augmented_function(f, spec)


def function_name(f: Callable) -> str:
    """``module.qualname`` of ``f`` (its repr for callables without one), for messages."""
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    if name is None:
        return repr(f)
    module = getattr(f, "__module__", None)
    return f"{module}.{name}" if module else name


def function_record(f: Callable, spec: InputSpec, input_shape: Any, dtype: Any) -> dict[str, Any]:
    """What a detected pattern records about the function it was detected for.

    ``{"key", "shape", "dtype", "name"}``: the content key
    (:func:`asdex_pipe.fingerprint.traced_key`) of the function detection traces, the
    shape and dtype it is traced at, and ``f``'s name. A coloring reused with another
    function compares that function's key with this one
    (:func:`asdex_pipe.differentiation.reuse.check_function_fits`).
    """
    traced, inp = detected_function(f, spec, input_shape)
    shape, dt = _detection.normalize_input(inp, dtype)
    key, used = traced_key(traced, shape, dt, _detection.DETECTOR_VERSION)
    return {"key": key, "shape": list(shape), "dtype": used.name, "name": function_name(f)}


def pattern_for(
    kind: str, f: Callable, spec: InputSpec, input_shape: Any, dtype: Any, *, record: bool = True
) -> SparsityPattern:
    """Detect the ``"hessian"`` or ``"jacobian"`` pattern of ``f`` for ``spec``'s inputs.

    With ``record`` (the default) the pattern's ``provenance["function"]`` records the
    function it was detected for (:func:`function_record`; one more trace of ``f``).
    """
    if not callable(f):
        raise ValueError(f"f must be callable, got {type(f).__name__}")
    detect = _detection.hessian_sparsity if kind == "hessian" else _detection.jacobian_sparsity
    traced, inp = detected_function(f, spec, input_shape)
    pattern = detect(traced, inp, dtype)
    if not spec.one_array:
        n = spec.n
        pattern = restrict(pattern, n if kind == "hessian" else pattern.shape[0], n, spec)
    if record:
        pattern.provenance["function"] = function_record(f, spec, input_shape, dtype)
    return pattern


def _one_array_input(input_shape: Any, dtype: Any) -> Any:
    """The seed form's ``input_shape`` as detection takes it (integer samples by shape)."""
    if hasattr(input_shape, "dtype") and not jnp.issubdtype(input_shape.dtype, jnp.inexact):
        return tuple(int(d) for d in input_shape.shape)
    return input_shape


def hessian_sparsity(
    f: Callable,
    input_shape: Any = None,
    dtype: Any = None,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> SparsityPattern:
    """Global, symmetric Hessian sparsity pattern of a scalar-valued ``f``.

    Args:
        f: ``f(x)`` (one array) or ``f(*args, **kwargs)`` returning a scalar (any size-1
            output), or ``(scalar, aux)`` with ``has_aux=True``.
        input_shape: the one-array form: an int, a tuple of ints, or a sample array.
        dtype: floating dtype for tracing (default float64 where ``f`` allows it).
        args: the general form: tuple of sample arguments, each a pytree of arrays or
            ``jax.ShapeDtypeStruct``; values are never read.
        kwargs: keyword arguments of ``f`` (data, never differentiated).
        argnums: int or tuple of ints, the arguments to differentiate (default 0).
        has_aux: ``f`` returns ``(output, aux)``.

    Returns:
        (n, n) :class:`SparsityPattern` over the raveled differentiated leaves (in
        ``jax.tree_util`` order, argument by argument), valid for every value of the
        data arguments; the general form records the input structure in
        ``provenance["input_structure"]``, both forms the function in
        ``provenance["function"]`` (its content key, see :func:`function_record`).

    Raises:
        ValueError: malformed inputs (see :func:`resolve_inputs`) or a non-scalar ``f``.
    """
    spec = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux)
    return pattern_for("hessian", f, spec, _one_array_input(input_shape, dtype), dtype)


def jacobian_sparsity(
    f: Callable,
    input_shape: Any = None,
    dtype: Any = None,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> SparsityPattern:
    """Global Jacobian sparsity pattern of ``f``, valid for every input and data value.

    Arguments as for :func:`hessian_sparsity`; ``f``'s output may be any pytree (leaves
    raveled and concatenated in ``jax.tree_util`` order into m rows).

    Returns:
        (m, n) :class:`SparsityPattern`.
    """
    spec = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux)
    return pattern_for("jacobian", f, spec, _one_array_input(input_shape, dtype), dtype)


def jacobian_mode(f: Callable, spec: InputSpec, mode: str) -> str:
    """``mode`` checked against ``f``'s outputs: complex outputs need forward mode."""
    x, data = spec.abstract()
    out = jax.eval_shape(spec.flat_function(f), x, data)
    if mode != "fwd" and any(jnp.iscomplexobj(leaf) for leaf in jax.tree.leaves(out)):
        if mode == "rev":
            raise ValueError(_coloring.COMPLEX_REV)
        return "fwd"
    return mode


def hessian_coloring(
    f: Callable,
    input_shape: Any = None,
    algorithm: str = "star",
    order: str = "largest_first",
    postprocess: bool = True,
    dtype: Any = None,
    seed: int = 0,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> ColoredPattern:
    """Detect the Hessian pattern of scalar ``f`` and color it.

    Args:
        f, input_shape, dtype, args, kwargs, argnums, has_aux: as in
            :func:`hessian_sparsity`.
        algorithm: ``"star"`` or ``"acyclic"``.
        order, postprocess, seed: as in :func:`asdex_pipe.coloring.color_symmetric`.

    Returns:
        ``ColoredPattern`` of mode ``"HVP"`` whose pattern records the input structure
        (general form).
    """
    check_one_of(algorithm, SYMMETRIC_ALGORITHMS, "algorithm")
    check_one_of(order, ORDERS, "order")
    spec = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux)
    sparsity = pattern_for("hessian", f, spec, _one_array_input(input_shape, dtype), dtype)
    return _coloring.hessian_coloring_from_sparsity(sparsity, algorithm, order, postprocess, seed)


def jacobian_coloring(
    f: Callable,
    input_shape: Any = None,
    mode: str = "auto",
    order: str = "largest_first",
    dtype: Any = None,
    seed: int = 0,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> ColoredPattern:
    """Detect the Jacobian pattern of ``f`` and color it (columns for ``"fwd"``, rows for
    ``"rev"``, the fewer colors for ``"auto"``; complex outputs force ``"fwd"``).

    Arguments as in :func:`jacobian_sparsity` and
    :func:`asdex_pipe.coloring.jacobian_coloring_from_sparsity`.
    """
    check_one_of(mode, JACOBIAN_MODES, "mode")
    check_one_of(order, ORDERS, "order")
    spec = resolve_inputs(input_shape, dtype, args, kwargs, argnums, has_aux)
    mode = (
        jacobian_mode(f, spec, mode)
        if not spec.one_array
        else _coloring.jacobian_mode_for(
            output_only(f, has_aux), _one_array_input(input_shape, dtype), mode, dtype
        )
    )
    sparsity = pattern_for("jacobian", f, spec, _one_array_input(input_shape, dtype), dtype)
    return _coloring.jacobian_coloring_from_sparsity(sparsity, mode, order, seed)
