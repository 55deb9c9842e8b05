"""Hessian-vector products in three AD compositions.

All three give ``H(x) @ v`` for a scalar function ``f``; they differ only in how JAX's
forward and reverse modes are stacked (see ``shared/seeds/hvp-derivation.txt``):

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

HVP_MODES = ("fwd_over_rev", "rev_over_fwd", "rev_over_rev")


def check_mode(mode: str) -> str:
    """Return ``mode`` if it names an HVP mode, else raise ``ValueError`` listing the modes."""
    if mode not in HVP_MODES:
        raise ValueError(f"mode must be one of {HVP_MODES}, got {mode!r}")
    return mode


def scalar_valued(f: Callable) -> Callable:
    """``f`` with its output reshaped to ``()``; outputs of shape ``(1,)`` or ``(1, 1)`` are
    accepted (``jnp.sum(..., keepdims=True)``), anything larger raises ``ValueError`` naming
    the shape instead of JAX's error from deep inside ``jax.grad``."""

    def g(y):
        out = f(y)
        leaves = jax.tree.leaves(out)
        if len(leaves) != 1 or jnp.size(leaves[0]) != 1:
            shapes = [jnp.shape(leaf) for leaf in leaves]
            raise ValueError(
                "Hessians need a scalar-valued f, but f returns output of shape "
                f"{shapes[0] if len(shapes) == 1 else shapes}; use jacobian for "
                "vector-valued functions"
            )
        return jnp.reshape(leaves[0], ())

    return g


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


def hvp(f: Callable, x: jax.Array, v: jax.Array, mode: str = "fwd_over_rev") -> jax.Array:
    """Hessian-vector product ``H(x) @ v`` of a scalar function, without forming ``H``.

    Args:
        f: scalar-valued function of one array.
        x: point, any shape.
        v: direction, same shape as ``x``.
        mode: ``"fwd_over_rev"`` (default), ``"rev_over_fwd"`` or ``"rev_over_rev"``.

    Returns:
        Array of ``x``'s shape.

    Raises:
        ValueError: for an unknown mode or when ``v``'s shape differs from ``x``'s.
    """
    check_mode(mode)
    x = jnp.asarray(x)
    v = jnp.asarray(v, dtype=x.dtype)
    if v.shape != x.shape:
        raise ValueError(f"v must have x's shape {x.shape}, got {v.shape}")
    return hvp_fn(f, mode)(x, v)
