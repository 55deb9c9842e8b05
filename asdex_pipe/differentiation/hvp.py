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

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from asdex_pipe.vocabulary import HVP_MODES, check_one_of, scalar_function

__all__ = ["HVP_MODES", "check_mode", "hvp", "hvp_fn", "scalar_valued", "value_and_hvp_fn"]


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


def hvp(
    f: Callable,
    x: Any = None,
    v: Any = None,
    mode: str = "fwd_over_rev",
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> Any:
    """Hessian-vector product ``H(x) @ v`` of a scalar function, without forming ``H``.

    Args:
        f: scalar-valued function (any size-1 output) of one array ``x``, or of
            ``*args, **kwargs`` (returning ``(scalar, aux)`` with ``has_aux``).
        x: point: one array, or one pytree of arrays (then ``f`` takes one argument).
        v: direction, structured like the differentiated argument(s) (same shape as
            ``x`` for one array; a tuple per argument for a tuple ``argnums``).
        mode: ``"fwd_over_rev"`` (default), ``"rev_over_fwd"`` or ``"rev_over_rev"``.
        args: instead of ``x``, all positional arguments of ``f`` (pytrees of arrays).
        kwargs: keyword arguments of ``f`` (data, not differentiated).
        argnums: int or tuple of ints, the arguments to differentiate.
        has_aux: ``f`` returns ``(output, aux)``; then ``(H @ v, aux)`` is returned.

    Returns:
        ``H @ v`` structured like ``v`` (of ``x``'s shape for one array).

    Raises:
        ValueError: for an unknown mode, or when ``v``'s structure or shapes differ from
            the differentiated argument(s).
    """
    check_mode(mode)
    plain = args is None and kwargs is None and argnums == 0 and not has_aux
    if plain and jax.tree_util.treedef_is_leaf(jax.tree.structure(x)):
        x = jnp.asarray(x)
        v = jnp.asarray(v, dtype=x.dtype)
        if v.shape != x.shape:
            raise ValueError(f"v must have x's shape {x.shape}, got {v.shape}")
        return hvp_fn(f, mode)(x, v)
    from asdex_pipe.arguments import input_spec

    if args is None:
        args = (x,)
    spec = input_spec(args, kwargs, argnums, has_aux)
    xf, data = spec.split(tuple(args), kwargs or {})
    v_leaves, v_tree = jax.tree.flatten(v)
    if v_tree != spec.diff_tree or any(
        jnp.shape(a) != leaf.shape for a, leaf in zip(v_leaves, spec.diff_leaves, strict=True)
    ):
        raise ValueError(
            f"v must be structured like the differentiated argument(s) {spec.diff_tree} with "
            f"leaf shapes {[leaf.shape for leaf in spec.diff_leaves]}, got {v_tree} with "
            f"{[jnp.shape(a) for a in v_leaves]}"
        )
    vf = jnp.concatenate([jnp.ravel(a).astype(xf.dtype) for a in v_leaves])
    g = spec.flat_function(f)
    out = spec.unravel(hvp_fn(lambda y: g(y, data), mode)(xf, vf))
    if has_aux:
        return out, spec.flat_function(f, aux=True)(xf, data)
    return out
