"""Indexing primitives: dynamic_slice, dynamic_update_slice, gather, scatter family.

With constant indices these are structural and exact: the primitive itself is
applied to flat element ids. With indices that depend on the input (their
derivative is zero, but the addressed element varies) an output element may come
from any position along the *indexed* dimensions, but only from its own position
along the others (and its own batch for batched gathers): the operand is first
reduced along the indexed dimensions, then addressed at index 0 there. Scatters
mirror this: updates are placed as if the indices were 0, then spread along the
indexed dimensions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, params, register
from asdex_pipe.detection.rules import bounded_index
from asdex_pipe.detection.rules.common import ids, line_union


def _jids(shape):
    return jnp.asarray(ids(shape).astype(np.int32))


def _all_concrete(ds):
    return all(d.value is not None for d in ds)


def _start(s, n: int, size: int) -> int | None:
    """A constant start clamped like XLA, or None when it depends on the input."""
    if s.value is None:
        return None
    return int(np.clip(int(np.asarray(s.value)), 0, n - size))


@register("dynamic_slice")
def dynamic_slice(eqn, invals, ctx):
    """out = operand[start:start+size] (constant starts clamped like XLA); along a dimension
    with an input-dependent start, every element depends on the operand's whole line."""
    bounded = bounded_index.dynamic_slice(eqn, invals)
    if bounded is not None:  # input-dependent starts within known bounds
        return bounded
    (shape,) = out_shapes(eqn)
    d, starts = invals[0], invals[1:]
    sizes = params(eqn, "slice_sizes")
    s0 = [_start(s, n, size) for s, n, size in zip(starts, d.shape, sizes, strict=True)]
    unknown = tuple(i for i, s in enumerate(s0) if s is None)
    src = line_union([d], unknown, d.shape) if unknown else d
    sl = tuple(slice(s or 0, (s or 0) + size) for s, size in zip(s0, sizes, strict=True))
    return [D.gather_rows(src, ids(d.shape)[sl], shape)]


@register("dynamic_update_slice")
def dynamic_update_slice(eqn, invals, ctx):
    """out = operand with the window replaced by update (constant starts); along a dimension
    with an input-dependent start, out[i] = operand[i] ∪ the update's whole line there."""
    bounded = bounded_index.dynamic_update_slice(eqn, invals)
    if bounded is not None:  # input-dependent starts within known bounds
        return bounded
    (shape,) = out_shapes(eqn)
    d, upd, starts = invals[0], invals[1], invals[2:]
    s0 = [_start(s, n, size) for s, n, size in zip(starts, d.shape, upd.shape, strict=True)]
    unknown = tuple(i for i, s in enumerate(s0) if s is None)
    if not unknown:
        idx = ids(d.shape).copy()
        idx[tuple(slice(s, s + size) for s, size in zip(s0, upd.shape, strict=True))] = (
            ids(upd.shape) + d.size
        )
        return [D.gather_rows(D.stack([d, upd]), idx, shape)]
    # Per dimension, which update coordinate can land on each output coordinate (-1: none).
    coords = []
    for s, n, size in zip(s0, d.shape, upd.shape, strict=True):
        c = np.zeros(n, dtype=np.int64) if s is None else np.arange(n) - s
        coords.append(np.where((c >= 0) & (c < size), c, -1))
    grids = np.meshgrid(*coords, indexing="ij")
    valid = np.logical_and.reduce([g >= 0 for g in grids]) if grids else np.ones((), bool)
    flat = np.ravel_multi_index([np.maximum(g, 0) for g in grids], upd.shape) if grids else 0
    idx = np.where(valid, flat, -1)
    landed = D.gather_rows(line_union([upd], unknown, upd.shape), idx, shape)
    return [D.union([d, landed], shape)]


def _mode_name(mode):
    return str(getattr(mode, "name", mode)).upper()


@register("gather")
def gather(eqn, invals, ctx):
    """Constant indices: out[k] = operand[gather(ids)[k]] (dropped/filled entries empty).
    Input-dependent indices: the operand reduced along ``start_index_map``, gathered at 0."""
    (shape,) = out_shapes(eqn)
    d, idx = invals
    bind_params = dict(eqn.params)
    if "FILL" in _mode_name(bind_params.get("mode")):
        bind_params["fill_value"] = -1
    if idx.value is None:
        bounded = bounded_index.gather(eqn, invals, bind_params, _jids(d.shape))
        if bounded is not None:  # input-dependent indices within known bounds
            return bounded
        axes = tuple(int(a) for a in params(eqn, "dimension_numbers").start_index_map)
        d = line_union([d], axes, d.shape)
        index = jnp.zeros(idx.shape, dtype=eqn.invars[1].aval.dtype)
    else:
        index = jnp.asarray(idx.value)
    src = np.asarray(eqn.primitive.bind(_jids(d.shape), index, **bind_params))
    return [D.gather_rows(d, src, shape)]


def _scatter_targets(eqn, operand_shape, indices, updates_shape):
    """Operand flat position hit by each update element (-1 if dropped), via the gather that
    is the transpose of this scatter."""
    dn = params(eqn, "dimension_numbers")
    batching = tuple(getattr(dn, "operand_batching_dims", ()))
    window = set(dn.inserted_window_dims) | set(batching)
    win_sizes = iter(updates_shape[i] for i in dn.update_window_dims)
    slice_sizes = tuple(1 if i in window else next(win_sizes) for i in range(len(operand_shape)))
    kwargs = {}
    if batching:
        kwargs = {
            "operand_batching_dims": batching,
            "start_indices_batching_dims": tuple(dn.scatter_indices_batching_dims),
        }
    gdn = jax.lax.GatherDimensionNumbers(
        offset_dims=tuple(dn.update_window_dims),
        collapsed_slice_dims=tuple(dn.inserted_window_dims),
        start_index_map=tuple(dn.scatter_dims_to_operand_dims),
        **kwargs,
    )
    mode = eqn.params.get("mode")
    fill = "FILL" in _mode_name(mode) or "DROP" in _mode_name(mode)
    out = jax.lax.gather(
        _jids(operand_shape),
        jnp.asarray(indices),
        gdn,
        slice_sizes,
        mode=jax.lax.GatherScatterMode.FILL_OR_DROP if fill else jax.lax.GatherScatterMode.CLIP,
        fill_value=-1,
    )
    return np.asarray(out).astype(np.int64).ravel()


def last_writers(dst: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of several updates overwriting one position, keep only the one that wins.

    XLA's CPU backend applies the updates of an overwriting scatter in order, so the last
    one wins (and JAX differentiates through the winner only). Elsewhere (GPU, TPU) the
    winner is unspecified, so every writer is kept there.

    Args:
        dst: operand position of each update element, in update order (1-D).
        src: the update element's flat index (1-D, increasing).
    """
    if dst.size < 2 or jax.default_backend() != "cpu":
        return dst, src
    last = dst.size - 1 - np.unique(dst[::-1], return_index=True)[1]
    return dst[last], src[last]


@register("scatter", "scatter-add", "scatter-mul", "scatter-min", "scatter-max", "scatter-sub")
def scatter(eqn, invals, ctx):
    """Constant indices: out[t] = operand[t] ∪ ⋃{updates[u] : u lands on t}; plain scatter
    (overwrite) drops operand[t] where an update lands. Input-dependent indices: out[t] =
    operand[t] ∪ the updates that land on t's line along the indexed dimensions when the
    indices are 0."""
    (shape,) = out_shapes(eqn)
    d, idx, upd = invals[0], invals[1], invals[2]
    known = idx.value is not None
    index = idx.value if known else np.zeros(idx.shape, dtype=eqn.invars[1].aval.dtype)
    targets = _scatter_targets(eqn, d.shape, index, upd.shape)
    hit = targets >= 0
    dst, src = targets[hit], np.flatnonzero(hit)
    if known and eqn.primitive.name == "scatter":
        dst, src = last_writers(dst, src)
    landed = D.aggregate(upd, dst, src, shape, ncols=max(d.ncols, upd.ncols))
    if not known:
        bounded = bounded_index.scatter(
            eqn, invals, lambda c: _scatter_targets(eqn, d.shape, c, upd.shape)
        )
        if bounded is not None:  # input-dependent indices within known bounds
            return bounded
        axes = tuple(int(a) for a in params(eqn, "dimension_numbers").scatter_dims_to_operand_dims)
        return [D.union([d, line_union([landed], axes, shape)], shape)]
    base = d
    if eqn.primitive.name == "scatter":
        keep = np.ones(d.size, dtype=bool)
        keep[dst] = False
        base = D.mask_rows(d, keep)
    return [D.union([base, landed], shape)]
