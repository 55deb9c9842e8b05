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
    for name in sorted(OPS):
        for p in param_variants(name):
            prog = Program(6, (Step(name, (0,) * OPS[name].arity, p),), (1,))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                asdex_pipe.jacobian_sparsity(lambda x, q=prog: q(x, None), input_shape=6)
                if OPS[name].rev:
                    g = lambda x, q=prog: Batch.objective(q(x, None))  # noqa: E731
                    asdex_pipe.hessian_sparsity(g, input_shape=6)
    installed = installed_primitive_names()
    missing = {}
    for name, rule in originals.items():
        if rule not in reached and name in installed:
            missing.setdefault(f"{rule.__module__.rsplit('.', 1)[-1]}.{rule.__name__}", []).append(
                name
            )
    assert not missing, f"rules no generated program reaches (rule: its primitives): {missing}"
