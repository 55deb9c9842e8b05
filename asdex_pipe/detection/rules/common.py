"""Helpers shared by several rule modules."""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps


def ids(shape: tuple[int, ...]) -> np.ndarray:
    """Flat element ids 0..size-1 arranged in ``shape`` (the structural-rule trick)."""
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


def broadcast_to(d: Deps, shape: tuple[int, ...]) -> Deps:
    """Broadcast an operand of an elementwise op to ``shape`` (numpy rules: scalars and
    size-1 dimensions)."""
    shape = tuple(shape)
    if d.shape == shape:
        return d
    if d.is_empty:
        return D.empty(shape, d.ncols)
    if d.size == 1:
        return D.broadcast_row(d, shape)
    if d.size == int(np.prod(shape)):
        return d.with_shape(shape)
    return D.gather_rows(d, np.broadcast_to(ids(d.shape), shape), shape)


def concrete_as(d: Deps, shape: tuple[int, ...]) -> np.ndarray:
    """The concrete value of ``d`` broadcast to ``shape``."""
    return np.broadcast_to(np.asarray(d.value), shape)


def line_union(ds: list[Deps], axes: tuple[int, ...], shape: tuple[int, ...]) -> Deps:
    """Union over the given axes of several same-shaped operands, broadcast back to ``shape``.

    Element e of the result depends on every element of every operand that shares
    e's coordinates outside ``axes`` (sort along an axis, decompositions of a matrix).
    """
    ncols = max(d.ncols for d in ds)
    ds = [d for d in ds if not d.is_empty]
    if not ds:
        return D.empty(shape, ncols)
    keep = [i for i in range(len(shape)) if i not in axes]
    red_shape = tuple(shape[i] for i in keep)
    out_ids = ids(red_shape).reshape([shape[i] if i in keep else 1 for i in range(len(shape))])
    dst_one = np.broadcast_to(out_ids, shape).ravel()
    stacked = D.stack([d.with_shape(shape) for d in ds])
    dst = np.tile(dst_one, len(ds))
    src = np.arange(stacked.size, dtype=np.int64)
    reduced = D.aggregate(stacked, dst, src, red_shape)
    return D.gather_rows(reduced, dst_one, shape)
