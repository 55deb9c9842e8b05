"""Public sparse Hessian / Jacobian builders: thin signatures over one builder.

Each resolves its calling convention (:func:`~asdex_pipe.frontdoor.calls.resolve_call`),
checks its options once (:func:`~asdex_pipe.frontdoor.derivative.check_options`) and hands
everything to :func:`~asdex_pipe.frontdoor.derivative.build`, which returns a
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
from asdex_pipe.frontdoor.calls import resolve_call
from asdex_pipe.frontdoor.derivative import SparseDerivative, build, check_options
from asdex_pipe.frontdoor.inputs import ArgumentTypeError, input_spec
from asdex_pipe.pattern import ColoredPattern
from asdex_pipe.vocabulary import FORMATS, HVP_MODES

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

_INPUT_DOC = """
        *sample_args, **sample_kwargs: the inputs as ``f`` takes them (asdex's and JAX's
            convention): sample arrays, pytrees of arrays or ``jax.ShapeDtypeStruct``;
            one int / tuple of ints / array alone is the seed's one-array form (see
            :mod:`asdex_pipe.frontdoor.calls` for how a call is read).
        input_shape: the seed's one-array form by keyword: int, tuple of ints, or a
            sample array.
        args: the explicit form: tuple of sample arguments, instead of positional samples.
        kwargs: keyword arguments of ``f`` (data; samples as for ``args``), instead of
            keyword samples; needed for a keyword that a builder option also uses.
        argnums: int or tuple of ints, the positional arguments to differentiate.
        has_aux: ``f`` returns ``(output, aux)``; aux is returned alongside, as
            ``jax.grad(f, has_aux=True)`` returns it (leaves computed from the arguments
            as arrays, strings, Python numbers and other leaves unchanged, taken when the
            program is traced).
        allow_int: accept integer leaves among the differentiated arguments (their
            derivatives are zero), as ``jax.grad(..., allow_int=True)``.
        output_format: asdex's name for ``format`` (its values ``"numpy_dense"``,
            ``"scipy_csr"``, ``"scipy_coo"``, ``"scipy_csc"`` are formats here too).
        structure: ``"tree"`` (blocks nested like ``jax.hessian`` / ``jax.jacobian``;
            the default for the general form) or ``"flat"`` (one matrix over the raveled
            differentiated arguments, see ``.unravel``; the default for one array).

    Data arguments (positional outside ``argnums``, keyword arguments) are unknowns to
    the detector, so the pattern holds for every value of them; non-array leaves among
    them (Python ints, strings, None...) are static: fixed while tracing, and a call with
    other static values, other keyword arguments or other shapes builds again for those
    (as JAX retraces)."""


def _format_of(given: dict[str, Any], default: str | None) -> str | None:
    """``format``, or asdex's ``output_format`` keyword for it (both given: they must agree)."""
    fmt, alias = given["format"], given["output_format"]
    if alias is None:
        return fmt
    if fmt not in (None, default, alias):
        raise ArgumentTypeError(f"format={fmt!r} and output_format={alias!r} disagree; give one")
    return alias


def _from_coloring_mode(mode: str, format: str | None) -> tuple[str, str]:
    """asdex passes the output format third (``hessian_from_coloring(f, c, "dense")``):
    a format name where the mode goes is the format."""
    if mode in FORMATS and mode not in HVP_MODES and format is None:
        return "fwd_over_rev", mode
    return mode, format or "bcoo"


def hessian(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    mode: str = "fwd_over_rev",
    algorithm: str = "star",
    order: str = "largest_first",
    format: str = "bcoo",
    output_format: str | None = None,
    chunk_size: int | None = None,
    dtype: Any = None,
    seeds: str = "auto",
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
    **sample_kwargs: Any,
) -> SparseDerivative:
    """Detect the Hessian sparsity of ``f``, color it, and return the Hessian function.

    Args:
        f: scalar function (any size-1 output) of one array, or of ``*args, **kwargs``.
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
        ArgumentTypeError: (a TypeError and a ValueError) inputs of the wrong type.
        DensePatternError: (a ValueError) the Hessian is dense or nearly so and has more
            than 2^24 entries; a smaller dense one is evaluated densely, one HVP per
            column, with a ``UserWarning`` (see :mod:`asdex_pipe.coloring.dense`).
    """
    return _detecting("hessian", False, f, sample_args, sample_kwargs, locals())


def value_and_hessian(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    mode: str = "fwd_over_rev",
    algorithm: str = "star",
    order: str = "largest_first",
    format: str = "bcoo",
    output_format: str | None = None,
    chunk_size: int | None = None,
    dtype: Any = None,
    seeds: str = "auto",
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
    **sample_kwargs: Any,
) -> SparseDerivative:
    """Like :func:`hessian` but returns ``(f(x), H)`` (``((f, aux), H)`` with
    ``has_aux``), the value taken from the products' primal pass, with ``f``'s output
    shape (``()``, ``(1,)``, ...)."""
    return _detecting("hessian", True, f, sample_args, sample_kwargs, locals())


def jacobian(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    mode: str = "auto",
    order: str = "largest_first",
    format: str = "bcoo",
    output_format: str | None = None,
    chunk_size: int | None = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
    **sample_kwargs: Any,
) -> SparseDerivative:
    """Detect the Jacobian sparsity of ``f``, color it, and return the Jacobian function.

    Args:
        f: function of one array (or of ``*args, **kwargs``); its output (any pytree) is
            raveled into m rows.
        mode: ``"fwd"`` (column coloring, JVPs), ``"rev"`` (row coloring, VJPs),
            ``"bidirectional"`` (VJPs for some rows, JVPs for the rest) or ``"auto"``
            (whichever needs fewest products; always forward for complex outputs, which
            ``"rev"`` and ``"bidirectional"`` refuse).
        order: vertex order for the coloring.
        format, chunk_size, dtype: as in :func:`hessian`.{inputs}

    Returns:
        :class:`SparseDerivative`: ``x -> J`` (m, n), or structured like
        ``jax.jacobian``'s result (output structure outside, argument structure inside).

    Raises:
        DensePatternError: (a ValueError) the Jacobian is dense or nearly so and has more
            than 2^24 entries; a smaller dense one is evaluated densely, one JVP per
            column or one VJP per row, with a ``UserWarning``.
    """
    return _detecting("jacobian", False, f, sample_args, sample_kwargs, locals())


def value_and_jacobian(
    f: Callable,
    *sample_args: Any,
    input_shape: Any = None,
    mode: str = "auto",
    order: str = "largest_first",
    format: str = "bcoo",
    output_format: str | None = None,
    chunk_size: int | None = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
    **sample_kwargs: Any,
) -> SparseDerivative:
    """Like :func:`jacobian` but ``x -> (f(x), J)``; ``f(x)`` keeps its pytree structure."""
    return _detecting("jacobian", True, f, sample_args, sample_kwargs, locals())


def _detecting(
    kind: str,
    with_value: bool,
    f: Callable,
    sample_args: tuple,
    sample_kwargs: Mapping[str, Any],
    given: dict[str, Any],
) -> SparseDerivative:
    """The detecting builders' shared body (``given``: the public function's locals)."""
    what = f"{'value_and_' if with_value else ''}{kind}"
    input_shape, args, kwargs = resolve_call(
        what, sample_args, sample_kwargs, given["input_shape"], given["args"],
        given["kwargs"], given["argnums"], given["allow_int"],
    )  # fmt: skip
    options = check_options(
        kind, given["mode"], _format_of(given, "bcoo"), given["chunk_size"],
        given.get("seeds", "constant"), with_value, given["structure"],
        given.get("algorithm"), given["order"],
    )  # fmt: skip
    return build(
        options, f, input_shape=input_shape, dtype=given["dtype"], args=args, kwargs=kwargs,
        argnums=given["argnums"], has_aux=given["has_aux"], allow_int=given["allow_int"],
        what=what,
    )  # fmt: skip


def hessian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    mode: str = "fwd_over_rev",
    format: str | None = None,
    output_format: str | None = None,
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    seeds: str = "auto",
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Sparse Hessian function from a precomputed ``HVP`` coloring.

    Args:
        f: scalar function of one array of ``n`` elements (any shape), or of
            ``*args, **kwargs``.
        coloring: ``ColoredPattern`` of mode ``HVP``, (n, n). A coloring built for
            structured inputs records them; the arguments must then match (clear error
            if not), taken from the first call unless ``args`` are given here. A
            detected coloring records the function it was detected for; another ``f``
            must have its pattern contained in the coloring's (checked here, or on the
            first call for structured inputs; see
            :func:`asdex_pipe.frontdoor.reuse.check_function_fits`).
        mode: HVP mode, one of ``HVP_MODES`` (a format name here, asdex's third
            argument, is taken as ``format``).
        format: ``"bcoo"`` (the default; jit-able, entries in the pattern's row-major
            order), ``"dense"``, ``"scipy"`` (CSR, outside jit) or ``"values"`` ((nnz,)
            values in the order of ``coloring.sparsity``).
        chunk_size: at most this many HVPs at once (None: all colors at once).
        input_shape: optional shape ``x`` must have (otherwise any shape of n elements).
        dtype: optional dtype ``x`` must have.
        seeds: ``"constant"`` (seed vectors compiled into the program, which lets XLA
            fold their share of the work), ``"indexed"`` (built in the program from the
            colors; cheaper for cheap functions and no compile-time constants), or
            ``"auto"``: constant up to 2^20 seed entries (colors × n), indexed beyond,
            decided before anything is compiled (``.seeds`` says which);
            :meth:`SparseDerivative.tune_seeds` compiles and times both and keeps the
            faster (timings in ``.seed_timings``).
        args, kwargs, argnums, has_aux, allow_int, structure: as in :func:`hessian`.

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
    return _coloring_given("hessian", False, f, coloring, locals())


def value_and_hessian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    mode: str = "fwd_over_rev",
    format: str | None = None,
    output_format: str | None = None,
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    seeds: str = "auto",
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Like :func:`hessian_from_coloring` but ``x -> (f(x), H)``.

    ``f(x)`` comes from the primal computation the HVPs already perform (no extra
    forward pass) and has ``f``'s output shape.
    """
    return _coloring_given("hessian", True, f, coloring, locals())


def jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    format: str = "bcoo",
    output_format: str | None = None,
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Sparse Jacobian function from a ``JVP`` (column), ``VJP`` (row) or ``JVP+VJP``
    (bidirectional) coloring.

    Args:
        f: function of one array of n elements (or of ``*args, **kwargs``); its output
            (any pytree) is flattened and concatenated into m rows.
        coloring: ``ColoredPattern`` of mode ``JVP`` (products are JVPs), ``VJP``
            (products are VJPs after one forward pass) or ``JVP+VJP`` (both, from one
            linearization), shape (m, n). Checked against ``f`` as in
            :func:`hessian_from_coloring` (``PatternMismatchError``).
        format, chunk_size, input_shape, dtype: as in :func:`hessian_from_coloring`.
        args, kwargs, argnums, has_aux, allow_int, structure: as in :func:`hessian`.

    Returns:
        :class:`SparseDerivative`, ``x -> J`` of shape (m, n) for one array.
    """
    return _coloring_given("jacobian", False, f, coloring, locals())


def value_and_jacobian_from_coloring(
    f: Callable,
    coloring: ColoredPattern,
    format: str = "bcoo",
    output_format: str | None = None,
    chunk_size: int | None = None,
    *,
    input_shape: Any = None,
    dtype: Any = None,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
    structure: str | None = None,
) -> SparseDerivative:
    """Like :func:`jacobian_from_coloring` but ``x -> (f(x), J)``; ``f(x)`` keeps its pytree
    structure and comes from the products' primal computation."""
    return _coloring_given("jacobian", True, f, coloring, locals())


def _coloring_given(
    kind: str, with_value: bool, f: Callable, coloring: ColoredPattern, given: dict[str, Any]
) -> SparseDerivative:
    """The ``*_from_coloring`` builders' shared body (``given``: the public locals)."""
    what = f"{'value_and_' if with_value else ''}{kind}_from_coloring"
    if kind == "hessian":
        mode, fmt = _from_coloring_mode(given["mode"], _format_of(given, None))
    else:
        mode, fmt = "auto", _format_of(given, "bcoo")
    options = check_options(
        kind, mode, fmt, given["chunk_size"], given.get("seeds", "constant"), with_value,
        given["structure"],
    )  # fmt: skip
    return build(
        options, f, coloring=coloring, input_shape=given["input_shape"],
        dtype=given["dtype"], args=given["args"], kwargs=given["kwargs"],
        argnums=given["argnums"], has_aux=given["has_aux"], allow_int=given["allow_int"],
        what=what,
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


for _builder in (hessian, jacobian):
    _builder.__doc__ = _builder.__doc__.replace("{inputs}", _INPUT_DOC)
