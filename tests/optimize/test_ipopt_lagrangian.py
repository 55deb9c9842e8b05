"""Lagrangian Hessian and constraint Jacobian on fixed structures (no IPOPT needed).

Values are compared with ``jax.hessian`` / ``jax.jacfwd`` of the Lagrangian at random points
and random multipliers, in every HVP mode and with both symmetric colorings; patterns with
the numerical union of the objective's and the constraints' Hessians.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian_sparsity
from asdex_pipe.objectives.constrained import (
    hs071,
    hs071_constraints,
    hs071_lagrangian,
    optimal_control,
    optimal_control_constraints,
    optimal_control_lagrangian,
)
from asdex_pipe.optimize.lagrangian import (
    constraint_jacobian,
    lagrangian_hessian,
    lagrangian_sparsity,
)
from tests.numerical import assert_superset, numerical_hessian_pattern

MODES = ("fwd_over_rev", "rev_over_fwd", "rev_over_rev")


def far_objective(x):
    """Couples x_i with x_{i+3} only."""
    return jnp.sum(jnp.sin(x[:-3] * x[3:])) + jnp.sum(x**4)


def far_constraints(x):
    """Constraint i couples x_i with x_{i+1}; one more couples the ends (disjoint from f)."""
    chain = x[:-1] ** 2 * x[1:] - 1.0
    ends = jnp.exp(x[0] * x[-1])[None]
    return jnp.concatenate([chain, ends])


PROBLEMS = {
    "far": (far_objective, far_constraints, 12),
    "hs071": (hs071, hs071_constraints, 4),
    "optimal_control": (optimal_control, optimal_control_constraints, 30),
}


def _dense_lagrangian_hessian(f, c, x, sigma, lam):
    # Jitted: op-by-op, jax.hessian of the 30-variable control problem takes ~10 s.
    hess = jax.jit(jax.hessian(lambda y, s, lam: s * f(y) + jnp.vdot(lam, c(y))))
    return np.asarray(hess(x, sigma, lam))


def _check_values(lag, f, c, x, sigma, lam):
    dense = _dense_lagrangian_hessian(f, c, x, sigma, lam)
    got = np.asarray(lag.values(x, sigma, lam))
    np.testing.assert_allclose(got, dense[lag.rows, lag.cols], rtol=1e-12, atol=1e-12)
    # Nothing outside the structure: the dense lower triangle has no nonzero it misses.
    outside = np.tril(dense).copy()
    outside[lag.rows, lag.cols] = 0.0
    assert not outside.any(), np.argwhere(outside)[:3]


# Every mode by default, the algorithm alternating (so both run); the other pairings are slow.
@pytest.mark.parametrize(
    "mode, algorithm",
    [
        pytest.param(
            mode, algorithm, id=f"{mode}-{algorithm}",
            marks=() if (i + j) % 2 == 0 else pytest.mark.slow,
        )
        for j, algorithm in enumerate(["star", "acyclic"])
        for i, mode in enumerate(MODES)
    ],
)  # fmt: skip
def test_values_match_jax_hessian_in_every_mode(mode, algorithm):
    f, c, n = PROBLEMS["far"]
    rng = np.random.default_rng(7)
    lag = lagrangian_hessian(f, c, n, algorithm=algorithm, mode=mode)
    for _ in range(2):
        x = jnp.asarray(rng.uniform(0.5, 1.5, n))
        lam = jnp.asarray(rng.normal(size=n))
        _check_values(lag, f, c, x, float(rng.normal()), lam)


@pytest.mark.filterwarnings("ignore:.*saves nothing over a dense evaluation")
@pytest.mark.parametrize("name", ["hs071", "optimal_control"])
def test_values_match_jax_hessian_on_builtin_problems(name):
    f, c, n = PROBLEMS[name]
    rng = np.random.default_rng(11)
    m = c(jnp.zeros(n)).shape[0]
    lag = lagrangian_hessian(f, c, n, algorithm="acyclic", mode="rev_over_fwd")
    x = jnp.asarray(rng.uniform(0.5, 1.5, n))
    _check_values(lag, f, c, x, float(rng.normal()), jnp.asarray(rng.normal(size=m)))


def test_lower_triangle_contract():
    f, c, n = PROBLEMS["far"]
    lag = lagrangian_hessian(f, c, n)
    full = lagrangian_sparsity(f, c, n)
    assert lag.rows.dtype == np.int32 and lag.cols.dtype == np.int32
    assert np.all(lag.rows >= lag.cols)
    # Row-major, no duplicates: the keys strictly increase.
    keys = lag.rows.astype(np.int64) * n + lag.cols
    assert np.all(np.diff(keys) > 0)
    # Exactly the lower half of the symmetric pattern: diagonal + (nnz - diagonal) / 2.
    diag = int(np.sum(full.rows == full.cols))
    assert lag.nnz == diag + (full.nnz - diag) // 2
    x = jnp.linspace(0.3, 1.2, n)
    assert lag.values(x, 1.0, jnp.ones(n)).shape == (lag.nnz,)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_pattern_is_union_of_objective_and_constraint_patterns(name):
    f, c, n = PROBLEMS[name]
    detected = lagrangian_sparsity(f, c, n)
    m = c(jnp.zeros(n)).shape[0]
    # Every nonzero of the Lagrangian's Hessian at random points and random multipliers
    # (random weights: no cancellation between the constraints) is in.
    w = jnp.asarray(np.random.default_rng(5).normal(size=m))
    assert_superset(detected, numerical_hessian_pattern(f, (n,)))
    assert_superset(detected, numerical_hessian_pattern(lambda y: jnp.vdot(w, c(y)), (n,)))


def test_pattern_holds_for_multipliers_that_silence_the_objective():
    # With obj_factor = 0 only constraint curvature remains, and vice versa: both must be
    # read correctly from the one structure.
    f, c, n = PROBLEMS["far"]
    lag = lagrangian_hessian(f, c, n, algorithm="acyclic")
    x = jnp.linspace(-0.8, 0.9, n)
    m = n
    for sigma, lam in ((0.0, jnp.ones(m)), (1.0, jnp.zeros(m)), (0.0, jnp.zeros(m))):
        dense = _dense_lagrangian_hessian(f, c, x, sigma, lam)
        np.testing.assert_allclose(
            lag.values(x, sigma, lam), dense[lag.rows, lag.cols], rtol=1e-12, atol=1e-12
        )


def test_builtin_unit_lagrangian_has_the_same_pattern():
    # The pipeline detects the unit-multiplier Lagrangian; it must equal the augmented one.
    for f, c, lag_fn, n in (
        (hs071, hs071_constraints, hs071_lagrangian, 4),
        (optimal_control, optimal_control_constraints, optimal_control_lagrangian, 40),
    ):
        assert lagrangian_sparsity(f, c, n) == hessian_sparsity(lag_fn, n)


def test_values_compose_with_jit_and_without_constraints():
    lag = lagrangian_hessian(far_objective, None, 9)
    x = jnp.linspace(0.1, 0.9, 9)
    jitted = jax.jit(lambda x, s: lag.values(x, s, jnp.zeros(0)))(x, 2.0)
    dense = 2.0 * np.asarray(jax.jit(jax.hessian(far_objective))(x))
    np.testing.assert_allclose(jitted, dense[lag.rows, lag.cols], rtol=1e-12)
    assert lag.num_constraints == 0


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_constraint_jacobian_values(mode):
    for name in ("far", "optimal_control"):
        _, c, n = PROBLEMS[name]
        jac = constraint_jacobian(c, n, mode=mode)
        x = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, n))
        dense = np.asarray(jax.jit(jax.jacfwd(c))(x))
        np.testing.assert_allclose(jac.values(x), dense[jac.rows, jac.cols], rtol=1e-13)
        outside = dense.copy()
        outside[jac.rows, jac.cols] = 0.0
        assert not outside.any()
        assert jac.shape == dense.shape
        keys = jac.rows.astype(np.int64) * n + jac.cols
        assert np.all(np.diff(keys) > 0)


def test_bad_input():
    with pytest.raises(ValueError, match="1-D array of constraint values"):
        lagrangian_hessian(far_objective, lambda x: jnp.sum(x), 5)
    with pytest.raises(ValueError, match="1-D array of constraint values"):
        lagrangian_hessian(far_objective, lambda x: jnp.outer(x, x), 5)
    with pytest.raises(ValueError, match="must return a scalar"):
        lagrangian_hessian(lambda x: x**2, None, 5)
    with pytest.raises(ValueError, match="algorithm"):
        lagrangian_hessian(far_objective, None, 5, algorithm="column")
    with pytest.raises(ValueError, match="mode"):
        lagrangian_hessian(far_objective, None, 5, mode="fwd_over_fwd")
    lag = lagrangian_hessian(far_objective, far_constraints, 6)
    with pytest.raises(ValueError, match=r"lagrange must have shape \(6,\)"):
        lag.values(jnp.ones(6), 1.0, jnp.ones(3))
    with pytest.raises(ValueError, match="x has shape"):
        lag.values(jnp.ones(7), 1.0, jnp.ones(6))
    with pytest.raises(ValueError, match="1-D array of constraint values"):
        constraint_jacobian(lambda x: x[0], 4)
