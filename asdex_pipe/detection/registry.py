"""The rule table: primitive name -> propagation rule.

A rule receives the equation and one :class:`~asdex_pipe.detection.deps.Deps` per
input (literals and constants arrive as concrete ``Deps``) and returns one ``Deps``
per output. Rules are registered by primitive *name* so that they survive JAX
moving primitive objects between modules.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asdex_pipe.detection.deps import Deps

Rule = Callable[[Any, list[Deps], "Context"], list[Deps]]

RULES: dict[str, Rule] = {}


class UnknownPrimitiveWarning(UserWarning):
    """Emitted once per primitive name that has no rule (the result is conservative)."""


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
    """Decorator: register a rule under one or more primitive names."""

    def deco(rule: Rule) -> Rule:
        for name in names:
            RULES[name] = rule
        return rule

    return deco


def out_shapes(eqn: Any) -> list[tuple[int, ...]]:
    """Shapes of an equation's outputs (tokens and other shapeless avals give ())."""
    return [tuple(getattr(v.aval, "shape", ())) for v in eqn.outvars]
