"""Powers: ``integer_pow`` and ``pow``.

Law: out[i] depends on base[i] and exponent[i], except where the derivative is exactly
zero for every input value: ``x ** 0`` is the constant 1 (its derivative is zero, no
diagonal); a constant exponent that is zero at i removes base[i] (``d/dx x**0 = 0``);
a constant base that is zero at i removes exponent[i] (JAX differentiates ``x**y`` in
``y`` as ``log(x) x**y`` with the log of a zero base replaced by 0).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, params, register
from asdex_pipe.detection.rules.common import broadcast_to, concrete_as


@register("integer_pow")
def integer_pow(eqn, invals, ctx):
    """``x ** y`` for a static integer y: the pattern of x, or the constant 1 when y = 0.

    Example: ``jnp.sum(x ** 0 * x)`` has the Jacobian pattern of ``jnp.sum(x)``.
    """
    (shape,) = out_shapes(eqn)
    (x,) = invals
    if int(params(eqn, "y")) == 0:
        return [D.constant(np.ones(shape, dtype=eqn.outvars[0].aval.dtype), x.ncols)]
    return [x]


@register("pow")
def pow_(eqn, invals, ctx):
    """out[i] = base[i] ∪ exponent[i], without base[i] where a constant exponent is 0 and
    without exponent[i] where a constant base is 0; the constant 1 for an all-zero
    constant exponent (``x ** 0.0`` is 1 for every x, nan and 0 included)."""
    (shape,) = out_shapes(eqn)
    base, exponent = invals
    x, y = broadcast_to(base, shape), broadcast_to(exponent, shape)
    if exponent.value is not None:
        nonzero = concrete_as(exponent, shape) != 0
        if not nonzero.any():
            return [D.constant(np.ones(shape, dtype=eqn.outvars[0].aval.dtype), x.ncols)]
        x = D.mask_rows(x, nonzero)
    if base.value is not None:
        y = D.mask_rows(y, concrete_as(base, shape) != 0)
    parts = [d for d in (x, y) if not d.is_empty]
    return [D.union(parts, shape) if parts else D.empty(shape, x.ncols)]
