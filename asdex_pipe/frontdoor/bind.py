"""``f`` bound to flat inputs: the one place that turns ``f(*args, **kwargs)`` into a
function of the flat vector ``x`` (and the data leaves).

* :func:`bind`: ``g(x, data)`` with the data as an argument (the builders' programs, whose
  data change between calls);
* :func:`bind_data`: ``g(x)`` with the data fixed at given values (verification, HVPs,
  objectives);
* :func:`augmented_function`: ``f_aug(z)`` over ``z = [x, data]`` for global detection.

For the one-array form ``x`` is the array itself (any shape) and there are no data.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from asdex_pipe.frontdoor.inputs import InputSpec
from asdex_pipe.frontdoor.outputs import split_aux

__all__ = ["augmented_function", "bind", "bind_data"]


def bind(f: Callable, spec: InputSpec, *, aux: bool = False, cast: bool = True) -> Callable:
    """``g(x, data)``: ``f``'s output (``aux=False``) or its aux (``aux=True``).

    Args:
        f: the user's function.
        spec: its inputs; ``x`` is the (n,) vector of the differentiated leaves (the one
            array itself for the one-array form) and ``data`` the tuple of the other
            leaves.
        aux: return ``f``'s aux instead of its output (``spec.has_aux`` must be True).
        cast: give each differentiated leaf its own dtype (off during detection, which
            traces at the precision of ``x``).
    """
    pick = 1 if aux else 0
    if spec.one_array:

        def g_one(x, data):
            out = f(x)
            return split_aux(out)[pick] if spec.has_aux else out

        return g_one

    def g(x, data):
        args, kwargs = spec.assemble(spec.unravel(x, cast=cast), data)
        out = f(*args, **kwargs)
        return split_aux(out)[pick] if spec.has_aux else out

    return g


def bind_data(f: Callable, spec: InputSpec, data: tuple, *, aux: bool = False) -> Callable:
    """``g(x)``: :func:`bind` with the data fixed at ``data`` (from :meth:`InputSpec.split`)."""
    g = bind(f, spec, aux=aux)
    return lambda x: g(x, data)


def augmented_function(f: Callable, spec: InputSpec) -> tuple[Callable, int]:
    """``f_aug(z)`` over ``z = [x, data leaves raveled]`` for global detection, and len(z).

    Floating data leaves are read from ``z`` at its precision, integer and boolean ones are
    converted to their dtype (unknown integers for the detector, see
    :mod:`asdex_pipe.frontdoor.inputs`); ``f``'s aux is dropped.
    """
    g = bind(f, spec, cast=False)
    n = spec.n
    sizes = [leaf.size for leaf in spec.data_leaves]
    total = n + sum(sizes)

    def f_aug(z):
        data, offset = [], n
        for leaf, size in zip(spec.data_leaves, sizes, strict=True):
            part = z[offset : offset + size].reshape(leaf.shape)
            offset += size
            if not jnp.issubdtype(leaf.dtype, jnp.inexact):
                part = part.astype(leaf.dtype)
            elif jnp.issubdtype(leaf.dtype, jnp.complexfloating):
                part = part.astype(leaf.dtype)
            data.append(part)
        return g(z[:n], tuple(data))

    return f_aug, total
