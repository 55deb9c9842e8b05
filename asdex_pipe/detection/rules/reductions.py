"""Reductions, cumulative ops, sort and top_k.

Law: an output element depends on the union of the input elements it reduces over
(its group for reduce_*, its prefix for cumulative ops, its whole line for sort/top_k,
whose permutation depends on every key of the line).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, params, register
from asdex_pipe.detection.rules.common import ids, line_union


@register("reduce_sum", "reduce_max", "reduce_min", "reduce_prod")
def reduce(eqn, invals, ctx):
    """out[j] = ∪ over the reduced ``axes`` of operand elements projecting onto j."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    axes = tuple(params(eqn, "axes"))
    if len(axes) == len(d.shape):
        return [D.reduce_all(d, shape)]
    expanded = [1 if i in axes else n for i, n in enumerate(d.shape)]
    dst = np.broadcast_to(ids(shape).reshape(expanded), d.shape).ravel()
    return [D.aggregate(d, dst, np.arange(d.size, dtype=np.int64), shape)]


@register("cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp")
def cumulative(eqn, invals, ctx):
    """out[..., i, ...] = ∪_{j <= i} operand[..., j, ...] along ``axis`` (j >= i if reverse)."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    axis = params(eqn, "axis")
    reverse = eqn.params.get("reverse", False)
    n = shape[axis]
    i, j = np.tril_indices(n) if not reverse else np.triu_indices(n)
    # Pairs (out position i, in position j) along the axis, for every line.
    grid = ids(shape)
    moved = np.moveaxis(grid, axis, -1).reshape(-1, n)
    dst = moved[:, i].ravel()
    src = moved[:, j].ravel()
    return [D.aggregate(d, dst, src, shape)]


@register("sort")
def sort(eqn, invals, ctx):
    """Every output of a line depends on every element of that line of every operand."""
    shapes = out_shapes(eqn)
    dim = params(eqn, "dimension")
    out = line_union(invals, (dim,), shapes[0])
    return [out for _ in shapes]


@register("top_k", "approx_top_k")
def top_k(eqn, invals, ctx):
    """values along the reduced axis (top_k's ``axis``, default last; approx_top_k's
    ``reduction_dimension``) depend on the operand's whole line along that axis."""
    d = invals[0]
    shapes = out_shapes(eqn)
    p = eqn.params
    axis = p.get("reduction_dimension", p.get("axis", -1))
    axis = axis % len(d.shape)
    full = line_union([d], (axis,), d.shape)
    # Every element of a line now carries the line's union: take the line's first one.
    first = np.take(ids(d.shape), [0], axis=axis)
    idx = np.broadcast_to(first, shapes[0])
    return [D.gather_rows(full, idx, shapes[0]), D.empty(shapes[1], d.ncols)]
