"""Public sparse Hessian / Jacobian builders: thin signatures over one builder.

Each checks its options once (:func:`~asdex_pipe.frontdoor.derivative.check_options`)
and hands everything to :func:`~asdex_pipe.frontdoor.derivative.build`, which returns a
:class:`~asdex_pipe.frontdoor.derivative.SparseDerivative`. :func:`hvp` is the one
Hessian-vector product with the same calling conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from asdex_pipe.differentiation.hvp import check_mode, hvp_fn
from asdex_pipe.frontdoor.bind import bind, bind_data
from asdex_pipe.frontdoor.derivative import SparseDerivative, build, check_options
from asdex_pipe.frontdoor.inputs import input_spec
from asdex_pipe.pattern import ColoredPattern

__all__ = [
    "SparseDerivative",
    "hessian",
    "hessian_from_coloring",
    "hvp",
    "jacobian",
    "jacobian_from_coloring",
    "value_and_hessian",
    "value_and_hessian_from_coloring",
    "value_and_jacobian",
    "value_and_jacobian_from_coloring",
]


# ------------------------------------------------------------------ public builders
_INPUT_DOC = """
        args: the general form: tuple of sample arguments (pytrees of arrays or
            ``jax.ShapeDtypeStruct``), instead of ``input_shape``.
        kwargs: keyword arguments of ``f`` (data; samples as for ``args``).
        argnums: int or tuple of ints, the positional arguments to differentiate.
        has_aux: ``f`` returns ``(output, aux)``; aux is returned alongside, as
            ``jax.grad(f, has_aux=True)`` returns it (leaves computed from the arguments
            as arrays, strings, Python numbers and other leaves unchanged, taken when the
            program is traced).
        structure: ``"tree"`` (blocks nested like ``jax.hessian`` / ``jax.jacobian``;
            the default for the general form) or ``"flat"`` (one matrix over the raveled
            differentiated arguments, see ``.unravel``; the default for one array)."""


def hessian(
    f: Callable,
    input_shape: Any = None,
    mode: str = "fwd_over_rev",
    algorithm: str = "star",
    order: str = "largest_first",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
    seeds: str = "auto",
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Detect the Hessian sparsity of ``f``, color it, and return the Hessian function.

    Args:
        f: scalar function (any size-1 output) of one array of shape ``input_shape``, or
            of ``*args, **kwargs``.
        input_shape: the one-array form: int, tuple of ints, or a sample array.
        mode: HVP mode (``"fwd_over_rev"``, ``"rev_over_fwd"``, ``"rev_over_rev"``).
        algorithm: ``"star"`` (direct decompression) or ``"acyclic"`` (fewer colors,
            substitution).
        order: vertex order for the coloring.
        format: ``"bcoo"``, ``"dense"``, ``"scipy"`` or ``"values"`` (the (nnz,) nonzero
            values in the order of ``fn.coloring.sparsity``'s rows/cols).
        chunk_size: at most this many HVPs at once.
        dtype: dtype used for detection and required of ``x`` (None: any float).
        seeds: ``"constant"``, ``"indexed"`` or ``"auto"``; see
            :func:`hessian_from_coloring`.{inputs}

    Returns:
        :class:`SparseDerivative`: ``x -> H`` of shape (n, n) for one array, or
        ``(*args, **kwargs) -> H`` structured per ``structure``. Detection and coloring
        run once, here; the pattern holds for every value of the data arguments.

    Raises:
        DensePatternError: (a ValueError) the Hessian is dense or nearly so and has more
            than 2^24 entries; a smaller dense one is evaluated densely, one HVP per
            column, with a ``UserWarning`` (see :mod:`asdex_pipe.coloring.dense`).
    """
    options = check_options(
        "hessian", mode, format, chunk_size, seeds, False, structure, algorithm, order
    )
    return build(
        options, f, input_shape=input_shape, dtype=dtype, args=args, kwargs=kwargs,
        argnums=argnums, has_aux=has_aux, what="hessian",
    )  # fmt: skip


def value_and_hessian(
    f: Callable,
    input_shape: Any = None,
    mode: str = "fwd_over_rev",
    algorithm: str = "star",
    order: str = "largest_first",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
    seeds: str = "auto",
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Like :func:`hessian` but returns ``(f(x), H)`` (``((f, aux), H)`` with
    ``has_aux``), the value taken from the products' primal pass, with ``f``'s output
    shape (``()``, ``(1,)``, ...)."""
    options = check_options(
        "hessian", mode, format, chunk_size, seeds, True, structure, algorithm, order
    )
    return build(
        options, f, input_shape=input_shape, dtype=dtype, args=args, kwargs=kwargs,
        argnums=argnums, has_aux=has_aux, what="value_and_hessian",
    )  # fmt: skip


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
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Sparse Hessian function from a precomputed ``HVP`` coloring.

    Args:
        f: scalar function of one array of ``n`` elements (any shape), or of
            ``*args, **kwargs`` (then give ``args``).
        coloring: ``ColoredPattern`` of mode ``HVP``, (n, n). A coloring built for
            structured inputs records them; ``args`` must then match (clear error if not).
            A detected coloring records the function it was detected for; another
            ``f`` must have its pattern contained in the coloring's (checked here, or on
            the first call for structured inputs; see
            :func:`asdex_pipe.differentiation.reuse.check_function_fits`).
        mode: HVP mode, one of ``HVP_MODES``.
        format: ``"bcoo"`` (jit-able, entries in the pattern's row-major order),
            ``"dense"``, ``"scipy"`` (CSR, outside jit) or ``"values"`` ((nnz,) values in
            the order of ``coloring.sparsity``).
        chunk_size: at most this many HVPs at once (None: all colors at once).
        input_shape: optional shape ``x`` must have (otherwise any shape of n elements).
        dtype: optional dtype ``x`` must have.
        seeds: ``"constant"`` (seed vectors compiled into the program, which lets XLA
            fold their share of the work), ``"indexed"`` (built in the program from the
            colors; cheaper for cheap functions), or ``"auto"``: from n = 10^4 inputs
            on, the first call made outside ``jax.jit``/``vmap`` runs
            :meth:`SparseDerivative.tune_seeds` (compiles and times both, keeps the
            faster; the choice and timings are in ``.seeds`` / ``.seed_timings``);
            smaller problems use ``"constant"``.{inputs}

    Returns:
        :class:`SparseDerivative`, ``x -> H`` with ``H`` of shape (n, n) for one array.

    Raises:
        ValueError: wrong coloring mode, unknown mode/format, bad chunk_size, a coloring
            that cannot recover its pattern or was built for other inputs; the returned
            function raises ValueError for arguments whose structure, shape or dtype do
            not fit.
        PatternMismatchError: (a ValueError) a detected coloring whose pattern does not
            contain ``f``'s.
    """
    options = check_options("hessian", mode, format, chunk_size, seeds, False, structure)
    return build(
        options, f, coloring=coloring, input_shape=input_shape, dtype=dtype, args=args,
        kwargs=kwargs, argnums=argnums, has_aux=has_aux, what="hessian_from_coloring",
    )  # fmt: skip


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
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Like :func:`hessian_from_coloring` but ``x -> (f(x), H)``.

    ``f(x)`` comes from the primal computation the HVPs already perform (no extra
    forward pass) and has ``f``'s output shape.
    """
    options = check_options("hessian", mode, format, chunk_size, seeds, True, structure)
    return build(
        options, f, coloring=coloring, input_shape=input_shape, dtype=dtype, args=args,
        kwargs=kwargs, argnums=argnums, has_aux=has_aux,
        what="value_and_hessian_from_coloring",
    )  # fmt: skip


def jacobian(
    f: Callable,
    input_shape: Any = None,
    mode: str = "auto",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Detect the Jacobian sparsity of ``f``, color it, and return the Jacobian function.

    Args:
        f: function of one array of shape ``input_shape`` (or of ``*args, **kwargs``); its
            output (any pytree) is raveled into m rows.
        input_shape: int or tuple, or a sample array.
        mode: ``"fwd"`` (column coloring, JVPs), ``"rev"`` (row coloring, VJPs),
            ``"bidirectional"`` (VJPs for some rows, JVPs for the rest) or ``"auto"``
            (whichever needs fewest products; always forward for complex outputs, which
            ``"rev"`` and ``"bidirectional"`` refuse).
        format, chunk_size, dtype: as in :func:`hessian`.{inputs}

    Returns:
        :class:`SparseDerivative`: ``x -> J`` (m, n), or structured like
        ``jax.jacobian``'s result (output structure outside, argument structure inside).

    Raises:
        DensePatternError: (a ValueError) the Jacobian is dense or nearly so and has more
            than 2^24 entries; a smaller dense one is evaluated densely, one JVP per
            column or one VJP per row, with a ``UserWarning``.
    """
    options = check_options("jacobian", mode, format, chunk_size, "constant", False, structure)
    return build(
        options, f, input_shape=input_shape, dtype=dtype, args=args, kwargs=kwargs,
        argnums=argnums, has_aux=has_aux, what="jacobian",
    )  # fmt: skip


def value_and_jacobian(
    f: Callable,
    input_shape: Any = None,
    mode: str = "auto",
    format: str = "bcoo",
    chunk_size: int | None = None,
    dtype: Any = None,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Like :func:`jacobian` but ``x -> (f(x), J)``; ``f(x)`` keeps its pytree structure."""
    options = check_options("jacobian", mode, format, chunk_size, "constant", True, structure)
    return build(
        options, f, input_shape=input_shape, dtype=dtype, args=args, kwargs=kwargs,
        argnums=argnums, has_aux=has_aux, what="value_and_jacobian",
    )  # fmt: skip


def jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    format: str = "bcoo",
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Sparse Jacobian function from a ``JVP`` (column), ``VJP`` (row) or ``JVP+VJP``
    (bidirectional) coloring.

    Args:
        f: function of one array of n elements (or of ``*args, **kwargs``); its output
            (any pytree) is flattened and concatenated into m rows.
        coloring: ``ColoredPattern`` of mode ``JVP`` (products are JVPs), ``VJP``
            (products are VJPs after one forward pass) or ``JVP+VJP`` (both, from one
            linearization), shape (m, n). Checked against
            ``f`` as in :func:`hessian_from_coloring` (``PatternMismatchError``).
        format, chunk_size, input_shape, dtype: as in :func:`hessian_from_coloring`.{inputs}

    Returns:
        :class:`SparseDerivative`, ``x -> J`` of shape (m, n) for one array.
    """
    options = check_options("jacobian", "auto", format, chunk_size, "constant", False, structure)
    return build(
        options, f, coloring=coloring, input_shape=input_shape, dtype=dtype, args=args,
        kwargs=kwargs, argnums=argnums, has_aux=has_aux, what="jacobian_from_coloring",
    )  # fmt: skip


def value_and_jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    format: str = "bcoo",
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Like :func:`jacobian_from_coloring` but ``x -> (f(x), J)``; ``f(x)`` keeps its pytree
    structure and comes from the products' primal computation."""
    options = check_options("jacobian", "auto", format, chunk_size, "constant", True, structure)
    return build(
        options, f, coloring=coloring, input_shape=input_shape, dtype=dtype, args=args,
        kwargs=kwargs, argnums=argnums, has_aux=has_aux,
        what="value_and_jacobian_from_coloring",
    )  # fmt: skip


def hvp(
    f: Callable,
    x: Any = None,
    v: Any = None,
    mode: str = "fwd_over_rev",
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> Any:
    """Hessian-vector product ``H(x) @ v`` of a scalar function, without forming ``H``.

    Args:
        f: scalar-valued function (any size-1 output) of one array ``x``, or of
            ``*args, **kwargs`` (returning ``(scalar, aux)`` with ``has_aux``).
        x: point: one array, or one pytree of arrays (then ``f`` takes one argument).
        v: direction, structured like the differentiated argument(s) (same shape as
            ``x`` for one array; a tuple per argument for a tuple ``argnums``).
        mode: ``"fwd_over_rev"`` (default), ``"rev_over_fwd"`` or ``"rev_over_rev"``.
        args: instead of ``x``, all positional arguments of ``f`` (pytrees of arrays).
        kwargs: keyword arguments of ``f`` (data, not differentiated).
        argnums: int or tuple of ints, the arguments to differentiate.
        has_aux: ``f`` returns ``(output, aux)``; then ``(H @ v, aux)`` is returned.

    Returns:
        ``H @ v`` structured like ``v`` (of ``x``'s shape for one array).

    Raises:
        ValueError: for an unknown mode, or when ``v``'s structure or shapes differ from
            the differentiated argument(s).
    """
    check_mode(mode)
    plain = args is None and kwargs is None and argnums == 0 and not has_aux
    if plain and jax.tree_util.treedef_is_leaf(jax.tree.structure(x)):
        x = jnp.asarray(x)
        v = jnp.asarray(v, dtype=x.dtype)
        if v.shape != x.shape:
            raise ValueError(f"v must have x's shape {x.shape}, got {v.shape}")
        return hvp_fn(f, mode)(x, v)
    if args is None:
        args = (x,)
    spec = input_spec(args, kwargs, argnums, has_aux)
    xf, data = spec.split(tuple(args), kwargs or {})
    v_leaves, v_tree = jax.tree.flatten(v)
    if v_tree != spec.diff_tree or any(
        jnp.shape(a) != leaf.shape for a, leaf in zip(v_leaves, spec.diff_leaves, strict=True)
    ):
        raise ValueError(
            f"v must be structured like the differentiated argument(s) {spec.diff_tree} with "
            f"leaf shapes {[leaf.shape for leaf in spec.diff_leaves]}, got {v_tree} with "
            f"{[jnp.shape(a) for a in v_leaves]}"
        )
    vf = jnp.concatenate([jnp.ravel(a).astype(xf.dtype) for a in v_leaves])
    out = spec.unravel(hvp_fn(bind_data(f, spec, data), mode)(xf, vf))
    if has_aux:
        return out, bind(f, spec, aux=True)(xf, data)
    return out


for _builder in (hessian, hessian_from_coloring, jacobian, jacobian_from_coloring):
    _builder.__doc__ = _builder.__doc__.replace("{inputs}", _INPUT_DOC)
