"""Functions with custom derivative rules: ``custom_jvp_call`` and ``custom_vjp_call``.

JAX differentiates these through the user's rule, not through the primal code, and
the two can have different patterns (a straight-through estimator's primal is
``round``, whose derivative is zero, while its rule passes tangents through). So the
pattern is the union of the primal's and the rule's:

- custom_jvp: the rule's JVP is traced; primal inputs and tangents both carry the
  inputs' dependencies, and each output gets the union of its primal and tangent
  dependencies (the tangent's coefficients depend on the primals too, which only
  adds entries).
- custom_vjp: the rule's VJP is traced with the output cotangents as fresh columns;
  input cotangent i depending on output cotangent j means J[j, i] may be nonzero, and
  output j gets the dependencies of every such input i. Closed-over constants that
  depend on the input (which JAX will not differentiate through the rule) reach every
  output.

Inside a traced rule, nested custom functions are read through their primal code:
there we need how the rule's *values* depend on the tangents, and a rule that calls
its own function (``ste(p)`` in ``ste``'s rule) would otherwise recurse forever.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps
from asdex_pipe.detection.jax_compat import equation_as_function
from asdex_pipe.detection.registry import conservative, is_float_aval, out_shapes, register
from asdex_pipe.detection.rules.control_flow import call


def _is_float(v: Any) -> bool:
    return is_float_aval(v.aval)


def _avals(variables: Any) -> list[jax.ShapeDtypeStruct]:
    return [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in variables]


def _of_floats(fn: Any, primals: Any, positions: list[int]) -> Any:
    """``fn`` as a function of the inputs at ``positions`` only (the others fixed)."""

    def g(*xs):
        full = list(primals)
        for k, x in zip(positions, xs, strict=True):
            full[k] = x
        return fn(*full)

    return g


def _jvp_jaxpr(eqn: Any) -> tuple[Any, list[int]]:
    """Jaxpr of (all primals, tangents of the float inputs) -> (primal outs, tangent outs)."""
    fn = equation_as_function(eqn)
    n = len(eqn.invars)
    fl = [k for k, v in enumerate(eqn.invars) if _is_float(v)]

    def jvp(*args):
        primals, tangents = args[:n], args[n:]
        return jax.jvp(_of_floats(fn, primals, fl), [primals[k] for k in fl], list(tangents))

    avals = _avals(eqn.invars)
    return jax.make_jaxpr(jvp)(*avals, *[avals[k] for k in fl]), fl


def _vjp_jaxpr(eqn: Any) -> tuple[Any, list[int], list[int]]:
    """Jaxpr of (all primals, cotangents of the float outputs) -> float-input cotangents."""
    fn = equation_as_function(eqn)
    n = len(eqn.invars)
    # JAX cannot differentiate a custom_vjp function by its closed-over constants (the
    # first ``num_consts`` inputs); the caller treats those conservatively.
    n_consts = eqn.params.get("num_consts", 0)
    fl_in = [k for k, v in enumerate(eqn.invars) if _is_float(v) and k >= n_consts]
    fl_out = [k for k, v in enumerate(eqn.outvars) if _is_float(v)]

    def vjp(*args):
        primals, cts = args[:n], args[n:]
        g = _of_floats(fn, primals, fl_in)
        _, pullback = jax.vjp(lambda *xs: [g(*xs)[k] for k in fl_out], *[primals[k] for k in fl_in])
        return pullback(list(cts))

    out_avals = _avals(eqn.outvars)
    return jax.make_jaxpr(vjp)(*_avals(eqn.invars), *[out_avals[k] for k in fl_out]), fl_in, fl_out


def _rule_deps_jvp(eqn: Any, invals: list[Deps], ctx: Any, traced: Any) -> list[Deps]:
    closed, fl = traced
    outs = ctx.eval_jaxpr(closed, [*invals, *[invals[k] for k in fl]], ctx)
    m = len(eqn.outvars)
    primal, tangent = outs[:m], outs[m:]
    return [D.union([p, t], s) for p, t, s in zip(primal, tangent, out_shapes(eqn), strict=True)]


def _rule_deps_vjp(eqn: Any, invals: list[Deps], ctx: Any, traced: Any) -> list[Deps]:
    closed, fl_in, fl_out = traced
    shapes = out_shapes(eqn)
    ncols = max(d.ncols for d in invals)
    sizes = [int(np.prod(shapes[k])) for k in fl_out]
    offsets = np.cumsum([0, *sizes])
    m = int(offsets[-1])
    # Primals: their values (if known) but no columns; cotangents: one column per element.
    primals = [
        D.constant(d.value, m) if d.value is not None else D.empty(d.shape, m) for d in invals
    ]
    cts = [
        D.identity(shapes[k], m, offset=int(o)) for k, o in zip(fl_out, offsets[:-1], strict=True)
    ]
    in_cts = ctx.eval_jaxpr(closed, [*primals, *cts], ctx)
    parts = [
        D.aggregate(invals[k], ct.indices, ct.rows(), (m,), ncols=ncols)
        for k, ct in zip(fl_in, in_cts, strict=True)
        if not ct.is_empty and not invals[k].is_empty
    ]
    consts = [d for d in invals[: eqn.params.get("num_consts", 0)] if not d.is_empty]
    if consts:
        parts.append(D.reduce_all(D.stack(consts), (m,)))
    flat = D.union(parts, (m,)) if parts else D.empty((m,), ncols)
    result = [D.empty(s, ncols) for s in shapes]
    for k, o, size in zip(fl_out, offsets[:-1], sizes, strict=True):
        result[k] = D.gather_rows(flat, np.arange(o, o + size, dtype=np.int64), shapes[k])
    return result


@register("custom_jvp_call", "custom_vjp_call")
def custom_derivative(eqn, invals, ctx):
    """Union of the primal's pattern and the custom rule's (see the module docstring)."""
    primal = call(eqn, invals, ctx)
    if ctx.inside_custom_rule:
        return primal
    by_jvp = eqn.primitive.name == "custom_jvp_call"
    try:
        traced = ctx.trace_once(
            eqn, "jvp" if by_jvp else "vjp", _jvp_jaxpr if by_jvp else _vjp_jaxpr
        )
    except Exception as err:  # JAX itself cannot apply the user's rule here: stay correct
        why = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        ctx.warn_unknown(eqn.primitive.name, f"could not trace the rule ({why}) of")
        return conservative(eqn, invals, ctx)
    # Propagating through the traced rule is ordinary detection: its errors are bugs.
    ctx.inside_custom_rule = True
    try:
        rule = (_rule_deps_jvp if by_jvp else _rule_deps_vjp)(eqn, invals, ctx, traced)
    finally:
        ctx.inside_custom_rule = False
    return [D.union([p, r], s) for p, r, s in zip(primal, rule, out_shapes(eqn), strict=True)]
