"""Indexing primitives: dynamic_slice, dynamic_update_slice, gather, scatter family.

With constant indices these are structural and exact: the primitive itself is
applied to flat element ids. With indices that depend on the input (their
derivative is zero, but the addressed element varies) every output element may
come from any operand element: the operand is reduced conservatively.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, register
from asdex_pipe.detection.rules.common import ids


def _jids(shape):
    return jnp.asarray(ids(shape).astype(np.int32))


def _all_concrete(ds):
    return all(d.value is not None for d in ds)


@register("dynamic_slice")
def dynamic_slice(eqn, invals, ctx):
    """Constant starts: out = operand[start:start+size] (starts clamped like XLA).
    Otherwise: every output element depends on every operand element."""
    (shape,) = out_shapes(eqn)
    d, starts = invals[0], invals[1:]
    if not _all_concrete(starts):
        return [D.reduce_all(d, shape)]
    sl = []
    for n, size, s in zip(d.shape, eqn.params["slice_sizes"], starts):
        s0 = int(np.clip(int(np.asarray(s.value)), 0, n - size))
        sl.append(slice(s0, s0 + size))
    return [D.gather_rows(d, ids(d.shape)[tuple(sl)], shape)]


@register("dynamic_update_slice")
def dynamic_update_slice(eqn, invals, ctx):
    """Constant starts: out = operand with the window replaced by update.
    Otherwise: out[i] = operand[i] ∪ (all of update)."""
    (shape,) = out_shapes(eqn)
    d, upd, starts = invals[0], invals[1], invals[2:]
    if not _all_concrete(starts):
        return [D.union([d, D.reduce_all(upd, shape)], shape)]
    idx = ids(d.shape).copy()
    sl = []
    for n, size, s in zip(d.shape, upd.shape, starts):
        s0 = int(np.clip(int(np.asarray(s.value)), 0, n - size))
        sl.append(slice(s0, s0 + size))
    idx[tuple(sl)] = ids(upd.shape) + d.size
    return [D.gather_rows(D.stack([d, upd]), idx, shape)]


def _mode_name(mode):
    return str(getattr(mode, "name", mode)).upper()


@register("gather")
def gather(eqn, invals, ctx):
    """Constant indices: out[k] = operand[gather(ids)[k]] (dropped/filled entries empty).
    Otherwise: every output depends on every operand element."""
    (shape,) = out_shapes(eqn)
    d, idx = invals
    if idx.value is None:
        return [D.reduce_all(d, shape)]
    params = dict(eqn.params)
    if "FILL" in _mode_name(params.get("mode")):
        params["fill_value"] = -1
    src = np.asarray(eqn.primitive.bind(_jids(d.shape), jnp.asarray(idx.value), **params))
    return [D.gather_rows(d, src, shape)]


def _scatter_targets(eqn, operand_shape, indices, updates_shape):
    """Operand flat position hit by each update element (-1 if dropped), via the gather that
    is the transpose of this scatter."""
    dn = eqn.params["dimension_numbers"]
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


@register(
    "scatter",
    "scatter-add",
    "scatter_add",
    "scatter-mul",
    "scatter_mul",
    "scatter-min",
    "scatter_min",
    "scatter-max",
    "scatter_max",
    "scatter_sub",
    "scatter-sub",
)
def scatter(eqn, invals, ctx):
    """Constant indices: out[t] = operand[t] ∪ ⋃{updates[u] : u lands on t}; plain scatter
    (overwrite) drops operand[t] where an update lands. Otherwise out[i] = operand[i] ∪ all
    updates."""
    (shape,) = out_shapes(eqn)
    d, idx, upd = invals[0], invals[1], invals[2]
    if idx.value is None:
        return [D.union([d, D.reduce_all(upd, shape)], shape)]
    targets = _scatter_targets(eqn, d.shape, idx.value, upd.shape)
    hit = targets >= 0
    dst, src = targets[hit], np.flatnonzero(hit)
    landed = D.aggregate(upd, dst, src, shape, ncols=max(d.ncols, upd.ncols))
    base = d
    if eqn.primitive.name == "scatter":
        keep = np.ones(d.size, dtype=bool)
        keep[dst] = False
        base = D.mask_rows(d, keep)
    return [D.union([base, landed], shape)]
