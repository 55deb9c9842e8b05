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


def _matmul_fn(shape, contract, out_dtype):
    """Sparse (2-D, unbatched) × dense as gather + scatter-add over the stored entries.

    Unlike a dense product, the result depends on ``rhs`` only through the stored
    entries' columns, even when the data itself depends on the input.
    """
    other = 1 - contract

    def fn(data, idx, rhs):
        rest = rhs.shape[1:]
        contrib = data.reshape(-1, *(1,) * len(rest)) * rhs[idx[:, contract]]
        out = jnp.zeros((shape[other], *rest), contrib.dtype)
        return out.at[idx[:, other]].add(contrib, mode="drop").astype(out_dtype)

    return fn


@register("bcoo_dot_general")
def bcoo_dot_general(eqn, invals, ctx):
    """out[r] ∪= data[k] ∪ rhs[c_k] over stored entries k = (r, c_k): exact for a 2-D
    sparse matrix times a dense array; other layouts go through the dense product."""
    idx_aval = eqn.invars[1].aval
    n_batch, n_sparse = len(idx_aval.shape) - 2, idx_aval.shape[-1]
    shape = tuple(eqn.params["lhs_spinfo"].shape)
    dn = eqn.params["dimension_numbers"]
    pet = eqn.params.get("preferred_element_type")
    (lhs_c, rhs_c), (lhs_b, _) = dn
    data_aval = eqn.invars[0].aval
    if (
        n_batch == 0
        and n_sparse == 2
        and len(data_aval.shape) == 1
        and not lhs_b
        and len(lhs_c) == 1
        and tuple(rhs_c) == (0,)
    ):
        fn = _matmul_fn(shape, int(lhs_c[0]), eqn.outvars[0].aval.dtype)
        return _run_dense(eqn, invals, ctx, fn)
    todense = _todense_fn(shape, n_batch, n_sparse)

    def dense_fn(data, idx, rhs):
        return jax.lax.dot_general(todense(data, idx), rhs, dn, preferred_element_type=pet)

    return _run_dense(eqn, invals, ctx, dense_fn)


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
