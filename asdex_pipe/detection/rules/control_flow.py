"""Higher-order primitives: calls, cond/switch, while_loop, custom_linear_solve.

Calls (jit, call/closed_call, remat2 i.e. checkpoint) recurse into the called jaxpr (custom
derivatives have their own module, ``custom_derivatives``). cond/switch take the
union over branches (only the chosen one when the index is a constant). while_loop
iterates the body to a fixed point on the carry. ``scan`` has its own module.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.jax_compat import is_jaxpr
from asdex_pipe.detection.registry import UnknownParamsError, out_shapes, params, register

# Where each call-like primitive keeps the called jaxpr: jit's "jaxpr" (a closed jaxpr),
# remat2's "jaxpr" (open, no constants), call/closed_call's "call_jaxpr", and the custom
# derivative calls' "call_jaxpr" (custom_jvp_call) or "fun_jaxpr" (older custom_vjp_call).
_CALL_JAXPR_KEYS = ("jaxpr", "call_jaxpr", "fun_jaxpr")


def called_jaxpr(eqn):
    """The jaxpr a call-like equation applies to its inputs.

    Raises:
        UnknownParamsError: when no known parameter holds a jaxpr.
    """
    for key in _CALL_JAXPR_KEYS:
        sub = eqn.params.get(key)
        if sub is not None and is_jaxpr(sub):
            return sub
    raise UnknownParamsError(eqn, " or ".join(repr(k) for k in _CALL_JAXPR_KEYS))


@register("jit", "call", "closed_call", "remat2")
def call(eqn, invals, ctx):
    """Outputs are those of the called (primal) jaxpr on the same inputs."""
    return ctx.eval_jaxpr(called_jaxpr(eqn), invals, ctx)


@register("cond")
def cond(eqn, invals, ctx):
    """Union of the branch outputs; only the selected branch for a constant index."""
    branches = params(eqn, "branches")
    index, ops = invals[0], invals[1:]
    if index.value is not None:
        k = int(np.clip(int(np.asarray(index.value)), 0, len(branches) - 1))
        return ctx.eval_jaxpr(branches[k], ops, ctx)
    results = [ctx.eval_jaxpr(b, ops, ctx) for b in branches]
    by_output = zip(*results, strict=True)
    return [D.union(list(rs), s) for rs, s in zip(by_output, out_shapes(eqn), strict=True)]


@register("while")
def while_loop(eqn, invals, ctx):
    """Fixed point: carry ← carry ∪ body(consts, carry) until nothing changes."""
    nc, nb, body = params(eqn, "cond_nconsts", "body_nconsts", "body_jaxpr")
    consts = invals[nc : nc + nb]
    carry = [d.without_value() for d in invals[nc + nb :]]
    while True:
        out = ctx.eval_jaxpr(body, [*consts, *carry], ctx)
        new = [D.union([c, o], c.shape) for c, o in zip(carry, out, strict=True)]
        if all(D.equal(a, b) for a, b in zip(new, carry, strict=True)):
            return new
        carry = new


@register("custom_linear_solve")
def custom_linear_solve(eqn, invals, ctx):
    """x = A⁻¹ b with A given by ``matvec`` and A⁻¹ by ``solve``. JAX differentiates
    dx = solve(db − dA·x), so x ⊇ solve(b ∪ matvec(consts, x)), iterated to a fixed point
    (x appears on both sides); batched solves stay block-diagonal."""
    lengths, jaxprs = params(eqn, "const_lengths", "jaxprs")
    n_mv, n_vm, n_s, n_ts = lengths
    mv_jaxpr, solve_jaxpr = getattr(jaxprs, "matvec", None), getattr(jaxprs, "solve", None)
    if mv_jaxpr is None or solve_jaxpr is None:
        raise UnknownParamsError(eqn, "matvec and solve jaxprs")
    mv_consts = invals[:n_mv]
    solve_consts = invals[n_mv + n_vm : n_mv + n_vm + n_s]
    b = [d.without_value() for d in invals[n_mv + n_vm + n_s + n_ts :]]

    def solve(rhs):
        out = ctx.eval_jaxpr(solve_jaxpr, [*solve_consts, *rhs], ctx)
        return [d.without_value() for d in out]

    x = solve(b)
    while True:
        ax = ctx.eval_jaxpr(mv_jaxpr, [*mv_consts, *x], ctx)
        rhs = [D.union([bi, ai], bi.shape) for bi, ai in zip(b, ax, strict=True)]
        new = [D.union([xi, si], xi.shape) for xi, si in zip(x, solve(rhs), strict=True)]
        if all(D.equal(a, c) for a, c in zip(new, x, strict=True)):
            return new
        x = new
