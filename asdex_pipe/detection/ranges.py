"""Value ranges of integer intermediates, so input-dependent indices address only what
they can reach.

Integer values carry no derivative, so the interpreter gives them no dependencies; but
an index computed from the input (``argmax`` of a slice, ``clip(k, 0, 3) // 2``) still
decides which elements a ``dynamic_slice`` or ``gather`` reads. :func:`annotate` gives
every integer or boolean output of such an equation closed bounds ``(lo, hi)`` valid for
all of its elements (stored on ``Deps.bounds``), so the indexing rules can take the
union over the reachable starts instead of a whole dimension.

How bounds are found, most precise first:

1. ``argmax``/``argmin``: ``[0, axis size - 1]``.
2. Enumeration: when every non-constant operand is a bounded scalar and the operands
   have at most :data:`MAX_COMBOS` value combinations (and the outputs at most
   :data:`MAX_ENUMERATED_SIZE` elements), the equation is evaluated on each
   combination (exact for any primitive, e.g. ``floor_divide``'s sign corrections). An
   output that is the same for every combination becomes a constant.
3. Calls (``jit``): the called jaxpr is walked with these same rules.
4. Interval arithmetic for a few primitives on arrays (add, sub, mul, neg, max, min,
   clamp, comparisons, and the structural ones that only move elements).

Anything else gets the full range of its dtype, i.e. no information.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from asdex_pipe.detection import concrete
from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps
from asdex_pipe.detection.jax_compat import is_literal, unwrap

MAX_COMBOS = 256
# Enumeration evaluates the equation once per combination: only for small outputs.
MAX_ENUMERATED_SIZE = 4096
_CALLS = ("jit", "pjit", "closed_call", "core_call")
_MOVES = (
    "reshape broadcast_in_dim squeeze expand_dims convert_element_type slice transpose rev "
    "copy copy_p reduce_max reduce_min concatenate select_n dynamic_slice gather pad"
).split()
_COMPARE = {
    "lt": lambda a, b: (a[1] < b[0], a[0] >= b[1]),
    "le": lambda a, b: (a[1] <= b[0], a[0] > b[1]),
    "gt": lambda a, b: (a[0] > b[1], a[1] <= b[0]),
    "ge": lambda a, b: (a[0] >= b[1], a[1] < b[0]),
}


def _int_kind(aval: Any) -> bool:
    dtype = getattr(aval, "dtype", None)
    try:
        return dtype is not None and np.dtype(dtype).kind in "iub"
    except TypeError:
        return False


def _dtype_range(aval: Any) -> tuple[int, int]:
    dtype = np.dtype(aval.dtype)
    if dtype.kind == "b":
        return 0, 1
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def bounds(d: Deps, aval: Any = None) -> tuple[int, int] | None:
    """Closed bounds of the integer value ``d`` (from its constant value or its
    ``bounds``), else the range of ``aval``'s dtype when given, else None."""
    if d.value is not None:
        v = np.asarray(d.value)
        if v.size and v.dtype.kind in "iub":
            return int(v.min()), int(v.max())
        if v.size and v.dtype.kind == "f" and np.isfinite(v).all():
            return int(np.floor(v.min())), int(np.ceil(v.max()))
        return None
    b = getattr(d, "bounds", None)
    if b is not None:
        return b
    return _dtype_range(aval) if aval is not None and _int_kind(aval) else None


def annotate(eqn: Any, invals: list[Deps], outs: list[Deps]) -> list[Deps]:
    """``outs`` (the outputs of an equation without floating outputs) with bounds set on
    the integer ones, or replaced by constants where the value is decided.

    Args:
        eqn: the equation.
        invals: its inputs' Deps (constants carry values, bounded integers ``bounds``).
        outs: its outputs' Deps as the interpreter made them (no dependencies).
    """
    if not any(_int_kind(v.aval) for v in eqn.outvars):
        return outs
    try:
        found = _infer(eqn, invals)
    except (ValueError, OverflowError, TypeError, IndexError):
        found = None  # no range is always a correct answer
    if found is None:
        return outs
    result = []
    for o, f, v in zip(outs, found, eqn.outvars, strict=True):
        if isinstance(f, np.ndarray):
            result.append(D.constant(f, o.ncols))
        elif f is not None and _int_kind(v.aval):
            lo, hi = _dtype_range(v.aval)
            if f[0] >= lo and f[1] <= hi:  # otherwise the value may wrap around
                o = Deps(o.shape, o.ncols)
                o.bounds = (int(f[0]), int(f[1]))
            result.append(o)
        else:
            result.append(o)
    return result


def _infer(eqn: Any, invals: list[Deps]) -> list[Any] | None:
    """Per output: a constant array, ``(lo, hi)``, or None."""
    name = eqn.primitive.name
    if name in ("argmax", "argmin"):
        axis = int(eqn.params["axes"][0])
        return [(0, max(int(eqn.invars[0].aval.shape[axis]) - 1, 0))]
    enumerated = _enumerate(eqn, invals)
    if enumerated is not None:
        return enumerated
    if name in _CALLS:
        return _call(eqn, invals)
    if len(eqn.outvars) != 1:
        return None
    bs = [bounds(d, v.aval) for d, v in zip(invals, eqn.invars, strict=True)]
    if name == "select_n" and invals[0].value is not None:
        # A constant predicate: only the chosen cases' ranges matter.
        chosen = np.unique(np.asarray(invals[0].value).astype(np.int64))
        bs = [bs[0], *[bs[1 + int(k)] for k in chosen]]
    return [_interval(eqn, name, bs)]


def _enumerate(eqn: Any, invals: list[Deps]) -> list[Any] | None:
    out_size = sum(int(np.prod(getattr(v.aval, "shape", ()))) for v in eqn.outvars)
    if out_size > MAX_ENUMERATED_SIZE:
        return None
    choices = []
    combos = 1
    for d, v in zip(invals, eqn.invars, strict=True):
        if d.value is not None:
            choices.append([np.asarray(d.value)])
            continue
        b = getattr(d, "bounds", None)
        if b is None or d.size != 1:
            return None
        combos *= b[1] - b[0] + 1
        if combos > MAX_COMBOS:
            return None
        dtype, shape = np.dtype(v.aval.dtype), d.shape
        choices.append([np.full(shape, k, dtype=dtype) for k in range(b[0], b[1] + 1)])
    results = []
    for combo in itertools.product(*choices):
        out = concrete.evaluate(eqn, list(combo))
        if out is None:
            return None
        results.append(out)
    found = []
    for k, v in enumerate(eqn.outvars):
        vals = [np.asarray(r[k]) for r in results]
        if all(np.array_equal(vals[0], x) for x in vals[1:]):
            found.append(vals[0])
        elif _int_kind(v.aval) and all(x.size for x in vals):
            found.append((min(int(x.min()) for x in vals), max(int(x.max()) for x in vals)))
        else:
            found.append(None)
    return found


def _call(eqn: Any, invals: list[Deps]) -> list[Any] | None:
    sub = next((eqn.params[k] for k in ("jaxpr", "call_jaxpr") if k in eqn.params), None)
    if sub is None:
        return None
    jaxpr, consts = unwrap(sub)
    ncols = max((d.ncols for d in invals), default=0)
    env: dict[Any, Deps] = {}
    for v, c in zip(jaxpr.constvars, consts, strict=True):
        env[v] = D.constant(np.asarray(c), ncols)
    for v, d in zip(jaxpr.invars, invals, strict=True):
        env[v] = d

    def read(v: Any) -> Deps:
        return D.constant(np.asarray(v.val), ncols) if is_literal(v) else env[v]

    for e in jaxpr.eqns:
        ins = [read(v) for v in e.invars]
        outs = None
        if all(d.value is not None for d in ins):
            values = concrete.evaluate(e, [d.value for d in ins])
            if values is not None:
                outs = [D.constant(x, ncols) for x in values]
        if outs is None:
            empty = [D.empty(tuple(getattr(v.aval, "shape", ())), ncols) for v in e.outvars]
            outs = annotate(e, ins, empty)
        for v, d in zip(e.outvars, outs, strict=True):
            env[v] = d
    found = []
    for v in jaxpr.outvars:
        d = read(v)
        found.append(np.asarray(d.value) if d.value is not None else getattr(d, "bounds", None))
    return found


def _interval(eqn: Any, name: str, bs: list[tuple[int, int] | None]) -> Any:
    """Bounds of the single output from its operands' bounds (None: unknown)."""
    if name in _MOVES:
        data = bs[1:] if name == "select_n" else bs if name == "concatenate" else bs[:1]
        if name == "pad":
            data = bs[:2]
        if any(b is None for b in data):
            return None
        return min(b[0] for b in data), max(b[1] for b in data)
    if len(bs) == 0 or any(b is None for b in bs):
        return None
    if name == "neg":
        return -bs[0][1], -bs[0][0]
    if name == "add":
        return bs[0][0] + bs[1][0], bs[0][1] + bs[1][1]
    if name == "sub":
        return bs[0][0] - bs[1][1], bs[0][1] - bs[1][0]
    if name == "mul":
        corners = [a * b for a in bs[0] for b in bs[1]]
        return min(corners), max(corners)
    if name == "max":
        return max(bs[0][0], bs[1][0]), max(bs[0][1], bs[1][1])
    if name == "min":
        return min(bs[0][0], bs[1][0]), min(bs[0][1], bs[1][1])
    if name == "clamp":
        (alo, ahi), (xlo, xhi), (blo, bhi) = bs
        return min(max(xlo, alo), blo), min(max(xhi, ahi), bhi)
    if name in _COMPARE:
        always, never = _COMPARE[name](bs[0], bs[1])
        shape = tuple(eqn.outvars[0].aval.shape)
        if always or never:
            return np.full(shape, bool(always))
        return 0, 1
    return None


def reachable(d: Deps, aval: Any, lo_clip: int, hi_clip: int) -> tuple[int, int] | None:
    """The range of an index ``d`` clipped to ``[lo_clip, hi_clip]`` (how XLA clamps
    start indices), or None when unknown or wider than that range."""
    b = bounds(d, aval)
    if b is None:
        return None
    lo, hi = int(np.clip(b[0], lo_clip, hi_clip)), int(np.clip(b[1], lo_clip, hi_clip))
    return None if (lo, hi) == (lo_clip, hi_clip) else (lo, hi)
