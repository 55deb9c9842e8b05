"""Indexing with input-dependent but bounded indices (see ``detection/ranges.py``).

Law: when an index can only take values in ``[lo, hi]``, an output element depends on
the union over those values of what it would read (or, for updates, of where the update
would land), instead of the whole indexed dimension. Example: ``x[argmax(x[:3]) + 1]``
reads ``x[1..3]`` only.

Each function returns None when no index is bounded (or the ranges have more than
:data:`~asdex_pipe.detection.ranges.MAX_COMBOS` combinations), and the general rule in
``indexing.py`` applies.
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.ranges import MAX_COMBOS, bounds, reachable
from asdex_pipe.detection.registry import out_shapes, params
from asdex_pipe.detection.rules.common import ids


def _start_ranges(starts, avals, dims, sizes):
    """Per dimension: (lo, hi) of the clamped start, or None when unknown."""
    out = []
    for s, aval, n, size in zip(starts, avals, dims, sizes, strict=True):
        if s.value is not None:
            c = int(np.clip(int(np.asarray(s.value)), 0, n - size))
            out.append((c, c))
        else:
            out.append(reachable(s, aval, 0, n - size))
    return out


def _combos(ranges):
    """Every start combination, or None when one is unknown, none varies, or too many."""
    if any(r is None for r in ranges) or all(r[0] == r[1] for r in ranges):
        return None
    count = int(np.prod([r[1] - r[0] + 1 for r in ranges]))
    if count > MAX_COMBOS:
        return None
    return list(itertools.product(*[range(r[0], r[1] + 1) for r in ranges]))


def dynamic_slice(eqn, invals):
    """out[k] = ∪ over reachable starts s of operand[s + k]."""
    (shape,) = out_shapes(eqn)
    d, starts = invals[0], invals[1:]
    sizes = params(eqn, "slice_sizes")
    avals = [v.aval for v in eqn.invars[1:]]
    combos = _combos(_start_ranges(starts, avals, d.shape, sizes))
    if combos is None:
        return None
    grid = ids(d.shape)
    src = [grid[tuple(slice(s, s + z) for s, z in zip(c, sizes, strict=True))] for c in combos]
    size = int(np.prod(shape))
    dst = np.tile(np.arange(size, dtype=np.int64), len(combos))
    return [D.aggregate(d, dst, np.concatenate([s.ravel() for s in src]), shape)]


def dynamic_update_slice(eqn, invals):
    """out[i] = operand[i] (unless every reachable window covers i) ∪ the update elements
    that some reachable window places on i."""
    (shape,) = out_shapes(eqn)
    d, upd, starts = invals[0], invals[1], invals[2:]
    avals = [v.aval for v in eqn.invars[2:]]
    combos = _combos(_start_ranges(starts, avals, d.shape, upd.shape))
    if combos is None:
        return None
    grid = ids(d.shape)
    covered = np.zeros(d.size, dtype=np.int64)
    dsts = []
    for c in combos:
        window = grid[tuple(slice(s, s + z) for s, z in zip(c, upd.shape, strict=True))].ravel()
        covered[window] += 1
        dsts.append(window)
    kept = np.flatnonzero(covered < len(combos))
    dst = np.concatenate([kept, *dsts])
    upd_src = np.tile(np.arange(upd.size, dtype=np.int64) + d.size, len(combos))
    src = np.concatenate([kept, upd_src])
    return [D.aggregate(D.stack([d, upd]), dst, src, shape)]


def _index_combos(idx, aval):
    """Constant index arrays covering every reachable value of a bounded index array."""
    b = getattr(idx, "bounds", None)
    if b is None or idx.value is not None or not idx.shape:
        return None
    lo, hi = bounds(idx, aval)
    k = int(idx.shape[-1])
    if (hi - lo + 1) ** k > MAX_COMBOS:
        return None
    dtype = np.dtype(aval.dtype)
    return [
        np.broadcast_to(np.asarray(r, dtype=dtype), idx.shape)
        for r in itertools.product(range(lo, hi + 1), repeat=k)
    ]


def gather(eqn, invals, bind_params, jids):
    """out[k] = ∪ over reachable index vectors r of operand[gather at r][k]."""
    (shape,) = out_shapes(eqn)
    d, idx = invals
    combos = _index_combos(idx, eqn.invars[1].aval)
    if combos is None:
        return None
    srcs = [np.asarray(eqn.primitive.bind(jids, jnp.asarray(c), **bind_params)) for c in combos]
    size = int(np.prod(shape))
    src = np.concatenate([s.ravel() for s in srcs]).astype(np.int64)
    dst = np.tile(np.arange(size, dtype=np.int64), len(combos))
    ok = src >= 0
    return [D.aggregate(d, dst[ok], src[ok], shape)]


def scatter(eqn, invals, targets_of):
    """out[t] = operand[t] ∪ the updates that land on t for some reachable index value.

    Args:
        targets_of: ``index array -> operand position of each update element (-1: none)``.
    """
    (shape,) = out_shapes(eqn)
    d, idx, upd = invals[0], invals[1], invals[2]
    combos = _index_combos(idx, eqn.invars[1].aval)
    if combos is None:
        return None
    dsts, srcs = [], []
    for c in combos:
        t = targets_of(c)
        hit = t >= 0
        dsts.append(t[hit])
        srcs.append(np.flatnonzero(hit))
    ncols = max(d.ncols, upd.ncols)
    landed = D.aggregate(upd, np.concatenate(dsts), np.concatenate(srcs), shape, ncols=ncols)
    return [D.union([d, landed], shape)]
