"""Hessian-vector products in three AD compositions.

All three give ``H(x) @ v`` for a scalar function ``f``; they differ only in how JAX's
forward and reverse modes are stacked (their derivation: :func:`hvp_fn`):

* ``fwd_over_rev``: ``jvp(grad(f), (x,), (v,))`` — forward mode through the gradient.
* ``rev_over_fwd``: ``grad(x -> jvp(f, (x,), (v,))[1])`` — reverse mode through a JVP.
* ``rev_over_rev``: ``grad(x -> vdot(grad(f)(x), v))`` — reverse mode twice.

:func:`value_and_hvp_fn` returns the same products together with ``f(x)`` taken from the
primal computation the product already does, so callers never pay an extra forward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from asdex_pipe.vocabulary import HVP_MODES, check_one_of, scalar_function

__all__ = ["HVP_MODES", "check_mode", "hvp_fn", "scalar_valued", "value_and_hvp_fn"]


def check_mode(mode: str) -> str:
    """Return ``mode`` if it names an HVP mode, else raise ``ValueError`` listing the modes."""
    return check_one_of(mode, HVP_MODES, "mode")


def scalar_valued(f: Callable) -> Callable:
    """``f`` with its output reshaped to ``()``. Any size-1 output counts as scalar
    (``jnp.sum(..., keepdims=True)``; see :mod:`asdex_pipe.vocabulary`); anything larger
    raises ``ValueError`` naming the shape instead of JAX's error from inside ``jax.grad``."""
    return scalar_function(f)


def hvp_fn(f: Callable, mode: str = "fwd_over_rev") -> Callable:
    """Build ``(x, v) -> H(x) @ v`` for the given mode (no primal value requested).

    Asking for ``f(x)`` when it is not needed is not free: XLA can drop the primal
    reduction entirely for an HVP, and keeping it measurably slowed batched products.
    """
    check_mode(mode)
    f = scalar_valued(f)
    if mode == "fwd_over_rev":
        return lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1]
    if mode == "rev_over_fwd":
        return lambda x, v: jax.grad(lambda y: jax.jvp(f, (y,), (v,))[1])(x)
    return lambda x, v: jax.grad(lambda y: jnp.vdot(jax.grad(f)(y), v))(x)


def value_and_hvp_fn(f: Callable, mode: str = "fwd_over_rev") -> Callable:
    """Build ``(x, v) -> (f(x), H(x) @ v)`` for the given mode.

    Args:
        f: scalar function of one array.
        mode: one of :data:`HVP_MODES`.

    Returns:
        A function of ``x`` and ``v`` (both of ``x``'s shape) returning the scalar ``f(x)``
        and the product, of ``x``'s shape. ``f(x)`` does not depend on ``v``, so under
        ``jax.vmap`` over ``v`` it stays unbatched and is computed once.
    """
    check_mode(mode)
    f = scalar_valued(f)
    if mode == "fwd_over_rev":

        def fwd_over_rev(x, v):
            (val, _), (_, hv) = jax.jvp(jax.value_and_grad(f), (x,), (v,))
            return val, hv

        return fwd_over_rev

    if mode == "rev_over_fwd":

        def rev_over_fwd(x, v):
            def tangent_with_primal(y):
                primal, tangent = jax.jvp(f, (y,), (v,))
                return tangent, primal

            hv, val = jax.grad(tangent_with_primal, has_aux=True)(x)
            return val, hv

        return rev_over_fwd

    def rev_over_rev(x, v):
        def directional_grad(y):
            val, g = jax.value_and_grad(f)(y)
            return jnp.vdot(g, v), val

        hv, val = jax.grad(directional_grad, has_aux=True)(x)
        return val, hv

    return rev_over_rev
