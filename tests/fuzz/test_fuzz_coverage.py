"""Every registered detection rule is reached by the fuzzer's generated programs.

A rule that no generated program reaches is a rule the differential fuzzer cannot test:
registering a new rule without teaching ``tests/fuzz/ops.py`` to generate its primitive
fails here.
"""

from __future__ import annotations

import warnings

import pytest

import asdex_pipe
from asdex_pipe.detection.jax_compat import installed_primitive_names
from asdex_pipe.detection.registry import RULES
from tests.fuzz.ops import NUM_PARAMS, OPS
from tests.fuzz.programs import Batch, Program, Step


def param_variants(name: str) -> list[tuple[int, ...]]:
    """Parameter tuples that select every variant of an operation (variants are chosen by
    small moduli of the parameters; ``p[0]`` also indexes the elementwise tables)."""
    return [(k,) + (k % 13,) * (NUM_PARAMS - 1) for k in range(OPS[name].variants)]


@pytest.fixture
def recorder(monkeypatch):
    """(registered rule functions, the set of those called while the fixture is active):
    every entry of RULES is wrapped to record its call."""
    originals = dict(RULES)
    seen: set = set()

    def recording(rule):
        def wrapper(eqn, invals, ctx):
            seen.add(rule)
            return rule(eqn, invals, ctx)

        return wrapper

    for name, rule in originals.items():
        monkeypatch.setitem(RULES, name, recording(rule))
    return originals, seen


def test_every_registered_rule_is_reached_by_generated_programs(recorder):
    originals, reached = recorder
    # One program holds every operation variant as its own step on x (each step's output is
    # an output of the program), so one Jacobian and one Hessian detection reach every rule
    # that a one-step program of that variant reaches; the Hessian's program keeps the
    # reverse-mode operations only.
    steps = [
        Step(name, (0,) * OPS[name].arity, p) for name in sorted(OPS) for p in param_variants(name)
    ]
    rev_steps = [s for s in steps if OPS[s.op].rev]
    every = Program(6, tuple(steps), tuple(range(1, len(steps) + 1)))
    rev = Program(6, tuple(rev_steps), tuple(range(1, len(rev_steps) + 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asdex_pipe.jacobian_sparsity(lambda x: every(x, None), input_shape=6)
        asdex_pipe.hessian_sparsity(lambda x: Batch.objective(rev(x, None)), input_shape=6)
    installed = installed_primitive_names()
    missing = {}
    for name, rule in originals.items():
        if rule not in reached and name in installed:
            missing.setdefault(f"{rule.__module__.rsplit('.', 1)[-1]}.{rule.__name__}", []).append(
                name
            )
    assert not missing, f"rules no generated program reaches (rule: its primitives): {missing}"
