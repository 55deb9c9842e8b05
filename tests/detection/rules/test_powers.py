"""Power rules (``rules/powers.py``): integer_pow and pow, with constant or input-dependent
bases and exponents, Jacobians and Hessians (detected ⊇ numerical, == where exact)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from tests.numerical import assert_superset, numerical_hessian_pattern, numerical_jacobian_pattern

POWERS = {
    "integer_pow": lambda x: x**3 + x[::-1] ** 2,
    "integer_pow_zero_and_one": lambda x: x**0 * x[0] + x**1,
    "pow_constant_exponent": lambda x: jnp.abs(x) ** 2.5,
    "pow_constant_base": lambda x: 2.0 ** x[::-1],
    "pow_both_from_x": lambda x: (x**2 + 1.0) ** x[::-1],
}


@pytest.mark.parametrize("name", sorted(POWERS))
def test_power_jacobians_equal_numerical(name):
    f = POWERS[name]
    detected = jacobian_sparsity(f, 6)
    numerical = numerical_jacobian_pattern(f, (6,))
    assert_superset(detected, numerical)
    assert detected == numerical


@pytest.mark.parametrize("name", sorted(POWERS))
def test_power_hessians_contain_numerical(name):
    def g(x):
        return jnp.sum(POWERS[name](x))

    detected = hessian_sparsity(g, 6)
    assert_superset(detected, numerical_hessian_pattern(g, (6,)))
    dense = detected.todense()
    assert (dense == dense.T).all()


def test_pow_with_exponent_from_x_couples_base_and_exponent_only():
    got = jacobian_sparsity(lambda x: x[:3] ** x[3:], 6).todense()
    ref = np.zeros((3, 6), dtype=bool)
    ref[np.arange(3), np.arange(3)] = ref[np.arange(3), np.arange(3, 6)] = True
    assert (got == ref).all()
