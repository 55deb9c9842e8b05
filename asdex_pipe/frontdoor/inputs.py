"""Input specs: ``f(*args, **kwargs)`` with pytrees, ``argnums`` and ``has_aux``, and the
seed's one-array ``input_shape`` forms.

Detection, coloring and differentiation work on one flat vector ``x``. This module is the
one place that knows about the user's arguments: :class:`InputSpec` records their structure
(which positional arguments are differentiated, each leaf's shape and dtype, the data
arguments and keyword arguments), ravels the differentiated leaves into ``x``, turns ``f``
into ``g(x, data)`` (``data``: the tuple of the other leaves) and puts results back into
the user's structure.

**Patterns are global over the data.** Data arguments (positional arguments outside
``argnums`` and every keyword argument) are unknowns to the detector, not constants: it
detects on the *augmented* vector ``z = [x, data leaves]`` and keeps the ``x`` block
(:func:`augmented_function`). For a Hessian the xx-block of the pattern over ``(x, data)``
is exactly the pattern that holds for every data value; for a Jacobian the x-columns. So
one coloring serves every batch.

**Integer data** (indices, masks, counts) enter the augmented vector as float slots that the
function sees converted to their integer dtype. The detector treats them as unknown
integers: ``x[idx]`` with an integer data argument ``idx`` may read any element of ``x``,
so the pattern is as conservative as an input-dependent index (dense along the indexed
axis) and stays valid for every index array of that shape. A function whose sparsity comes
from fixed indices should close over them (constants) instead of taking them as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.pattern import SparsityPattern

__all__ = [
    "ArgumentTypeError",
    "InputSpec",
    "Leaf",
    "StructureMismatch",
    "check_x",
    "input_spec",
    "is_one_array",
    "normalize_input",
    "one_array_spec",
    "resolve_inputs",
]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a non-callable ``f``, a non-array leaf, an integer
    leaf to differentiate, a non-integer ``argnums``...). A ``TypeError``, as JAX raises
    for these, and a ``ValueError``, as asdex_pipe raised before, so both catch it."""


class StructureMismatch(ValueError):
    """A call's arguments have another structure than the function was built for (other
    pytree structure, shapes, keyword arguments or static values).

    Attributes:
        retrace: the difference is one JAX retraces for (other keyword arguments, other
            static values or data structure), so a builder may build again for it; other
            differentiated arguments, shapes or argument counts are errors.
    """

    def __init__(self, message: str, *, retrace: bool = False):
        super().__init__(message)
        self.retrace = retrace


def normalize_input(input_shape: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    """Validate the one-array ``input_shape`` and ``dtype``; return (shape, numpy dtype or
    None).

    Args:
        input_shape: an int ``n`` (shape ``(n,)``, numpy integers included), a tuple of
            non-negative ints, or a sample array (its shape, and its dtype unless
            ``dtype`` is given).
        dtype: None (not given: detection traces at float64 where ``f`` allows it) or
            anything ``np.dtype`` accepts.
    """
    is_int = isinstance(input_shape, int | np.integer) and not isinstance(input_shape, bool)
    if not is_int and hasattr(input_shape, "shape") and hasattr(input_shape, "dtype"):
        shape = tuple(int(d) for d in input_shape.shape)
        return shape, np.dtype(dtype) if dtype is not None else np.dtype(input_shape.dtype)
    dims = (input_shape,) if is_int else input_shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise ArgumentTypeError(
            f"input_shape must be an int, a tuple of ints or a sample array, got {input_shape!r}"
        ) from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int | np.integer):
            raise ArgumentTypeError(f"input_shape entries must be integers, got {input_shape!r}")
        if d < 0:
            raise ValueError(f"input_shape entries must be non-negative, got {input_shape!r}")
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        raise ArgumentTypeError(f"dtype must be a numpy/JAX dtype, got {dtype!r}") from None
    return tuple(int(d) for d in dims), dt


def detection_input(input_shape: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    """``(shape, dtype)`` detection traces the one-array form at: a sample's own dtype
    when it is floating and no ``dtype`` is given, the default (None) for an integer
    sample (which gives its shape only)."""
    shape, dt = normalize_input(input_shape, dtype)
    if dtype is None and dt is not None and not jnp.issubdtype(dt, jnp.inexact):
        dt = None
    return shape, dt


class _Static:
    """A non-array leaf of a data argument (a Python int, bool, str, None, any object):
    fixed while tracing, as ``jax.hessian`` fixes the arguments it does not differentiate,
    and part of the structure, so another value means another build (as JAX retraces).
    A pytree node without children; equal when the values are."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Static) or type(other.value) is not type(self.value):
            return False
        try:
            return bool(self.value == other.value)
        except Exception:  # values without a usable ==: the same object only
            return self.value is other.value

    def __hash__(self) -> int:
        try:
            return hash((type(self.value), self.value))
        except TypeError:
            return id(self.value)

    def __repr__(self) -> str:
        return f"static({self.value!r})"


jax.tree_util.register_pytree_node(_Static, lambda s: ((), s), lambda s, _: s)


def _is_static(value: Any) -> bool:
    """Non-array leaves that stay Python values: everything but arrays, samples and
    floating / complex numbers (which are traced as data, as ``jax.jit`` traces them)."""
    if isinstance(value, jax.ShapeDtypeStruct) or hasattr(value, "shape"):
        return False
    return not isinstance(value, float | complex | np.inexact)


def _mark_static(tree: Any) -> Any:
    """``tree`` with its static leaves wrapped in :class:`_Static` (part of the treedef)."""
    return jax.tree.map(lambda v: _Static(v) if _is_static(v) else v, tree)


def structure_key(args: tuple, kwargs: Mapping[str, Any]) -> tuple[str, tuple]:
    """A hashable key of a call's structure: its pytree structure with the static values,
    and the shape and dtype of every other leaf (not their values)."""
    leaves, tree = jax.tree.flatten(_mark_static((tuple(args), dict(kwargs))))
    return str(tree), tuple((tuple(jnp.shape(v)), str(jnp.result_type(v))) for v in leaves)


def _unmark_static(tree: Any) -> Any:
    """Inverse of :func:`_mark_static`."""
    return jax.tree.map(
        lambda v: v.value if isinstance(v, _Static) else v,
        tree,
        is_leaf=lambda v: isinstance(v, _Static),
    )


@dataclass(frozen=True)
class Leaf:
    """Shape and dtype of one array leaf."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    def describe(self) -> list[Any]:
        """JSON form ``[shape list, dtype name]``."""
        return [list(self.shape), self.dtype.name]


def _leaf_of(value: Any, where: str, *, differentiated: bool, allow_int: bool = False) -> Leaf:
    """The :class:`Leaf` of an array, sample or ``jax.ShapeDtypeStruct``;
    :class:`ArgumentTypeError` else (and for an integer leaf to differentiate, unless
    ``allow_int``)."""
    if isinstance(value, jax.ShapeDtypeStruct) or (
        hasattr(value, "shape") and hasattr(value, "dtype")
    ):
        shape, dtype = tuple(int(d) for d in value.shape), np.dtype(value.dtype)
    elif not differentiated and isinstance(value, int | float | complex | np.generic):
        arr = jnp.asarray(value)  # a Python number as data: JAX's default dtype for it
        shape, dtype = (), np.dtype(arr.dtype)
    else:
        raise ArgumentTypeError(
            f"{where} is a {type(value).__name__}, not an array: every leaf of "
            f"{'a differentiated' if differentiated else 'an'} argument must be an array or a "
            "jax.ShapeDtypeStruct"
        )
    if differentiated and not jnp.issubdtype(dtype, jnp.inexact) and not allow_int:
        raise ArgumentTypeError(
            f"{where} has dtype {dtype} (shape {shape}): differentiated leaves must be "
            "floating-point; pass integer arrays as data (outside argnums), or allow_int=True "
            "(their derivatives are zero, as in jax.grad)"
        )
    return Leaf(shape, jax.dtypes.canonicalize_dtype(dtype))


def _path_text(path: Any) -> str:
    return jax.tree_util.keystr(path) if path else ""


def normalize_argnums(argnums: Any, num_args: int) -> tuple[tuple[int, ...], bool]:
    """``argnums`` as a tuple of non-negative positions, and whether it was one int.

    Raises:
        ValueError: for a non-int entry, an empty tuple, a position outside the call's
            ``num_args`` positional arguments, or a repeated position.
    """
    is_int = isinstance(argnums, int | np.integer) and not isinstance(argnums, bool)
    nums = (argnums,) if is_int else argnums
    try:
        nums = tuple(nums)
    except TypeError:
        raise ArgumentTypeError(
            f"argnums must be an int or a tuple of ints, got {argnums!r}"
        ) from None
    if not nums:
        raise ValueError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    if any(isinstance(a, bool) or not isinstance(a, int | np.integer) for a in nums):
        raise ArgumentTypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    out = []
    for a in nums:
        if not -num_args <= a < num_args:
            raise ValueError(
                f"argnums {argnums!r} names argument {a}, but f is called with {num_args} "
                "positional argument(s)"
            )
        out.append(int(a) % num_args)
    if len(set(out)) != len(out):
        raise ValueError(f"argnums {argnums!r} repeats an argument")
    return tuple(out), is_int


@dataclass(frozen=True, eq=False)
class InputSpec:
    """The structure of ``f``'s arguments, and the maps between them and ``(x, data)``.

    Attributes:
        num_args: number of positional arguments.
        argnums: positions of the differentiated arguments (sorted as given).
        argnums_is_int: ``argnums`` was one int: results are keyed by that argument's
            structure, not by a tuple of arguments (as in ``jax.hessian``).
        diff_tree: treedef of the differentiated object (the argument, or the tuple).
        diff_leaves: its leaves; ``x`` is their concatenation, raveled row-major.
        data_tree: treedef of ``(other positional arguments, kwargs)``.
        data_leaves: its leaves (the ``data`` tuple).
        has_aux: ``f`` returns ``(output, aux)``.
        one_array: the seed's one-array form (results are flat ``(m, n)`` matrices).
    """

    num_args: int
    argnums: tuple[int, ...]
    argnums_is_int: bool
    diff_tree: Any
    diff_leaves: tuple[Leaf, ...]
    data_tree: Any
    data_leaves: tuple[Leaf, ...]
    has_aux: bool
    one_array: bool = False

    # ---------------------------------------------------------------- sizes
    @property
    def n(self) -> int:
        """Length of the flat vector ``x``."""
        return sum(leaf.size for leaf in self.diff_leaves)

    @property
    def dtype(self) -> np.dtype:
        """dtype of ``x``: the common type of the differentiated leaves."""
        inexact = [
            leaf.dtype for leaf in self.diff_leaves if jnp.issubdtype(leaf.dtype, jnp.inexact)
        ]
        # Integer leaves (allow_int) ride in x as floats.
        return np.dtype(jnp.result_type(*inexact) if inexact else jnp.result_type(float))

    @property
    def offsets(self) -> np.ndarray:
        """Start of each differentiated leaf in ``x`` (plus the end), shape (leaves + 1,)."""
        return np.cumsum([0, *[leaf.size for leaf in self.diff_leaves]])

    # ---------------------------------------------------------------- maps
    def unravel(self, x: Any, *, cast: bool = True) -> Any:
        """The differentiated object (one argument, or a tuple of them) from flat ``x``.

        Args:
            x: (n,) vector.
            cast: give each leaf its own dtype (off during detection, which traces at the
                precision of ``x``).
        """
        bounds = self.offsets
        parts = []
        for i, leaf in enumerate(self.diff_leaves):
            part = x[bounds[i] : bounds[i + 1]].reshape(leaf.shape)
            parts.append(part.astype(leaf.dtype) if cast else part)
        return jax.tree.unflatten(self.diff_tree, parts)

    def assemble(self, diff: Any, data: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """``(args, kwargs)`` of ``f`` from the differentiated object and the data leaves."""
        others, kwargs = _unmark_static(jax.tree.unflatten(self.data_tree, list(data)))
        chosen = (diff,) if self.argnums_is_int else tuple(diff)
        args: list[Any] = list(others)
        for pos, value in sorted(zip(self.argnums, chosen, strict=True)):
            args.insert(pos, value)
        return tuple(args), dict(kwargs)

    def split(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[jax.Array, tuple]:
        """``(x, data)`` from a call's arguments, checked against the recorded structure.

        Raises:
            StructureMismatch: (a ValueError) a different number of positional arguments,
                another pytree structure, shape or dtype of a leaf, other keyword arguments
                or other static values.
        """
        if len(args) != self.num_args:
            raise StructureMismatch(
                f"f was built for {self.num_args} positional argument(s), got {len(args)}"
            )
        diff = (
            args[self.argnums[0]] if self.argnums_is_int else tuple(args[a] for a in self.argnums)
        )
        leaves, tree = jax.tree.flatten(diff)
        if tree != self.diff_tree:
            raise StructureMismatch(
                f"the differentiated argument(s) have structure {tree}, but the pattern was "
                f"built for {self.diff_tree}"
            )
        xs = []
        for i, (value, want) in enumerate(zip(leaves, self.diff_leaves, strict=True)):
            arr = jnp.asarray(value) if not isinstance(value, jax.Array) else value
            if tuple(arr.shape) != want.shape or np.dtype(arr.dtype) != want.dtype:
                raise StructureMismatch(
                    f"differentiated leaf {i} has shape {tuple(arr.shape)} and dtype "
                    f"{arr.dtype}, but the pattern was built for shape {want.shape} and dtype "
                    f"{want.dtype}"
                )
            xs.append(arr.reshape(-1).astype(self.dtype))
        x = xs[0] if len(xs) == 1 else jnp.concatenate(xs)
        others = tuple(a for i, a in enumerate(args) if i not in self.argnums)
        data_leaves, data_tree = jax.tree.flatten((others, dict(kwargs)))
        if any(_is_static(v) for v in data_leaves):  # rare: only then the tree.map
            data_leaves, data_tree = jax.tree.flatten(_mark_static((others, dict(kwargs))))
        if data_tree != self.data_tree:
            raise StructureMismatch(
                f"the data arguments (positional outside argnums, and keywords) have structure "
                f"{data_tree}, but the pattern was built for {self.data_tree}",
                retrace=True,
            )
        data = []
        for i, (value, want) in enumerate(zip(data_leaves, self.data_leaves, strict=True)):
            arr = value if isinstance(value, jax.Array) else jnp.asarray(value)
            if tuple(arr.shape) != want.shape:
                raise StructureMismatch(
                    f"data leaf {i} has shape {tuple(arr.shape)}, but the pattern was built "
                    f"for shape {want.shape}"
                )
            data.append(arr)
        return x, tuple(data)

    def abstract(self) -> tuple[jax.ShapeDtypeStruct, tuple[jax.ShapeDtypeStruct, ...]]:
        """``(x, data)`` as ShapeDtypeStructs, for ``jax.eval_shape``."""
        x = jax.ShapeDtypeStruct((self.n,), self.dtype)
        return x, tuple(jax.ShapeDtypeStruct(d.shape, d.dtype) for d in self.data_leaves)

    # ---------------------------------------------------------------- provenance
    def describe(self) -> dict[str, Any]:
        """JSON record of the structure, stored as ``provenance["input_structure"]``."""
        return {
            "num_args": self.num_args,
            "argnums": list(self.argnums) if not self.argnums_is_int else self.argnums[0],
            "treedef": str(self.diff_tree),
            "leaves": [leaf.describe() for leaf in self.diff_leaves],
            "data_treedef": str(self.data_tree),
            "data_leaves": [leaf.describe() for leaf in self.data_leaves],
        }

    def check_recorded(self, pattern: SparsityPattern, what: str) -> None:
        """Raise ``ValueError`` unless ``pattern`` was built for this structure.

        A pattern without a record (built for one flat array) must at least have ``n``
        columns.
        """
        recorded = pattern.provenance.get("input_structure")
        n = pattern.shape[1]
        if recorded is None:
            if n != self.n:
                raise ValueError(
                    f"{what}: the inputs have {self.n} differentiated elements but the "
                    f"coloring has pattern shape {pattern.shape}"
                )
            return
        mine = self.describe()
        for key in ("num_args", "argnums", "treedef", "leaves", "data_treedef", "data_leaves"):
            if key in recorded and _jsonish(recorded[key]) != _jsonish(mine[key]):
                raise ValueError(
                    f"{what}: the coloring was built for inputs with {key} "
                    f"{recorded[key]!r}, but f is used with {mine[key]!r}"
                )


def _jsonish(value: Any) -> Any:
    """Lists and tuples compare alike (a record read back from JSON has lists)."""
    if isinstance(value, list | tuple):
        return [_jsonish(v) for v in value]
    return value


def is_one_array(value: Any) -> bool:
    """True for the seed's ``input_shape`` forms: an int, a tuple of ints, or one array /
    ShapeDtypeStruct (the one-array case, whose results stay flat matrices)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return True
    if isinstance(value, jax.ShapeDtypeStruct) or (
        hasattr(value, "shape") and hasattr(value, "dtype")
    ):
        return True
    if isinstance(value, tuple | list) and all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) for d in value
    ):
        return True
    return False


def input_spec(
    args: Any,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
    allow_int: bool = False,
) -> InputSpec:
    """Record the structure of sample arguments (arrays or ``jax.ShapeDtypeStruct`` leaves).

    Args:
        args: tuple of positional arguments, each a pytree of arrays.
        kwargs: keyword arguments (data), a dict of pytrees; None for none.
        argnums: int or tuple of ints, the positional arguments to differentiate.
        has_aux: ``f`` returns ``(output, aux)``.
        allow_int: accept integer leaves among the differentiated ones (zero derivatives).

    Non-array leaves of the data (Python ints, bools, strings, None, other objects) are
    static: fixed while tracing and part of the structure. Floating Python numbers are
    data, traced like arrays.

    Raises:
        ArgumentTypeError: (a TypeError and a ValueError) non-int ``argnums``, a
            non-array or (without ``allow_int``) integer leaf in a differentiated argument.
        ValueError: ``argnums`` out of range or repeated; no differentiated leaf at all.
    """
    if not isinstance(args, tuple | list):
        raise ArgumentTypeError(
            f"args must be a tuple of positional arguments, got {type(args).__name__}"
        )
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, Mapping):
        raise ArgumentTypeError(f"kwargs must be a dict, got {type(kwargs).__name__}")
    if not isinstance(has_aux, bool):
        raise ArgumentTypeError(f"has_aux must be True or False, got {has_aux!r}")
    args = tuple(args)
    nums, is_int = normalize_argnums(argnums, len(args))
    diff = args[nums[0]] if is_int else tuple(args[a] for a in nums)
    with_path, diff_tree = jax.tree_util.tree_flatten_with_path(diff)
    if not with_path:
        raise ValueError(f"the differentiated argument(s) (argnums={argnums!r}) hold no arrays")
    base = f"argument {nums[0]}" if is_int else "argnums tuple"
    diff_leaves = tuple(
        _leaf_of(v, f"leaf {base}{_path_text(p)}", differentiated=True, allow_int=allow_int)
        for p, v in with_path
    )
    others = tuple(a for i, a in enumerate(args) if i not in nums)
    data_with_path, data_tree = jax.tree_util.tree_flatten_with_path(
        _mark_static((others, dict(kwargs)))
    )
    data_leaves = tuple(
        _leaf_of(v, f"data leaf {_path_text(p)}", differentiated=False) for p, v in data_with_path
    )
    return InputSpec(
        len(args), nums, is_int, diff_tree, diff_leaves, data_tree, data_leaves, has_aux
    )


def one_array_spec(shape: tuple[int, ...], dtype: Any, has_aux: bool = False) -> InputSpec:
    """The spec of the seed's form ``f(x)`` with one array of ``shape``."""
    leaf = Leaf(tuple(shape), np.dtype(dtype))
    _, tree = jax.tree.flatten(0.0)
    _, data_tree = jax.tree.flatten(((), {}))
    return InputSpec(1, (0,), True, tree, (leaf,), data_tree, (), has_aux, one_array=True)


def holds_arrays(value: Any) -> bool:
    """True when ``value`` is an int/shape or a pytree with at least one array leaf (a
    sample); False for anything else, e.g. ``(2, 1.5)`` or ``"abc"``."""
    if is_one_array(value):
        return True
    return any(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in jax.tree.leaves(value))


def resolve_inputs(
    input_shape: Any,
    dtype: Any,
    args: Any,
    kwargs: Mapping[str, Any] | None,
    argnums: Any,
    has_aux: bool,
    allow_int: bool = False,
) -> tuple[InputSpec, np.dtype | None]:
    """The :class:`InputSpec` of a call, from either form (checked, no tracing), and the
    dtype detection traces at (None: float64 where ``f`` allows it).

    ``input_shape`` alone (int, tuple of ints, sample array, ShapeDtypeStruct) is the
    one-array form; a pytree sample in ``input_shape`` (a dict, a tuple of arrays, ...)
    means ``args=(input_shape,)``; ``args``/``kwargs`` give every argument.

    Raises:
        ValueError: neither or both of ``input_shape`` and ``args``, a malformed shape or
            dtype, or any error of :func:`input_spec`.
    """
    if args is not None and input_shape is not None:
        raise ValueError("give either input_shape (one array) or args=(...), not both")
    if args is None and input_shape is None:
        raise ValueError("the inputs are missing: give input_shape or args=(...)")
    if args is None and not holds_arrays(input_shape):
        normalize_input(input_shape, dtype)  # not a sample pytree: a malformed shape
    if args is None and kwargs is None and is_one_array(input_shape) and argnums == 0:
        shape, trace_dtype = detection_input(input_shape, dtype)
        # The leaf dtype is a placeholder: the one-array form checks x's dtype only
        # against an explicit ``dtype``.
        return one_array_spec(shape, np.float64, has_aux), trace_dtype
    if args is None:
        args = (input_shape,)
    trace_dtype = normalize_input((), dtype)[1]
    return input_spec(args, kwargs, argnums, has_aux, allow_int), trace_dtype


def check_x(x: Any, n: int, shape: tuple[int, ...] | None, dtype: Any, pattern_shape: tuple) -> Any:
    """The one-array form's ``x`` checked before any tracing, as an array.

    Args:
        x: the argument.
        n: the number of elements it must have.
        shape: the shape it must have, or None (any shape of ``n`` elements).
        dtype: the dtype it must have, or None (any floating dtype).
        pattern_shape: the coloring's pattern shape, for messages.

    Raises:
        ValueError: a non-array, a non-floating dtype, or another shape, size or dtype.
    """
    if not isinstance(x, jax.Array):
        try:
            x = jnp.asarray(x)
        except (TypeError, ValueError):
            raise ValueError(
                f"x must be an array of {n} floating-point values, got {type(x).__name__}"
            ) from None
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"x must be a floating-point array, got dtype {x.dtype} (shape {x.shape})")
    if shape is not None and tuple(x.shape) != shape:
        raise ValueError(
            f"x has shape {tuple(x.shape)} but the function was built for input_shape "
            f"{shape} (pattern shape {pattern_shape})"
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
