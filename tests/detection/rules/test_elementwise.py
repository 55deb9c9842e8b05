"""Elementwise rules (``rules/elementwise.py``): unary and n-ary primitives, mul by constant
zeros, select_n, zero-derivative primitives, polynomial."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection import UnknownPrimitiveWarning
from tests.detection.rules.helpers import dense, exact
from tests.numerical import numerical_hessian_pattern


def test_elementwise_unary_is_diagonal():
    assert (dense(lambda x: jnp.tanh(jnp.exp(x) ** 3), 5) == np.eye(5, dtype=bool)).all()


def test_scalar_operand_broadcasts():
    got = dense(lambda x: x * x[0], 4)
    ref = np.eye(4, dtype=bool)
    ref[:, 0] = True
    assert (got == ref).all()


def test_mul_by_constant_zero_is_empty():
    mask = jnp.asarray([1.0, 0.0, 2.0, 0.0])
    assert (dense(lambda x: x * mask, 4) == np.diag([1, 0, 1, 0]).astype(bool)).all()


def test_zero_derivative_ops_are_empty():
    assert jacobian_sparsity(lambda x: jnp.floor(x) + jnp.sign(x), 4).nnz == 0
    assert jacobian_sparsity(lambda x: (x > 0).astype(jnp.float32), 4).nnz == 0
    assert jacobian_sparsity(lambda x: jax.lax.stop_gradient(x) * 2.0, 4).nnz == 0


def test_select_with_constant_predicate_is_exact():
    pred = jnp.asarray([True, False, False])
    assert (
        dense(lambda x: jnp.where(pred, x, x[::-1]), 3) == np.eye(3, dtype=bool)[[0, 1, 0]]
    ).all()


def test_log2_and_polyval_are_elementwise():
    coeffs = jnp.asarray([1.0, -2.0, 3.0])
    exact(lambda x: jnp.log2(x**2 + 1.0) * jnp.polyval(coeffs, x[::-1]), 5)
    exact(lambda x: jnp.polyval(x[:3], x[3:]), 7)  # input-dependent coefficients


def test_inverse_trig_and_tanh_hessians_stay_diagonal_without_fallback():
    # From jax 0.11 their JVPs use the one_minus_square primitive.
    def f(x):
        return jnp.sum(jnp.tanh(x) + jnp.arcsin(x / 2) + jnp.arccos(x / 3) + jnp.arctanh(x / 4))

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        p = hessian_sparsity(f, 5)
    assert p == numerical_hessian_pattern(f, (5,))
    assert p.nnz == 5


@pytest.mark.skipif(not hasattr(jax.lax, "polynomial"), reason="lax.polynomial: jax >= 0.11")
def test_polynomial_ignores_x_where_higher_coefficients_are_constant_zeros():
    def constant_term_only(x):
        return jax.lax.polynomial(x[:3], [x[3:], 0.0, 0.0])

    def linear(x):
        return jax.lax.polynomial(x[:3], [1.0, x[3:]])

    exact(constant_term_only, 6)
    assert jacobian_sparsity(constant_term_only, 6).todense()[:, :3].sum() == 0
    exact(linear, 6)
