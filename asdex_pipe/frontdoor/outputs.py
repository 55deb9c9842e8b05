"""What the front door does with ``f``'s outputs: aux, flattening, complex outputs.

* ``has_aux``: :func:`split_aux` / :func:`output_only`, and the packing that carries aux
  leaves that are not traced values out of a jitted program (:func:`pack_aux`).
* Flattening: a pytree output becomes one flat vector of m rows (:func:`flatten_output`).
* Complex outputs: a VJP loses their imaginary parts, so they force forward mode
  (:func:`jacobian_mode`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.differentiation.compress import COMPLEX_REV

__all__ = [
    "flatten_output",
    "jacobian_mode",
    "output_only",
    "pack_aux",
    "split_aux",
    "unpack_aux",
]


def split_aux(out: Any) -> tuple[Any, Any]:
    """``(output, aux)`` of a ``has_aux`` function's result; ValueError if not a pair."""
    if not isinstance(out, tuple | list) or len(out) != 2:
        raise ValueError(
            "has_aux=True needs f to return a pair (output, aux), but it returns "
            f"{type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, tuple | list) else "")
        )
    return out[0], out[1]


def output_only(f: Callable, has_aux: bool) -> Callable:
    """``f`` without its aux output (``f`` itself when ``has_aux`` is False)."""
    if not has_aux:
        return f
    return lambda *a, **k: split_aux(f(*a, **k))[0]


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


def _has_complex_output(g: Callable, x: Any, data: Any) -> bool:
    out = jax.eval_shape(g, x, data)
    return any(jnp.iscomplexobj(leaf) for leaf in jax.tree.leaves(out))


def jacobian_mode(g: Callable, spec: Any, mode: str, dtype: Any = None) -> str:
    """``mode`` checked against ``f``'s outputs: complex outputs need forward mode, so
    ``"auto"`` becomes ``"fwd"``, and ``"rev"`` and ``"bidirectional"`` (whose VJPs would
    lose the imaginary parts) raise ``ValueError``.

    Args:
        g: the user's function bound to flat inputs, ``g(x, data)``
            (:func:`asdex_pipe.frontdoor.bind.bind`).
        spec: its :class:`~asdex_pipe.frontdoor.inputs.InputSpec`.
        mode: one of ``JACOBIAN_MODES``.
        dtype: the dtype detection traces at (None: float64 where ``f`` allows it; the
            one-array form's outputs are judged at that dtype, as detection sees them).
    """
    if mode == "fwd":
        return mode
    x, data = spec.abstract()
    if spec.one_array:
        shape = spec.diff_leaves[0].shape
        if dtype is None:
            try:
                with jax.enable_x64(True):
                    x = jax.ShapeDtypeStruct(shape, jnp.float64)
                    complex_out = _has_complex_output(g, x, data)
            except Exception:  # code that insists on float32: detection falls back the same way
                complex_out = _has_complex_output(g, jax.ShapeDtypeStruct(shape, jnp.float32), data)
        else:
            complex_out = _has_complex_output(g, jax.ShapeDtypeStruct(shape, dtype), data)
    else:
        complex_out = _has_complex_output(g, x, data)
    if complex_out:
        if mode != "auto":
            raise ValueError(COMPLEX_REV)
        return "fwd"
    return mode


# ------------------------------------------------------------------ aux through jit
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


def pack_aux(aux: Any) -> tuple[list[Any], _Passthrough]:
    """Split ``f``'s aux (in the program's trace) into the traced leaves, returned as
    outputs, and everything else (strings, Python numbers, numpy arrays, the tree)."""
    leaves, tree = jax.tree.flatten(aux)
    traced = [isinstance(leaf, jax.core.Tracer) for leaf in leaves]
    arrays = [leaf for leaf, t in zip(leaves, traced, strict=True) if t]
    static = [None if t else leaf for leaf, t in zip(leaves, traced, strict=True)]
    return arrays, _Passthrough((tree, static, traced))


def unpack_aux(packed: tuple[list[Any], _Passthrough]) -> Any:
    """The aux as ``f`` returned it, from :func:`pack_aux`'s parts after the program."""
    arrays, box = packed
    tree, static, traced = box.value
    it = iter(arrays)
    leaves = [next(it) if t else v for v, t in zip(static, traced, strict=True)]
    return jax.tree.unflatten(tree, leaves)
