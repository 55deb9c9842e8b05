"""Structural primitives: each output element is a copy of one input element (or a fill).

Law: out[k] = operand[map[k]], where the index map is obtained by applying the
primitive itself (in numpy) to an array of flat element ids; -1 marks fill values.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, params, register
from asdex_pipe.detection.rules.common import ids


@register("squeeze")
def squeeze(eqn, invals, ctx):
    """Same rows, new shape (only unit dimensions change)."""
    (shape,) = out_shapes(eqn)
    return [invals[0].with_shape(shape)]


@register("reshape")
def reshape(eqn, invals, ctx):
    """Same rows, new shape (row-major order is unchanged); a reshape with ``dimensions``
    first transposes."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    dims = eqn.params.get("dimensions")
    if dims is not None and tuple(dims) != tuple(range(len(d.shape))):
        return [D.gather_rows(d, np.transpose(ids(d.shape), dims), shape)]
    return [d.with_shape(shape)]


@register("broadcast_in_dim")
def broadcast_in_dim(eqn, invals, ctx):
    """out[k] = operand[k projected onto the broadcast dimensions]."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    expanded = [1] * len(shape)
    for src, dst in enumerate(params(eqn, "broadcast_dimensions")):
        expanded[dst] = d.shape[src]
    idx = np.broadcast_to(ids(d.shape).reshape(expanded), shape)
    return [D.gather_rows(d, idx, shape)]


@register("transpose")
def transpose(eqn, invals, ctx):
    """out = permuted operand."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    return [D.gather_rows(d, np.transpose(ids(d.shape), params(eqn, "permutation")), shape)]


@register("rev")
def rev(eqn, invals, ctx):
    """out = operand reversed along ``dimensions``."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    return [D.gather_rows(d, np.flip(ids(d.shape), tuple(params(eqn, "dimensions"))), shape)]


@register("slice")
def slice_(eqn, invals, ctx):
    """out = operand[start:limit:stride] per dimension."""
    (shape,) = out_shapes(eqn)
    d = invals[0]
    starts, limits, strides = params(eqn, "start_indices", "limit_indices", "strides")
    strides = strides or (1,) * len(d.shape)
    sl = tuple(slice(s, e, st) for s, e, st in zip(starts, limits, strides, strict=True))
    return [D.gather_rows(d, ids(d.shape)[sl], shape)]


def pad_index_map(in_shape, config, fill_id):
    """Index map of ``lax.pad``: operand ids placed at lo + i*(interior+1), ``fill_id`` elsewhere,
    negative lo/hi cropping."""
    out_shape = []
    pos = []
    for n, (lo, hi, interior) in zip(in_shape, config, strict=True):
        lo, hi, interior = int(lo), int(hi), int(interior)
        size = lo + hi + (n + max(n - 1, 0) * interior if n else 0)
        out_shape.append(max(size, 0))
        pos.append(lo + np.arange(n) * (interior + 1))
    out = np.full(out_shape, fill_id, dtype=np.int64)
    src = ids(tuple(in_shape))
    valid = [(p >= 0) & (p < o) for p, o in zip(pos, out_shape, strict=True)]
    tgt = np.ix_(*[p[v] for p, v in zip(pos, valid, strict=True)])
    srcsel = np.ix_(*[np.flatnonzero(v) for v in valid])
    out[tgt] = src[srcsel]
    return out


@register("pad")
def pad(eqn, invals, ctx):
    """out = operand placed inside the padding value (lo/hi/interior, possibly negative)."""
    (shape,) = out_shapes(eqn)
    op, padval = invals
    idx = pad_index_map(op.shape, params(eqn, "padding_config"), op.size)
    src = D.stack([op, padval]) if not padval.is_empty else op
    if padval.is_empty:
        idx = np.where(idx == op.size, -1, idx)
    return [D.gather_rows(src, idx, shape)]


@register("concatenate")
def concatenate(eqn, invals, ctx):
    """out = operands joined along ``dimension``."""
    (shape,) = out_shapes(eqn)
    dim = params(eqn, "dimension")
    parts, offset = [], 0
    for d in invals:
        parts.append(ids(d.shape) + offset)
        offset += d.size
    return [D.gather_rows(D.stack(invals), np.concatenate(parts, axis=dim), shape)]


@register("split")
def split(eqn, invals, ctx):
    """outs = operand cut along ``axis`` into pieces of ``sizes``."""
    d = invals[0]
    axis = params(eqn, "axis")
    cuts = np.cumsum(params(eqn, "sizes"))[:-1]
    pieces = np.split(ids(d.shape), cuts, axis=axis)
    return [D.gather_rows(d, p, s) for p, s in zip(pieces, out_shapes(eqn), strict=True)]


@register("stack")
def stack(eqn, invals, ctx):
    """out = operands stacked along a new ``axis``."""
    (shape,) = out_shapes(eqn)
    axis = params(eqn, "axis")
    parts, offset = [], 0
    for d in invals:
        parts.append(ids(d.shape) + offset)
        offset += d.size
    return [D.gather_rows(D.stack(invals), np.stack(parts, axis=axis), shape)]


@register("tile", "unstack")
def bound_on_ids(eqn, invals, ctx):
    """outs = the primitive itself applied to the operand's element ids (the index map)."""
    d = invals[0]
    id_dtype = np.int32 if d.size < 2**31 else np.int64
    res = eqn.primitive.bind(ids(d.shape).astype(id_dtype), **eqn.params)
    maps = res if eqn.primitive.multiple_results else [res]
    return [
        D.gather_rows(d, np.asarray(m, dtype=np.int64), s)
        for m, s in zip(maps, out_shapes(eqn), strict=True)
    ]


@register("optimization_barrier", "device_put")
def passthrough(eqn, invals, ctx):
    """out_k = operand_k: the values pass through unchanged (scheduling and placement only)."""
    return [d.with_shape(s) for d, s in zip(invals, out_shapes(eqn), strict=True)]
