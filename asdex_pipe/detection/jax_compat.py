"""Everything detection needs from JAX's jaxpr internals, in one place.

Only public names are used (``jax.extend.core``, ``jax.core.eval_jaxpr``); what differs
between JAX versions is absorbed here:

- jax <= 0.10 wraps a ``Jaxpr`` and its constants in a ``ClosedJaxpr``; from jax 0.11 on
  ``ClosedJaxpr`` is an alias of ``Jaxpr`` and the constants live on the jaxpr itself
  (``jaxpr.consts``; ``.jaxpr`` returns the jaxpr itself). :func:`unwrap` gives
  (jaxpr, consts) for either.
- jax 0.12 dropped ``CallPrimitive``/``call_impl`` from ``jax.extend.core``; nothing here
  needs them.

``tests/detection/test_jax_compat.py`` exercises every function on the installed JAX, so
a name that moves fails loudly there rather than as a dense pattern somewhere else.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import jax
from jax.extend import core as jex_core

Literal = jex_core.Literal
Primitive = jex_core.Primitive
_Jaxpr = jex_core.Jaxpr
_ClosedJaxpr = jex_core.ClosedJaxpr
_DropVar = jex_core.DropVar
_Var = jex_core.Var
# A distinct ClosedJaxpr type (jax <= 0.10) wraps the jaxpr; later versions merged them.
CLOSED_IS_JAXPR = _ClosedJaxpr is _Jaxpr


def is_literal(v: Any) -> bool:
    """True for a jaxpr literal (an inline constant)."""
    return isinstance(v, Literal)


def is_dropvar(v: Any) -> bool:
    """True for an unused output binder ``_``."""
    return isinstance(v, _DropVar)


def is_jaxpr(obj: Any) -> bool:
    """True for a ``Jaxpr`` or ``ClosedJaxpr`` (a parameter holding a sub-computation)."""
    return isinstance(obj, _Jaxpr | _ClosedJaxpr)


def unwrap(closed: Any) -> tuple[Any, list[Any]]:
    """(jaxpr, constants) of a ``ClosedJaxpr`` (jax <= 0.10), of a ``Jaxpr`` carrying its
    constants (jax >= 0.11), or of a plain ``Jaxpr`` without constants.

    Args:
        closed: any of the above.

    Returns:
        the jaxpr whose ``constvars``, ``invars``, ``eqns`` and ``outvars`` to walk, and
        one constant value per ``constvars`` entry.

    Raises:
        TypeError: for anything that is not a jaxpr.
    """
    if not CLOSED_IS_JAXPR and isinstance(closed, _ClosedJaxpr):
        return closed.jaxpr, list(closed.consts)
    if isinstance(closed, _Jaxpr):
        consts = list(getattr(closed, "consts", None) or ())
        if len(consts) != len(closed.constvars):
            # An open jaxpr (constants supplied by the caller): not closed here.
            consts = []
        return closed, consts
    raise TypeError(f"expected a jaxpr, got {type(closed).__name__}")


def sub_jaxprs(params: dict[str, Any]) -> Iterator[Any]:
    """The jaxprs held in an equation's parameters (branches, bodies, called functions)."""
    return iter(jex_core.jaxprs_in_params(params))


def primitive_names(closed: Any) -> set[str]:
    """Names of every primitive in ``closed`` and in the jaxprs nested in its equations."""
    jaxpr, _ = unwrap(closed)
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for sub in sub_jaxprs(eqn.params):
            names |= primitive_names(sub)
    return names


def equation_as_function(eqn: Any) -> Callable[..., list[Any]]:
    """A Python function applying ``eqn`` (all inputs positional, literals included),
    so that JAX transformations (``jax.jvp``, ``jax.vjp``) can be traced through it."""
    invars = [_Var(v.aval) for v in eqn.invars]
    with warnings.catch_warnings():
        # A one-equation jaxpr has no source function to describe; JAX warns about that.
        warnings.simplefilter("ignore", DeprecationWarning)
        jaxpr = _Jaxpr([], invars, list(eqn.outvars), [eqn.replace(invars=invars)])
    return lambda *args: jax.core.eval_jaxpr(jaxpr, [], *args)


# Public modules whose import registers (nearly) every primitive JAX defines.
_PRIMITIVE_MODULES = (
    "jax.lax",
    "jax.lax.linalg",
    "jax.numpy",
    "jax.nn",
    "jax.random",
    "jax.scipy.linalg",
    "jax.scipy.special",
    "jax.scipy.signal",
    "jax.experimental.sparse",
    "jax.ad_checkpoint",
)


def installed_primitive_names() -> set[str]:
    """Names of every ``Primitive`` object defined by the installed JAX.

    Imports JAX's public modules, then scans every loaded ``jax.*`` module's globals for
    primitive objects (so primitives defined in private modules are found without naming
    those modules).
    """
    for name in _PRIMITIVE_MODULES:
        importlib.import_module(name)
    names = set()
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "jax" or mod_name.startswith("jax.")):
            continue
        for value in list(vars(mod).values()):
            if isinstance(value, Primitive):
                names.add(value.name)
    return names
