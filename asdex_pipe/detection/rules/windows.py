"""Windowed primitives: reduce_window family, its gradients, and convolutions.

Law: an output element depends on the union of the input elements inside its window
(padding, strides and dilations applied exactly).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, register
from asdex_pipe.detection.rules.common import ids


def window_pairs(in_shape, out_shape, window, strides, padding, base_dil, win_dil):
    """(out flat index, in flat index) for every in-range element of every window.

    Input position along a dimension: o*stride + w*win_dil - pad_lo on the base-dilated
    grid; it is a real element only where divisible by the base dilation.
    """
    nd = len(in_shape)
    base_dil = base_dil or (1,) * nd
    win_dil = win_dil or (1,) * nd
    per_dim = []
    for d in range(nd):
        o = np.arange(out_shape[d])[:, None]
        w = np.arange(window[d])[None, :]
        p = o * strides[d] + w * win_dil[d] - padding[d][0]
        ok = (p >= 0) & (p % base_dil[d] == 0) & (p // base_dil[d] < in_shape[d])
        oo, ww = np.nonzero(ok)
        per_dim.append((oo, p[oo, ww] // base_dil[d]))
    # Cartesian product over dimensions of the per-dimension (out, in) pairs.
    out_idx = np.zeros(1, dtype=np.int64)
    in_idx = np.zeros(1, dtype=np.int64)
    for d, (oo, ii) in enumerate(per_dim):
        out_idx = (out_idx[:, None] * out_shape[d] + oo[None, :]).ravel()
        in_idx = (in_idx[:, None] * in_shape[d] + ii[None, :]).ravel()
    return out_idx, in_idx


def _params(p, nd):
    return (
        tuple(p["window_dimensions"]),
        tuple(p["window_strides"]),
        tuple(tuple(x) for x in p["padding"]),
        tuple(p.get("base_dilation") or (1,) * nd),
        tuple(p.get("window_dilation") or (1,) * nd),
    )


@register("reduce_window_sum", "reduce_window_max", "reduce_window_min", "reduce_window")
def reduce_window(eqn, invals, ctx):
    """out[o] = ∪ operand[window(o)] (for the generic form: of every operand)."""
    shapes = out_shapes(eqn)
    nops = len(shapes)
    operands = [d for d in invals[:nops] if not d.is_empty]
    shape = shapes[0]
    in_shape = invals[0].shape
    dst, src = window_pairs(in_shape, shape, *_params(eqn.params, len(in_shape)))
    outs = [D.aggregate(d, dst, src, shape) for d in operands]
    out = D.union(outs, shape) if outs else D.empty(shape, invals[0].ncols)
    return [out] * nops


@register("select_and_gather_add")
def select_and_gather_add(eqn, invals, ctx):
    """out[o] = ∪ tangents[window(o)]: the selected position varies with the operand, whose
    own derivative through the selection is zero."""
    (shape,) = out_shapes(eqn)
    t = invals[0]
    dst, src = window_pairs(t.shape, shape, *_params(eqn.params, len(t.shape)))
    return [D.aggregate(t, dst, src, shape)]


@register("select_and_scatter_add")
def select_and_scatter_add(eqn, invals, ctx):
    """out[i] = ∪ source[w] over the windows w containing i (the max-pool gradient; the
    selection itself has zero derivative)."""
    (shape,) = out_shapes(eqn)
    source = invals[0]
    dst, src = window_pairs(shape, source.shape, *_params(eqn.params, len(shape)))
    return [D.aggregate(source, src, dst, shape, ncols=source.ncols)]


@register("conv_general_dilated")
def conv_general_dilated(eqn, invals, ctx):
    """out[b, o, s] = ∪ lhs[b', c, window(s)] ∪ rhs[o, i, w] over in-range window taps,
    restricted to nonzero kernel taps when the kernel is constant (and to nonzero image
    pixels when the image is constant).

    Groups pick which lhs channel and batch an output reads (``I`` = rhs input features,
    ``O`` = output features): with ``feature_group_count`` G, output feature o is in group
    ``g = o // (O/G)`` and reads lhs channel ``c = g*I + i`` for rhs feature i; with
    ``batch_group_count`` B, it is in group ``g = o // (O/B)`` and output batch b reads lhs
    batch ``b' = g*N_out + b``. Without groups, ``c = i`` and ``b' = b``.

    Example: a depthwise 3-channel 3x3 conv (G = 3, I = 1) reads one channel per output.
    """
    (shape,) = out_shapes(eqn)
    lhs, rhs = invals
    p = eqn.params
    lspec, rspec, ospec = p["dimension_numbers"]
    nsp = len(lspec) - 2
    # Canonical layouts: lhs (N, C, *S), rhs (O, I, *K), out (N_out, O, *S').
    lhs_ids = np.transpose(ids(lhs.shape), lspec)
    rhs_ids = np.transpose(ids(rhs.shape), rspec)
    out_ids = np.transpose(ids(shape), ospec)
    o_, i_ = rhs_ids.shape[:2]
    nout = out_ids.shape[0]
    s_in, k_shape, s_out = lhs_ids.shape[2:], rhs_ids.shape[2:], out_ids.shape[2:]
    padding = p["padding"]
    if isinstance(padding, str):
        # String padding never reaches jaxprs (lax resolves it first): stay conservative.
        return [D.reduce_all(D.stack([lhs, rhs]), shape)]
    # Window pairs on spatial dims, one per kernel tap: (out pos, in pos, tap).
    per_dim = []
    for d in range(nsp):
        o = np.arange(s_out[d])[:, None]
        w = np.arange(k_shape[d])[None, :]
        ldil = (p.get("lhs_dilation") or (1,) * nsp)[d]
        rdil = (p.get("rhs_dilation") or (1,) * nsp)[d]
        pos = o * p["window_strides"][d] + w * rdil - padding[d][0]
        ok = (pos >= 0) & (pos % ldil == 0) & (pos // ldil < s_in[d])
        oo, ww = np.nonzero(ok)
        per_dim.append((oo, pos[oo, ww] // ldil, ww))
    so = np.zeros(1, dtype=np.int64)
    si = np.zeros(1, dtype=np.int64)
    sk = np.zeros(1, dtype=np.int64)
    for d, (oo, ii, ww) in enumerate(per_dim):
        so = (so[:, None] * s_out[d] + oo[None, :]).ravel()
        si = (si[:, None] * s_in[d] + ii[None, :]).ravel()
        sk = (sk[:, None] * k_shape[d] + ww[None, :]).ravel()
    fgc = int(p.get("feature_group_count", 1) or 1)
    bgc = int(p.get("batch_group_count", 1) or 1)
    lhs_flat = lhs_ids.reshape(lhs_ids.shape[0], lhs_ids.shape[1], -1)
    rhs_flat = rhs_ids.reshape(o_, i_, -1)
    out_flat = out_ids.reshape(nout, o_, -1)
    bb, oc, ic, pp = np.meshgrid(
        np.arange(nout), np.arange(o_), np.arange(i_), np.arange(so.size), indexing="ij"
    )
    lchan = (oc // (o_ // fgc)) * i_ + ic
    lbatch = (oc // (o_ // bgc)) * nout + bb
    dst = out_flat[bb, oc, so[pp]].ravel()
    lsrc = lhs_flat[lbatch, lchan, si[pp]].ravel()
    rsrc = rhs_flat[oc, ic, sk[pp]].ravel()
    keep = np.ones(dst.size, dtype=bool)
    if rhs.value is not None:
        keep &= np.asarray(rhs.value).ravel()[rsrc] != 0
    if lhs.value is not None:
        keep &= np.asarray(lhs.value).ravel()[lsrc] != 0
    dst, lsrc, rsrc = dst[keep], lsrc[keep], rsrc[keep]
    stacked = D.stack([lhs, rhs])
    all_dst = np.concatenate([dst, dst])
    all_src = np.concatenate([lsrc, rsrc + lhs.size])
    return [D.aggregate(stacked, all_dst, all_src, shape)]
