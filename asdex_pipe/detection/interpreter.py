"""Walks a jaxpr and propagates :class:`Deps` through every equation.

For each equation, in order:

1. all inputs known at trace time -> evaluate it concretely (constants stay exact);
2. no floating-point output, or no input depends on anything -> no dependencies
   (integer and boolean values have zero derivative);
3. otherwise the registered rule; without one, the primitive's own implementation traced
   to a jaxpr of known primitives (exact), or else the conservative fallback with a
   warning.

A rule that finds its primitive's parameters in a layout it does not know raises
:class:`~asdex_pipe.detection.registry.UnknownParamsError`; that equation alone falls back
(conservative, with a warning). Every other exception propagates: almost everything runs
inside ``jit``, so catching more would turn any bug deep inside a nested jaxpr into a
silently dense pattern. Each result is checked: one ``Deps`` per output, of that output's
shape.

Equations whose outputs are never used are skipped (dead code: ``jax.grad``
jaxprs keep the primal output around).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from asdex_pipe.detection import concrete, ranges
from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps
from asdex_pipe.detection.jax_compat import is_dropvar, is_literal, primitive_names, unwrap
from asdex_pipe.detection.registry import (
    RULES,
    Context,
    RuleError,
    UnknownParamsError,
    conservative,
    is_float_aval,
    out_shapes,
)


def eval_closed_jaxpr(closed: Any, args: Sequence[Deps], ctx: Context) -> list[Deps]:
    """Evaluate a closed jaxpr (its constants attached, see
    :func:`~asdex_pipe.detection.jax_compat.unwrap`) on ``args``, one ``Deps`` per input."""
    jaxpr, consts = unwrap(closed)
    ncols = max((a.ncols for a in args), default=0)
    const_deps = [_const_to_deps(c, ncols) for c in consts]
    return eval_jaxpr(jaxpr, const_deps, list(args), ctx)


def _const_to_deps(c: Any, ncols: int) -> Deps:
    if isinstance(c, Deps):
        return c
    try:
        return D.constant(np.asarray(c), ncols)
    except Exception:
        return D.empty(tuple(getattr(c, "shape", ())), ncols)


def eval_jaxpr(
    jaxpr: Any, consts: Sequence[Deps], args: Sequence[Deps], ctx: Context
) -> list[Deps]:
    """Propagate dependencies through ``jaxpr``.

    Args:
        jaxpr: a ``jax.extend.core.Jaxpr``.
        consts: one ``Deps`` per ``jaxpr.constvars``.
        args: one ``Deps`` per ``jaxpr.invars``.
        ctx: the run's :class:`Context`.

    Returns:
        one ``Deps`` per ``jaxpr.outvars``.
    """
    if ctx.eval_jaxpr is None:
        ctx.eval_jaxpr = eval_closed_jaxpr
    ncols = max((a.ncols for a in args), default=0)
    env: dict[Any, Deps] = {}

    def read(v: Any) -> Deps:
        if is_literal(v):
            return D.constant(np.asarray(v.val), ncols)
        return env[v]

    if len(consts) != len(jaxpr.constvars) or len(args) != len(jaxpr.invars):
        raise RuleError(
            f"a jaxpr with {len(jaxpr.constvars)} constants and {len(jaxpr.invars)} inputs "
            f"was given {len(consts)} constants and {len(args)} inputs"
        )
    for v, d in zip(jaxpr.constvars, consts, strict=True):
        env[v] = d
    for v, d in zip(jaxpr.invars, args, strict=True):
        env[v] = d

    live = _live_equations(jaxpr)
    for eqn, alive in zip(jaxpr.eqns, live, strict=True):
        if not alive:
            continue
        outs = eval_eqn(eqn, [read(v) for v in eqn.invars], ctx, ncols)
        for v, d in zip(eqn.outvars, outs, strict=True):
            if not is_dropvar(v):
                env[v] = d
    return [read(v) for v in jaxpr.outvars]


def _live_equations(jaxpr: Any) -> list[bool]:
    """Backward liveness: an equation is live if one of its outputs is used later."""
    needed = {v for v in jaxpr.outvars if not is_literal(v)}
    live = [False] * len(jaxpr.eqns)
    for i in range(len(jaxpr.eqns) - 1, -1, -1):
        eqn = jaxpr.eqns[i]
        if eqn.effects or any(v in needed for v in eqn.outvars if not is_dropvar(v)):
            live[i] = True
            needed.update(v for v in eqn.invars if not is_literal(v))
    return live


def eval_eqn(eqn: Any, invals: list[Deps], ctx: Context, ncols: int) -> list[Deps]:
    """Propagate through one equation (see the module docstring for the order of cases)."""
    shapes = out_shapes(eqn)
    if all(d.value is not None for d in invals):
        values = concrete.evaluate(eqn, [d.value for d in invals])
        if values is not None:
            return [D.constant(v, ncols) for v in values]
    if not any(is_float_aval(v.aval) for v in eqn.outvars) or all(d.is_empty for d in invals):
        # No derivative, but an integer index's range still narrows what it can address.
        return ranges.annotate(eqn, invals, [D.empty(s, ncols) for s in shapes])
    name = eqn.primitive.name
    rule = RULES.get(name)
    if rule is None:
        inner = ctx.trace_once(eqn, "impl", _impl_jaxpr)
        if inner is not None:
            outs = ctx.eval_jaxpr(inner, invals, ctx)
        else:
            ctx.warn_unknown(name)
            outs = conservative(eqn, invals, ctx)
    else:
        try:
            outs = rule(eqn, invals, ctx)
        except UnknownParamsError as err:
            if err.eqn is not eqn:
                raise  # escaped from a nested equation's rule: not this layout's problem
            # The primitive's parameters changed in this jax version (scan's num_consts
            # and num_carry did in 0.11). Stay correct, warn once.
            ctx.warn_unknown(name, f"does not understand the parameters (no {err.missing}) of")
            outs = conservative(eqn, invals, ctx)
    check_result(eqn, outs, shapes)
    # Integer outputs of mixed equations (sort's permutation, lu's pivots) carry no
    # derivative; a concrete value found inside a call (gather indices) is kept.
    return [
        o if is_float_aval(v.aval) or o.is_empty else D.empty(o.shape, ncols)
        for o, v in zip(outs, eqn.outvars, strict=True)
    ]


def check_result(eqn: Any, outs: Any, shapes: list[tuple[int, ...]]) -> None:
    """Raise :class:`RuleError` unless ``outs`` holds one ``Deps`` per output of ``eqn``,
    each of that output's shape.

    Args:
        eqn: the equation propagated.
        outs: what its rule (or fallback) returned.
        shapes: the shapes of ``eqn``'s outputs.
    """
    name = eqn.primitive.name
    if not isinstance(outs, list | tuple) or len(outs) != len(shapes):
        got = f"{len(outs)} results" if isinstance(outs, list | tuple) else type(outs).__name__
        raise RuleError(f"the rule for '{name}' returned {got} for {len(shapes)} outputs")
    for k, (o, s) in enumerate(zip(outs, shapes, strict=True)):
        if not isinstance(o, Deps):
            raise RuleError(f"the rule for '{name}' returned {type(o).__name__} for output {k}")
        if o.shape != s:
            raise RuleError(
                f"the rule for '{name}' returned shape {o.shape} for output {k} of shape {s}"
            )


def _impl_jaxpr(eqn: Any) -> Any | None:
    """The jaxpr of a rule-less primitive's own implementation, or None.

    Many primitives (``jax.experimental.sparse``'s ``bcoo_*`` among them) implement
    themselves in ``jax.numpy``; tracing that implementation gives equations the rules know,
    so the pattern stays exact instead of dense. None when the implementation cannot be
    traced or only binds the primitive again.
    """
    impl = getattr(eqn.primitive, "impl", None)
    if impl is None:
        return None
    avals = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in eqn.invars]
    try:
        closed = jax.make_jaxpr(lambda *args: impl(*args, **eqn.params))(*avals)
    except Exception:  # any failure means "not traceable": stay conservative
        return None
    if eqn.primitive.name in primitive_names(closed):
        return None
    outs = unwrap(closed)[0].outvars
    if len(outs) != len(eqn.outvars) or any(
        tuple(o.aval.shape) != tuple(v.aval.shape) for o, v in zip(outs, eqn.outvars, strict=True)
    ):
        return None
    return closed
