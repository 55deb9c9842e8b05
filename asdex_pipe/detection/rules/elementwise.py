"""Elementwise primitives.

Law: output element i depends on element i of every operand (scalars broadcast).
Refinements: a product with a constant is empty where the constant is zero; a
select with a constant predicate takes the chosen case only; piecewise-constant
functions (sign, floor, ...) have no dependencies; a polynomial whose non-constant
coefficients are all constant zeros does not depend on its argument.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, register
from asdex_pipe.detection.rules.common import broadcast_to, concrete_as

UNARY = (
    "neg sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp exp2 log log1p "
    "expm1 sqrt rsqrt cbrt logistic erf erfc erf_inv lgamma digamma abs square "
    "reduce_precision copy real imag conj convert_element_type bessel_i0e bessel_i1e "
    "pvary log2 one_minus_square"
).split()

NARY = (
    "add sub atan2 rem max min add_any complex igamma igammac igamma_grad_a "
    "polygamma zeta nextafter clamp regularized_incomplete_beta"
).split()

ZERO_DERIVATIVE = "sign floor ceil round stop_gradient".split()


@register(*UNARY, *NARY)
def elementwise(eqn, invals, ctx):
    """out[i] ⊇ ∪_k operand_k[i] (scalar operands broadcast); a single-operand op keeps the
    operand's pattern unchanged (no copy)."""
    shapes = out_shapes(eqn)
    parts = [broadcast_to(d, shapes[0]) for d in invals if not d.is_empty]
    out = D.union(parts, shapes[0]) if parts else D.empty(shapes[0], invals[0].ncols)
    return [out] * len(shapes) if len(shapes) > 1 else [out]


@register("polynomial")
def polynomial(eqn, invals, ctx):
    """P(x) = Σ_k a_k x^k (operands x, a_0, ..., a_N): out[i] = ∪_k a_k[i], plus x[i] unless
    every a_k with k >= 1 is a constant zero at i (then dP/dx = 0 there)."""
    (shape,) = out_shapes(eqn)
    x, coeffs = invals[0], invals[1:]
    parts = [broadcast_to(c, shape) for c in coeffs if not c.is_empty]
    keep = np.zeros(shape, dtype=bool)
    for c in coeffs[1:]:
        keep |= concrete_as(c, shape) != 0 if c.value is not None else True
    if not x.is_empty and keep.any():
        parts.append(D.mask_rows(broadcast_to(x, shape), keep))
    return [D.union(parts, shape) if parts else D.empty(shape, x.ncols)]


@register("mul")
def mul(eqn, invals, ctx):
    """out[i] = a[i] ∪ b[i], except rows where a constant factor is exactly zero are empty."""
    (shape,) = out_shapes(eqn)
    a, b = invals
    keep = None
    for c in (a, b):
        if c.value is not None:
            nz = concrete_as(c, shape) != 0
            keep = nz if keep is None else keep & nz
    out = D.union([broadcast_to(a, shape), broadcast_to(b, shape)], shape)
    return [out if keep is None else D.mask_rows(out, keep)]


@register("div")
def div(eqn, invals, ctx):
    """out[i] = a[i] ∪ b[i], empty where a constant numerator is exactly zero."""
    (shape,) = out_shapes(eqn)
    a, b = invals
    out = D.union([broadcast_to(a, shape), broadcast_to(b, shape)], shape)
    if a.value is not None:
        out = D.mask_rows(out, concrete_as(a, shape) != 0)
    return [out]


@register("select_n")
def select_n(eqn, invals, ctx):
    """out[i] = case_{pred[i]}[i] for a constant predicate, else ∪_k case_k[i] (the predicate
    itself is piecewise constant and contributes nothing)."""
    (shape,) = out_shapes(eqn)
    pred, cases = invals[0], [broadcast_to(c, shape) for c in invals[1:]]
    if pred.value is None:
        return [D.union(cases, shape)]
    size = int(np.prod(shape))
    choice = concrete_as(pred, shape).astype(np.int64).ravel()
    idx = choice * size + np.arange(size, dtype=np.int64)
    return [D.gather_rows(D.stack(cases), idx, shape)]


@register(*ZERO_DERIVATIVE)
def zero_derivative(eqn, invals, ctx):
    """Piecewise-constant functions: no dependencies."""
    return [D.empty(s, invals[0].ncols) for s in out_shapes(eqn)]
