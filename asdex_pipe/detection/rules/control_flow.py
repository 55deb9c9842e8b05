"""Higher-order primitives: calls, cond/switch, while_loop, scan.

Calls (pjit, closed_call, checkpoint) recurse into the called jaxpr (custom
derivatives have their own module, ``custom_derivatives``). cond/switch take the
union over branches (only the chosen one when the index is a constant). while_loop
iterates the body to a fixed point on the carry. scan does the same for the carry,
and handles the per-iteration slices of ``xs``/``ys`` with "virtual" input columns:
the body is propagated once with slice element j of xs as an extra column n + j, and
the result is expanded to all iterations at once (ys[t] picks xs[t]; the carry
accumulates xs[t] over all t).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps
from asdex_pipe.detection.registry import out_shapes, register

_CALL_JAXPR_KEYS = ("jaxpr", "call_jaxpr", "fun_jaxpr")


def _with_ncols(d: Deps, ncols: int) -> Deps:
    return Deps(d.shape, ncols, d._indptr, d._indices, d.value)


def _drop_value(d: Deps) -> Deps:
    return Deps(d.shape, d.ncols, d._indptr, d._indices)


@register(
    "pjit",
    "jit",
    "closed_call",
    "core_call",
    "checkpoint",
    "remat",
    "remat2",
)
def call(eqn, invals, ctx):
    """Outputs are those of the called (primal) jaxpr on the same inputs."""
    for key in _CALL_JAXPR_KEYS:
        sub = eqn.params.get(key)
        if sub is not None and (hasattr(sub, "eqns") or hasattr(sub, "jaxpr")):
            return ctx.eval_jaxpr(sub, invals, ctx)
    ctx.warn_unknown(eqn.primitive.name)
    from asdex_pipe.detection.interpreter import conservative

    return conservative(eqn, invals, ctx)


@register("cond")
def cond(eqn, invals, ctx):
    """Union of the branch outputs; only the selected branch for a constant index."""
    branches = eqn.params["branches"]
    index, ops = invals[0], invals[1:]
    if index.value is not None:
        k = int(np.clip(int(np.asarray(index.value)), 0, len(branches) - 1))
        return ctx.eval_jaxpr(branches[k], ops, ctx)
    results = [ctx.eval_jaxpr(b, ops, ctx) for b in branches]
    return [D.union(list(rs), s) for rs, s in zip(zip(*results), out_shapes(eqn))]


@register("while")
def while_loop(eqn, invals, ctx):
    """Fixed point: carry ← carry ∪ body(consts, carry) until nothing changes."""
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    consts = invals[nc : nc + nb]
    carry = [_drop_value(d) for d in invals[nc + nb :]]
    body = p["body_jaxpr"]
    while True:
        out = ctx.eval_jaxpr(body, [*consts, *carry], ctx)
        new = [D.union([c, o], c.shape) for c, o in zip(carry, out)]
        if all(D.equal(a, b) for a, b in zip(new, carry)):
            return new
        carry = new


@register("scan")
def scan(eqn, invals, ctx):
    """Carry: fixed point over at most ``length`` steps; ys[t] = body's y with virtual
    column j replaced by xs[t, j]; see the module docstring."""
    p = eqn.params
    body, length = p["jaxpr"], int(p["length"])
    n_consts, n_carry = p["num_consts"], p["num_carry"]
    consts = invals[:n_consts]
    init = invals[n_consts : n_consts + n_carry]
    xs = invals[n_consts + n_carry :]
    shapes = out_shapes(eqn)
    n = max(d.ncols for d in invals)
    # Virtual columns: one per element of one slice of each xs operand with dependencies.
    slice_sizes = [d.size // length if length else 0 for d in xs]
    offsets = np.cumsum([0, *[s if not d.is_empty else 0 for s, d in zip(slice_sizes, xs)]])
    S = int(offsets[-1])
    total = n + S
    x_slices = []
    for d, off in zip(xs, offsets[:-1]):
        sl_shape = d.shape[1:]
        if d.is_empty or S == 0:
            x_slices.append(D.empty(sl_shape, total))
        else:
            x_slices.append(D.identity(sl_shape, total, offset=n + int(off)))
    # xs stacked (rows: all elements of all xs with deps) and, per virtual column j, the row
    # of xs[t, j] is base[j] + t * stride[j].
    with_deps = [d for d in xs if not d.is_empty]
    if S:
        xs_stacked = D.stack(with_deps)
        base_parts, stride_parts, row_off = [], [], 0
        for d, s in zip(xs, slice_sizes):
            if d.is_empty:
                continue
            base_parts.append(row_off + np.arange(s))
            stride_parts.append(np.full(s, s))
            row_off += d.size
        base, stride = np.concatenate(base_parts), np.concatenate(stride_parts)
        t = np.arange(length)
        xs_union = D.aggregate(
            xs_stacked,
            np.tile(np.arange(S), length),
            (base[None, :] + t[:, None] * stride).ravel(),
            (S,),
            ncols=n,
        )

    def expand_carry(o: Deps) -> Deps:
        g, v = D.drop_columns_from(o, n)
        if v.is_empty:
            return g
        return D.union([g, D.aggregate(xs_union, v.rows(), v.indices, o.shape, ncols=n)], o.shape)

    consts_t = [_with_ncols(c, total) for c in consts]
    carry = [_with_ncols(_drop_value(c), n) for c in init]

    def run(carry):
        return ctx.eval_jaxpr(
            body, [*consts_t, *[_with_ncols(c, total) for c in carry], *x_slices], ctx
        )

    for _ in range(max(length - 1, 0)):
        outs = run(carry)
        new = [D.union([c, expand_carry(o)], c.shape) for c, o in zip(carry, outs[:n_carry])]
        if all(D.equal(a, b) for a, b in zip(new, carry)):
            break
        carry = new
    if length == 0:
        return [*carry, *[D.empty(s, n) for s in shapes[n_carry:]]]
    outs = run(carry)
    final = [expand_carry(o) for o in outs[:n_carry]]
    ys = []
    for y, shape in zip(outs[n_carry:], shapes[n_carry:]):
        g, v = D.drop_columns_from(y, n)
        k = y.size
        parts = [D.gather_rows(g, np.tile(np.arange(k), length), shape)]
        if not v.is_empty:
            tt = np.arange(length)[:, None]
            dst = (tt * k + v.rows()[None, :]).ravel()
            src = (base[v.indices][None, :] + tt * stride[v.indices][None, :]).ravel()
            parts.append(D.aggregate(xs_stacked, dst, src, shape, ncols=n))
        ys.append(D.union(parts, shape))
    return [*final, *ys]


@register("custom_linear_solve")
def custom_linear_solve(eqn, invals, ctx):
    """x = A⁻¹ b with A given by ``matvec`` and A⁻¹ by ``solve``. JAX differentiates
    dx = solve(db − dA·x), so x ⊇ solve(b ∪ matvec(consts, x)), iterated to a fixed point
    (x appears on both sides); batched solves stay block-diagonal."""
    p = eqn.params
    n_mv, n_vm, n_s, n_ts = p["const_lengths"]
    mv_jaxpr, solve_jaxpr = p["jaxprs"].matvec, p["jaxprs"].solve
    if mv_jaxpr is None or solve_jaxpr is None:
        from asdex_pipe.detection.interpreter import conservative

        return conservative(eqn, invals, ctx)
    mv_consts = invals[:n_mv]
    solve_consts = invals[n_mv + n_vm : n_mv + n_vm + n_s]
    b = [_drop_value(d) for d in invals[n_mv + n_vm + n_s + n_ts :]]

    def solve(rhs):
        return [_drop_value(d) for d in ctx.eval_jaxpr(solve_jaxpr, [*solve_consts, *rhs], ctx)]

    x = solve(b)
    while True:
        ax = ctx.eval_jaxpr(mv_jaxpr, [*mv_consts, *x], ctx)
        rhs = [D.union([bi, ai], bi.shape) for bi, ai in zip(b, ax)]
        new = [D.union([xi, si], xi.shape) for xi, si in zip(x, solve(rhs))]
        if all(D.equal(a, c) for a, c in zip(new, x)):
            return new
        x = new
