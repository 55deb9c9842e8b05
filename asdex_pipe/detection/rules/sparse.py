"""``jax.experimental.sparse`` BCOO primitives.

With constant indices (the usual case: the sparsity structure is fixed, the values
vary), each primitive is replaced by a dense equivalent built from a scatter-add at
those indices and traced; the indexing rules then give exact patterns. With indices
that depend on the input, or unusual layouts, the result is conservative.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from asdex_pipe.detection.registry import out_shapes, register


def _todense_fn(shape, n_batch, n_sparse):
    """Dense equivalent of bcoo_todense for data (*batch, nse, *dense), indices
    (*batch, nse, n_sparse)."""

    def one(data, idx):
        out = jnp.zeros(shape[n_batch:], data.dtype)
        return out.at[tuple(idx[:, i] for i in range(n_sparse))].add(data, mode="drop")

    f = one
    for _ in range(n_batch):
        f = jax.vmap(f)
    return f


def _layout_ok(eqn, data_aval, idx_aval):
    n_batch = len(idx_aval.shape) - 2
    return n_batch >= 0 and tuple(data_aval.shape[:n_batch]) == tuple(idx_aval.shape[:n_batch])


def _run_dense(eqn, invals, ctx, fn):
    from asdex_pipe.detection.interpreter import conservative

    avals = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    if invals[1].value is None or not _layout_ok(eqn, avals[0], avals[1]):
        return conservative(eqn, invals, ctx)
    closed = jax.make_jaxpr(fn)(*avals)
    return ctx.eval_jaxpr(closed, invals, ctx)


@register("bcoo_todense")
def bcoo_todense(eqn, invals, ctx):
    """dense[indices[k]] ∪= data[k] (a scatter-add at the constant indices)."""
    idx_aval = eqn.invars[1].aval
    n_batch, n_sparse = len(idx_aval.shape) - 2, idx_aval.shape[-1]
    shape = tuple(eqn.params["spinfo"].shape)
    return _run_dense(eqn, invals, ctx, _todense_fn(shape, n_batch, n_sparse))


@register("bcoo_dot_general")
def bcoo_dot_general(eqn, invals, ctx):
    """dot_general(todense(data, indices), rhs): exact through the dense rules."""
    idx_aval = eqn.invars[1].aval
    n_batch, n_sparse = len(idx_aval.shape) - 2, idx_aval.shape[-1]
    shape = tuple(eqn.params["lhs_spinfo"].shape)
    todense = _todense_fn(shape, n_batch, n_sparse)
    dn = eqn.params["dimension_numbers"]
    pet = eqn.params.get("preferred_element_type")

    def fn(data, idx, rhs):
        return jax.lax.dot_general(todense(data, idx), rhs, dn, preferred_element_type=pet)

    return _run_dense(eqn, invals, ctx, fn)


@register("bcoo_extract")
def bcoo_extract(eqn, invals, ctx):
    """data[k] = dense[indices[k]] (a gather at the constant indices)."""
    idx = invals[0]
    if idx.value is None or len(idx.shape) != 2:
        from asdex_pipe.detection.interpreter import conservative

        return conservative(eqn, invals, ctx)
    n_sparse = idx.shape[-1]

    def fn(indices, m):
        return m[tuple(indices[:, i] for i in range(n_sparse))]

    avals = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    (out,) = ctx.eval_jaxpr(jax.make_jaxpr(fn)(*avals), invals, ctx)
    return [out.with_shape(out_shapes(eqn)[0])]
