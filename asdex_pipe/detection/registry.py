"""The rule table: primitive name -> propagation rule.

A rule receives the equation and one :class:`~asdex_pipe.detection.deps.Deps` per
input (literals and constants arrive as concrete ``Deps``) and returns one ``Deps``
per output. Rules are registered by primitive *name* so that they survive JAX
moving primitive objects between modules; registering a name twice is an error, and
``tests/detection/test_registry.py`` checks every name against the primitives the
installed JAX defines (names that exist only in some JAX versions are listed in
:data:`VERSION_SPECIFIC`).

A rule reads the parameters it depends on through :func:`params`: a missing key means
the primitive's parameter layout changed in this JAX version, which the interpreter
answers with a conservative fallback and a warning. Any other exception in a rule is a
bug and propagates.

Rules never import the interpreter (``tests/test_layering.py`` checks it): what they need
of it is here. A rule recurses into a sub-jaxpr through ``ctx.eval_jaxpr`` (the
:class:`Context` carries the interpreter's entry point), falls back with
:func:`conservative`, and asks :func:`is_float_aval` which values carry derivatives.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps

Rule = Callable[[Any, list[Deps], "Context"], list[Deps]]

RULES: dict[str, Rule] = {}

# Registered primitive names that exist only in some JAX versions, with the versions that
# have them (checked against the installed JAX by tests/detection/test_registry.py).
VERSION_SPECIFIC: dict[str, str] = {
    "call": "jax < 0.11 (core.call_p, removed with CallPrimitive)",
    "closed_call": "jax < 0.11",
    "log2": "jax >= 0.11",
    "one_minus_square": "jax >= 0.11 (inside the JVPs of tanh, asin, acos, atanh)",
    "polynomial": "jax >= 0.11 (jnp.polyval)",
}


class UnknownPrimitiveWarning(UserWarning):
    """Emitted once per primitive name that has no rule (the result is conservative)."""


class UnknownParamsError(Exception):
    """A rule met a parameter layout of its primitive that it does not know.

    Raised by :func:`params` (or by a rule that recognises no layout it knows); the
    interpreter turns it into a conservative result for that one equation and a warning.

    Attributes:
        eqn: the equation whose parameters were not understood.
        missing: what was looked for and not found.
    """

    def __init__(self, eqn: Any, missing: str):
        super().__init__(f"{eqn.primitive.name}: no {missing}")
        self.eqn = eqn
        self.missing = missing


class RuleError(RuntimeError):
    """A rule returned something other than one ``Deps`` of the right shape per output."""


def params(eqn: Any, *keys: str) -> Any:
    """The values of ``eqn.params[key]`` for each key (a single value for a single key).

    Args:
        eqn: the equation whose parameters the rule reads.
        keys: parameter names.

    Raises:
        UnknownParamsError: when a key is absent (the primitive's layout changed).
    """
    p = eqn.params
    missing = [k for k in keys if k not in p]
    if missing:
        raise UnknownParamsError(eqn, ", ".join(repr(k) for k in missing))
    values = tuple(p[k] for k in keys)
    return values[0] if len(keys) == 1 else values


@dataclass
class Context:
    """State shared by one detection run.

    Attributes:
        warned: primitive names already warned about in this run.
        eval_jaxpr: the interpreter entry point, for rules that recurse into sub-jaxprs
            (set by the interpreter; avoids an import cycle).
        inside_custom_rule: True while a custom derivative rule's jaxpr is propagated.
        traced: jaxprs traced for an equation, keyed by ``id(eqn)`` (loops revisit the
            same equation); the equation is kept with its entry so the id stays unique.
    """

    warned: set[str] = field(default_factory=set)
    eval_jaxpr: Callable[..., list[Deps]] | None = None
    inside_custom_rule: bool = False
    traced: dict[Any, tuple[Any, Any]] = field(default_factory=dict)

    def trace_once(self, eqn: Any, kind: str, trace: Callable[[Any], Any]) -> Any:
        """``trace(eqn)``, computed once per equation and ``kind`` in this run."""
        key = (id(eqn), kind)
        if key not in self.traced:
            self.traced[key] = (eqn, trace(eqn))
        return self.traced[key][1]

    def warn_unknown(self, name: str, why: str = "has no rule for") -> None:
        """Warn once per primitive name that a conservative fallback was used.

        Args:
            name: the primitive's name.
            why: what went wrong, completing "asdex_pipe sparsity detection ... primitive".
        """
        if name in self.warned:
            return
        self.warned.add(name)
        warnings.warn(
            f"asdex_pipe sparsity detection {why} primitive '{name}'; assuming "
            "every output element depends on every input element of that operation "
            "(correct but possibly dense)",
            UnknownPrimitiveWarning,
            stacklevel=4,
        )


def register(*names: str) -> Callable[[Rule], Rule]:
    """Decorator: register a rule under one or more primitive names.

    Args:
        names: primitive names (``eqn.primitive.name``) the rule handles.

    Raises:
        ValueError: when a name already has a rule (two rules for one primitive would
            silently depend on import order).
    """

    def deco(rule: Rule) -> Rule:
        for name in names:
            if name in RULES:
                raise ValueError(
                    f"primitive '{name}' already has the rule {RULES[name].__qualname__}; "
                    f"cannot register {rule.__qualname__} for it too"
                )
            RULES[name] = rule
        return rule

    return deco


def out_shapes(eqn: Any) -> list[tuple[int, ...]]:
    """Shapes of an equation's outputs (tokens and other shapeless avals give ())."""
    return [tuple(getattr(v.aval, "shape", ())) for v in eqn.outvars]


def is_float_aval(aval: Any) -> bool:
    """True for inexact (floating or complex) array avals: the only ones with derivatives.

    ``jnp.issubdtype`` rather than numpy's: numpy does not count bfloat16 and the float8
    types as inexact, and mixed-precision code would lose every dependency through them.
    """
    dtype = getattr(aval, "dtype", None)
    if dtype is None:
        return False
    try:
        return bool(jnp.issubdtype(dtype, jnp.inexact))
    except TypeError:  # extended dtypes (PRNG keys, float0): no derivative
        return False


def conservative(eqn: Any, invals: list[Deps], ctx: Context) -> list[Deps]:
    """Every output element depends on every input element of the equation."""
    ncols = max(d.ncols for d in invals)
    flat = [d for d in invals if not d.is_empty]
    if not flat:
        return [D.empty(s, ncols) for s in out_shapes(eqn)]
    one = D.reduce_all(D.stack(flat), ())
    return [D.broadcast_row(one, s) for s in out_shapes(eqn)]
