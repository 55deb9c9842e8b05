"""The compressed step on its own: the products of a coloring without decompression, and
decompression of products computed elsewhere.

``compressed_hessian(f, ...)(x)`` returns the (k, n) matrix ``B`` whose row ``c`` is the
HVP with the seed of color ``c``; ``compressed_jacobian`` the (k, m) JVPs (column
colorings) or (k, n) VJPs (row colorings). :func:`decompress_data` turns such a ``B`` into
the (nnz,) values in the order of ``coloring.sparsity`` (jit-able); :func:`decompress`
into a matrix of a given format. ``decompress(B(x), coloring)`` equals the sparse
derivative at ``x``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.differentiation.formats import FORMAT_TABLE, Layout
from asdex_pipe.differentiation.plans import apply_plan, device_plan
from asdex_pipe.frontdoor.calls import resolve_call
from asdex_pipe.frontdoor.derivative import SparseDerivative, build, check_options, eager
from asdex_pipe.frontdoor.inputs import ArgumentTypeError
from asdex_pipe.indices import index_dtype
from asdex_pipe.pattern import BIDIRECTIONAL, ColoredPattern
from asdex_pipe.vocabulary import FORMATS, check_one_of

__all__ = [
    "compressed_hessian",
    "compressed_hessian_from_coloring",
    "compressed_jacobian",
    "compressed_jacobian_from_coloring",
    "decompress",
    "decompress_data",
    "value_and_compressed_hessian",
    "value_and_compressed_hessian_from_coloring",
    "value_and_compressed_jacobian",
    "value_and_compressed_jacobian_from_coloring",
]


def _compressed(
    kind: str,
    f: Callable,
    coloring: ColoredPattern | None,
    sample_args: tuple,
    sample_kwargs: Mapping[str, Any],
    mode: str,
    chunk_size: int | None,
    with_value: bool,
    argnums: Any,
    has_aux: bool,
    allow_int: bool,
    what: str,
) -> SparseDerivative:
    input_shape, args, kwargs = resolve_call(
        what, sample_args, sample_kwargs, None, None, None, argnums, allow_int
    )
    options = check_options(kind, mode, "values", chunk_size, "constant", with_value, "flat")
    options = options.compressed_only()
    return build(
        options, f, coloring=coloring, input_shape=input_shape, args=args, kwargs=kwargs,
        argnums=argnums, has_aux=has_aux, allow_int=allow_int, what=what,
    )  # fmt: skip


def compressed_hessian(
    f: Callable,
    *sample_args: Any,
    mode: str = "fwd_over_rev",
    chunk_size: int | None = None,
    with_value: bool = False,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    **sample_kwargs: Any,
) -> SparseDerivative:
    """Detect and color the Hessian of ``f`` and return its compressed products.

    Args:
        f: scalar function; the inputs as in :func:`asdex_pipe.hessian`
            (``*sample_args``, ``argnums``, ``has_aux``, ``allow_int``,
            ``**sample_kwargs``).
        mode: HVP mode.
        chunk_size: at most this many HVPs at once.
        with_value: return ``(f(x), B)``.

    Returns:
        :class:`SparseDerivative` ``x -> B`` with ``B`` of shape (k, n), row ``c`` the HVP
        with color ``c``'s seed (over the raveled differentiated arguments); its
        ``coloring`` decompresses ``B`` (:func:`decompress`).
    """
    return _compressed(
        "hessian", f, None, sample_args, sample_kwargs, mode, chunk_size, with_value,
        argnums, has_aux, allow_int, "compressed_hessian",
    )  # fmt: skip


def compressed_hessian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    mode: str = "fwd_over_rev",
    chunk_size: int | None = None,
    *,
    with_value: bool = False,
    has_aux: bool = False,
    allow_int: bool = False,
) -> SparseDerivative:
    """The compressed HVPs of ``f`` for an ``HVP`` coloring (see
    :func:`compressed_hessian`); called like ``f``."""
    return _compressed(
        "hessian", f, coloring, (), {}, mode, chunk_size, with_value, 0, has_aux,
        allow_int, "compressed_hessian_from_coloring",
    )  # fmt: skip


def compressed_jacobian(
    f: Callable,
    *sample_args: Any,
    mode: str = "auto",
    chunk_size: int | None = None,
    with_value: bool = False,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    **sample_kwargs: Any,
) -> SparseDerivative:
    """Detect and color the Jacobian of ``f`` and return its compressed products.

    Args:
        f: the function; the inputs as in :func:`asdex_pipe.jacobian`.
        mode: ``"fwd"`` (JVPs), ``"rev"`` (VJPs) or ``"auto"`` (bidirectional colorings,
            whose products have two shapes, are not offered here).
        chunk_size, with_value: as in :func:`compressed_hessian`.

    Returns:
        :class:`SparseDerivative` ``x -> B``: (k, m) JVPs for a column coloring, (k, n)
        VJPs for a row coloring.
    """
    check_one_of(mode, ("auto", "fwd", "rev"), "mode")
    return _compressed(
        "jacobian", f, None, sample_args, sample_kwargs, mode, chunk_size, with_value,
        argnums, has_aux, allow_int, "compressed_jacobian",
    )  # fmt: skip


def compressed_jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    chunk_size: int | None = None,
    *,
    with_value: bool = False,
    has_aux: bool = False,
    allow_int: bool = False,
) -> SparseDerivative:
    """The compressed JVPs or VJPs of ``f`` for a ``JVP`` or ``VJP`` coloring (see
    :func:`compressed_jacobian`); called like ``f``."""
    return _compressed(
        "jacobian", f, coloring, (), {}, "auto", chunk_size, with_value, 0, has_aux,
        allow_int, "compressed_jacobian_from_coloring",
    )  # fmt: skip


def value_and_compressed_hessian(f: Callable, *sample_args: Any, **options: Any) -> Any:
    """:func:`compressed_hessian` with ``with_value=True``: ``x -> (f(x), B)`` (asdex's
    name)."""
    return compressed_hessian(f, *sample_args, with_value=True, **options)


def value_and_compressed_hessian_from_coloring(f: Callable, coloring: Any, **options: Any) -> Any:
    """:func:`compressed_hessian_from_coloring` with ``with_value=True``."""
    return compressed_hessian_from_coloring(f, coloring, with_value=True, **options)


def value_and_compressed_jacobian(f: Callable, *sample_args: Any, **options: Any) -> Any:
    """:func:`compressed_jacobian` with ``with_value=True``: ``x -> (f(x), B)``."""
    return compressed_jacobian(f, *sample_args, with_value=True, **options)


def value_and_compressed_jacobian_from_coloring(f: Callable, coloring: Any, **options: Any) -> Any:
    """:func:`compressed_jacobian_from_coloring` with ``with_value=True``."""
    return compressed_jacobian_from_coloring(f, coloring, with_value=True, **options)


def product_length(coloring: ColoredPattern) -> int:
    """Length of one compressed product: m for JVPs, n for HVPs and VJPs."""
    return coloring.shape[0] if coloring.mode == "JVP" else coloring.shape[1]


def decompress_data(compressed: Any, coloring: ColoredPattern) -> jax.Array:
    """The (nnz,) values of ``coloring.sparsity`` (its row-major order) from the compressed
    products ``B``; jit-able (the coloring may be passed through ``jax.jit``).

    Args:
        compressed: (k, L) products, colors-major: L = n for HVPs and VJPs, m for JVPs.
        coloring: the ``HVP``, ``JVP`` or ``VJP`` coloring the products were taken for.

    Raises:
        ArgumentTypeError: ``coloring`` is not a ColoredPattern.
        ValueError: ``compressed`` of another shape, or a bidirectional coloring.
    """
    if not isinstance(coloring, ColoredPattern):
        raise ArgumentTypeError(f"expected a ColoredPattern, got {type(coloring).__name__}")
    if coloring.mode == BIDIRECTIONAL:
        raise ValueError("a bidirectional (JVP+VJP) coloring has no single compressed matrix")
    length = product_length(coloring)
    expected = (coloring.num_colors, length)
    if tuple(jnp.shape(compressed)) != expected:
        raise ValueError(
            f"the compressed matrix has shape {tuple(jnp.shape(compressed))}, but this "
            f"{coloring.mode} coloring needs {expected} (colors, product length)"
        )
    with eager():
        plan = device_plan(coloring, length)
        arrays = {k: jnp.asarray(v) for k, v in plan.items() if k != "kind"}
    return apply_plan(plan["kind"], arrays, jnp.asarray(compressed))


def decompress(
    compressed: Any,
    coloring: ColoredPattern,
    format: str = "bcoo",
    *,
    output_format: str | None = None,
) -> Any:
    """The sparse matrix from compressed products (see :func:`decompress_data`).

    Args:
        compressed: (k, L) products.
        coloring: their coloring.
        format: one of ``FORMATS``: ``"bcoo"``, ``"dense"``, ``"scipy"`` (host CSR),
            ``"values"``, or asdex's ``"numpy_dense"``, ``"scipy_csr"``/``"_coo"``/``"_csc"``.
        output_format: asdex's name for ``format``.

    Returns:
        The (m, n) matrix in ``format`` (flat: over the raveled arguments).
    """
    format = output_format or format
    check_one_of(format, FORMATS, "format")
    values = decompress_data(compressed, coloring)
    s = coloring.sparsity
    with eager():
        rows_cols = np.stack([s.rows, s.cols], axis=1).astype(index_dtype(max(s.shape)))
        layout = Layout(s, jnp.asarray(rows_cols), None)
    fmt = FORMAT_TABLE[format]
    return fmt.wrap(fmt.finish(values, layout.indices, layout), layout)
