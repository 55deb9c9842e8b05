"""The calling conventions a builder accepts, resolved to one form.

Three ways to give a function's inputs, all equivalent:

* the seed's one-array form: ``hessian(f, input_shape=100)`` or ``hessian(f, 100)``,
  ``hessian(f, (10, 10))``, ``hessian(f, x_sample)`` (an int, a tuple of ints, one array
  or ``jax.ShapeDtypeStruct`` as the only positional sample): results are flat matrices;
* asdex's and JAX's form: sample arguments positionally and sample keyword arguments as
  keywords, ``hessian(loss, params, batch, argnums=0, has_aux=True, scale=2.0)``;
* the explicit form: ``args=(params, batch)``, ``kwargs={"scale": 2.0}``.

**Ambiguity.** A keyword a builder names (``mode``, ``format``, ``argnums``...) is that
option, never a sample keyword argument of ``f``; pass such a keyword of ``f`` through
``kwargs={...}``. One positional sample that is an int or a tuple of ints is a shape (the
seed's form), since integers cannot be differentiated. One positional array with
``argnums=0`` and no keyword samples is the one-array form (a flat (n, n) result, as the
seed documents); a pytree sample, several samples or keyword samples are the general form
(results structured like ``jax.hessian``'s, unless ``structure="flat"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp

from asdex_pipe.frontdoor.inputs import ArgumentTypeError, holds_arrays, is_one_array

__all__ = ["resolve_call"]


def resolve_call(
    what: str,
    sample_args: tuple[Any, ...],
    sample_kwargs: Mapping[str, Any],
    input_shape: Any,
    args: Any,
    kwargs: Mapping[str, Any] | None,
    argnums: Any,
    allow_int: bool = False,
) -> tuple[Any, Any, Mapping[str, Any] | None]:
    """``(input_shape, args, kwargs)`` from whichever convention the call used.

    Args:
        what: the public function's name, for messages.
        sample_args: the positional samples after ``f`` (``*sample_args``).
        sample_kwargs: the keyword samples (``**sample_kwargs``).
        input_shape, args, kwargs: the explicit forms.
        argnums: the differentiated positions (a one-array sample with ``argnums != 0``
            is a general call).
        allow_int: integer samples may be differentiated (zero derivatives).

    Raises:
        ArgumentTypeError: (a TypeError) two conventions mixed, e.g. positional samples
            together with ``args=`` or ``input_shape=``.
    """
    if sample_args and (args is not None or input_shape is not None):
        given = "args=" if args is not None else "input_shape="
        raise ArgumentTypeError(
            f"{what}() got positional sample arguments and {given}; give the inputs one way: "
            f"{what}(f, *samples, **keyword_samples), {what}(f, args=(...), kwargs={{...}}) "
            f"or {what}(f, input_shape=...)"
        )
    if sample_kwargs and kwargs is not None:
        raise ArgumentTypeError(
            f"{what}() got keyword samples ({', '.join(sample_kwargs)}) and kwargs=; give "
            "the keyword arguments of f one way"
        )
    if sample_kwargs:
        kwargs = dict(sample_kwargs)
    if not sample_args:
        return input_shape, args, kwargs
    one = len(sample_args) == 1 and kwargs is None and argnums == 0
    sample = sample_args[0]
    integer_array = getattr(sample, "ndim", 0) >= 1 and not jnp.issubdtype(
        sample.dtype, jnp.inexact
    )
    if one and integer_array:  # (a 0-d integer is a size, the seed's ``hessian(f, n)``)
        if allow_int:
            return None, tuple(sample_args), kwargs
        # As jax.hessian(f)(jnp.arange(4)): an integer input cannot be differentiated.
        raise ArgumentTypeError(
            f"{what}() got an integer sample (dtype {sample.dtype}, shape "
            f"{tuple(sample.shape)}): differentiated inputs must be floating-point; give a "
            "floating sample, its shape (input_shape=...), or allow_int=True"
        )
    if one and (is_one_array(sample) or not holds_arrays(sample)):
        # A shape, one array, or something that is neither (``(2, 1.5)``, ``"abc"``):
        # read as input_shape, whose check names what was expected.
        return sample, None, None
    return None, tuple(sample_args), kwargs
