"""``jax.experimental.sparse`` BCOO primitives.

With constant indices (the usual case: the sparsity structure is fixed, the values
vary), each primitive is replaced by a dense equivalent built from a scatter-add at
those indices and traced; the indexing rules then give exact patterns. With indices
that depend on the input, or unusual layouts, the result is conservative.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from asdex_pipe.detection.registry import conservative, out_shapes, params, register

# Completes "asdex_pipe sparsity detection ... primitive 'bcoo_...'" in the fallback warning.
_NOT_EXACT = "meets input-dependent sparse indices or an unsupported layout in"


def _todense_fn(shape, n_batch, n_sparse):
    """Dense equivalent of bcoo_todense for data (*batch, nse, *dense), indices
    (*batch, nse, n_sparse); a batch dimension of size 1 in either broadcasts (as
    ``jax.vmap`` of sparse code produces: shared indices, batched data)."""
    batch = tuple(shape[:n_batch])

    def one(data, idx):
        out = jnp.zeros(shape[n_batch:], data.dtype)
        return out.at[tuple(idx[:, i] for i in range(n_sparse))].add(data, mode="drop")

    f = one
    for _ in range(n_batch):
        f = jax.vmap(f)

    def todense(data, idx):
        data = jnp.broadcast_to(data, batch + data.shape[n_batch:])
        idx = jnp.broadcast_to(idx, batch + idx.shape[n_batch:])
        return f(data, idx)

    return todense


def _layout_ok(shape, data_aval, idx_aval):
    """Indices (*batch, nse, n_sparse) and data (*batch, nse, ...) whose batch dimensions
    are those of the sparse ``shape`` or 1."""
    n_batch = len(idx_aval.shape) - 2
    if n_batch < 0 or len(data_aval.shape) < n_batch:
        return False
    return all(
        d in (1, b) and i in (1, b)
        for d, i, b in zip(
            data_aval.shape[:n_batch], idx_aval.shape[:n_batch], shape[:n_batch], strict=True
        )
    )


def _run_dense(eqn, invals, ctx, fn, shape):
    avals = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    if invals[1].value is None or not _layout_ok(shape, avals[0], avals[1]):
        ctx.warn_unknown(eqn.primitive.name, _NOT_EXACT)
        return conservative(eqn, invals, ctx)
    closed = jax.make_jaxpr(fn)(*avals)
    return ctx.eval_jaxpr(closed, invals, ctx)


@register("bcoo_todense")
def bcoo_todense(eqn, invals, ctx):
    """dense[indices[k]] ∪= data[k] (a scatter-add at the constant indices)."""
    idx_aval = eqn.invars[1].aval
    n_batch, n_sparse = len(idx_aval.shape) - 2, idx_aval.shape[-1]
    shape = tuple(params(eqn, "spinfo").shape)
    return _run_dense(eqn, invals, ctx, _todense_fn(shape, n_batch, n_sparse), shape)


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


def _batched_matmul_fn(shape, n_batch, contract, out_dtype):
    """:func:`_matmul_fn` for each matrix of a batch of sparse matrices (the layout
    ``jax.vmap`` of sparse code produces: data and indices (*batch, nse, ...), a batch
    dimension of size 1 shared by all), times one unbatched dense ``rhs``."""
    batch = tuple(shape[:n_batch])
    f = _matmul_fn(shape[n_batch:], contract, out_dtype)
    for _ in range(n_batch):
        f = jax.vmap(f, in_axes=(0, 0, None))

    def fn(data, idx, rhs):
        data = jnp.broadcast_to(data, batch + data.shape[n_batch:])
        idx = jnp.broadcast_to(idx, batch + idx.shape[n_batch:])
        return f(data, idx, rhs)

    return fn


@register("bcoo_dot_general")
def bcoo_dot_general(eqn, invals, ctx):
    """out[r] ∪= data[k] ∪ rhs[c_k] over stored entries k = (r, c_k): exact for a (batch
    of) 2-D sparse matrices times an unbatched dense array; other layouts go through the
    dense product."""
    idx_aval = eqn.invars[1].aval
    n_batch, n_sparse = len(idx_aval.shape) - 2, idx_aval.shape[-1]
    shape = tuple(params(eqn, "lhs_spinfo").shape)
    dn = params(eqn, "dimension_numbers")
    pet = eqn.params.get("preferred_element_type")
    (lhs_c, rhs_c), (lhs_b, _) = dn
    data_aval = eqn.invars[0].aval
    if (
        n_batch >= 0
        and n_sparse == 2
        and len(data_aval.shape) == n_batch + 1
        and not lhs_b
        and len(lhs_c) == 1
        and int(lhs_c[0]) >= n_batch
        and tuple(rhs_c) == (0,)
    ):
        contract = int(lhs_c[0]) - n_batch
        fn = _batched_matmul_fn(shape, n_batch, contract, eqn.outvars[0].aval.dtype)
        return _run_dense(eqn, invals, ctx, fn, shape)
    todense = _todense_fn(shape, n_batch, n_sparse)

    def dense_fn(data, idx, rhs):
        return jax.lax.dot_general(todense(data, idx), rhs, dn, preferred_element_type=pet)

    return _run_dense(eqn, invals, ctx, dense_fn, shape)


@register("bcoo_extract")
def bcoo_extract(eqn, invals, ctx):
    """data[k] = dense[indices[k]] (a gather at the constant indices)."""
    idx = invals[0]
    if idx.value is None or len(idx.shape) != 2:
        ctx.warn_unknown(eqn.primitive.name, _NOT_EXACT)
        return conservative(eqn, invals, ctx)
    n_sparse = idx.shape[-1]

    def fn(indices, m):
        return m[tuple(indices[:, i] for i in range(n_sparse))]

    avals = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    (out,) = ctx.eval_jaxpr(jax.make_jaxpr(fn)(*avals), invals, ctx)
    return [out.with_shape(out_shapes(eqn)[0])]
