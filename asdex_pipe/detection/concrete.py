"""Concrete evaluation of equations whose inputs are all known at trace time.

Keeping constants concrete is what makes gathers with constant indices, masks,
and products with constant sparse matrices exact. Cheap common primitives are
evaluated with numpy directly (no JAX dispatch or compilation); the rest through
``primitive.bind`` on host arrays. Anything that fails, has effects or is too
large simply stays non-concrete (it then depends on nothing, which is still exact:
a constant has no derivative).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Do not materialise constants larger than this many elements.
MAX_CONST_SIZE = 20_000_000

_NUMPY_BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "max": np.maximum,
    "min": np.minimum,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "and": np.logical_and,
    "or": np.logical_or,
}

# Primitives never evaluated concretely (effects, host callbacks). ``platform_index``
# would pick the detecting machine's branch of ``lax.platform_dependent``, and a stored
# pattern may be used on another platform: left unknown, every branch counts.
_SKIP = {"debug_callback", "pure_callback", "io_callback", "debug_print", "platform_index"}


def _out_dtype(eqn: Any, i: int = 0) -> Any:
    return eqn.outvars[i].aval.dtype


def _numpy_eval(eqn: Any, vals: list[np.ndarray]) -> list[np.ndarray] | None:
    name = eqn.primitive.name
    p = eqn.params
    if name in _NUMPY_BINARY and len(vals) == 2:
        if name in ("and", "or") and vals[0].dtype != np.bool_:
            return None  # bitwise on integers: leave to JAX
        out = _NUMPY_BINARY[name](vals[0], vals[1])
        return [np.asarray(out).astype(_out_dtype(eqn), copy=False)]
    if name == "neg":
        return [np.negative(vals[0])]
    if name == "broadcast_in_dim":
        shape = tuple(p["shape"])
        dims = tuple(p["broadcast_dimensions"])
        x = vals[0]
        expanded = [1] * len(shape)
        for src, dst in enumerate(dims):
            expanded[dst] = x.shape[src]
        return [np.broadcast_to(x.reshape(expanded), shape)]
    if name == "convert_element_type":
        return [vals[0].astype(_out_dtype(eqn))]
    if name == "iota":
        shape = tuple(p["shape"])
        dim = p["dimension"]
        ar = np.arange(shape[dim], dtype=_out_dtype(eqn))
        expanded = [1] * len(shape)
        expanded[dim] = shape[dim]
        return [np.broadcast_to(ar.reshape(expanded), shape)]
    if name == "reshape":
        x = vals[0]
        if p.get("dimensions") is not None:
            x = np.transpose(x, p["dimensions"])
        return [x.reshape(tuple(eqn.outvars[0].aval.shape))]
    if name == "squeeze":
        return [vals[0].reshape(tuple(eqn.outvars[0].aval.shape))]
    if name == "transpose":
        return [np.transpose(vals[0], p["permutation"])]
    if name == "select_n":
        pred = vals[0].astype(np.int64)
        return [np.choose(pred, vals[1:]).astype(_out_dtype(eqn))]
    return None


def evaluate(eqn: Any, values: list[Any]) -> list[np.ndarray] | None:
    """Outputs of ``eqn`` on concrete inputs, or None when it cannot or should not be done."""
    if eqn.effects or eqn.primitive.name in _SKIP:
        return None
    size = 0
    for v in eqn.outvars:
        shape = getattr(v.aval, "shape", None)
        if shape is None:
            return None
        size += int(np.prod(shape))
    if size > MAX_CONST_SIZE:
        return None
    try:
        vals = [np.asarray(v) for v in values]
        out = _numpy_eval(eqn, vals)
        if out is None:
            res = eqn.primitive.bind(*vals, **eqn.params)
            res = res if eqn.primitive.multiple_results else [res]
            out = [np.asarray(r) for r in res]
    except Exception:
        return None
    for o, v in zip(out, eqn.outvars, strict=True):
        if tuple(o.shape) != tuple(v.aval.shape):
            return None
    return out
