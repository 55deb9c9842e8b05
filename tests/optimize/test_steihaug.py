"""CG–Steihaug subproblem solver against the properties N&W Algorithm 7.2 guarantees."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asdex_pipe.optimize.steihaug import (
    BOUNDARY,
    CONVERGED,
    MAX_ITER,
    NEGATIVE_CURVATURE,
    steihaug_cg,
)
from tests.profiles import examples


def _dense_matvec(b, v):
    return b @ v


_jitted = jax.jit(functools.partial(steihaug_cg, _dense_matvec))


def _solve(b, g, radius, tol, max_iter):
    # Fixed dtypes (and size 8 throughout the module) so the solve compiles once.
    f64 = jnp.float64
    return _jitted(
        jnp.asarray(b, f64),
        jnp.asarray(g, f64),
        jnp.asarray(radius, f64),
        jnp.asarray(tol, f64),
        jnp.asarray(max_iter, jnp.int32),
    )


def _model(b, g, p):
    return float(g @ p + 0.5 * p @ b @ p)


def _cauchy_model(b, g, radius):
    """Model value at the Cauchy point (N&W eq. 4.11-4.12)."""
    gnorm = np.linalg.norm(g)
    gbg = g @ b @ g
    tau = 1.0 if gbg <= 0 else min(gnorm**3 / (radius * gbg), 1.0)
    return _model(b, g, -tau * radius / gnorm * g)


def _spd(n, seed, cond=10.0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (q * np.geomspace(1.0, cond, n)) @ q.T, rng.normal(size=n)


def test_interior_step_is_the_newton_step():
    b, g = _spd(8, 0)
    step = _solve(jnp.asarray(b), jnp.asarray(g), 1e6, 1e-12, 50)
    assert int(step.status) == CONVERGED
    assert not bool(step.on_boundary)
    np.testing.assert_allclose(step.p, -np.linalg.solve(b, g), rtol=1e-9, atol=1e-12)
    assert float(step.predicted_reduction) == pytest.approx(-_model(b, g, np.asarray(step.p)))


def test_short_radius_stops_on_the_boundary_below_the_cauchy_model():
    b, g = _spd(8, 1)
    radius = 0.1 * np.linalg.norm(np.linalg.solve(b, g))
    step = _solve(jnp.asarray(b), jnp.asarray(g), radius, 1e-12, 50)
    p = np.asarray(step.p)
    assert int(step.status) == BOUNDARY
    assert np.linalg.norm(p) == pytest.approx(radius, rel=1e-12)
    assert _model(b, g, p) <= _cauchy_model(b, g, radius) + 1e-14
    assert float(step.predicted_reduction) == pytest.approx(-_model(b, g, p), rel=1e-10)


def test_negative_curvature_goes_to_the_boundary():
    # Positive curvature along g (so CG takes a step), then negative curvature in the next one.
    b = np.diag([2.0, -1.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    g = np.array([1.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    step = _solve(jnp.asarray(b), jnp.asarray(g), 5.0, 1e-12, 50)
    p = np.asarray(step.p)
    assert int(step.status) == NEGATIVE_CURVATURE
    assert np.linalg.norm(p) == pytest.approx(5.0, rel=1e-12)
    # Along e_2 the model falls as -p_2²/2: the step must exploit it.
    assert abs(p[1]) > 4.0
    assert float(step.predicted_reduction) == pytest.approx(-_model(b, g, p), rel=1e-10)


def test_iteration_limit():
    b, g = _spd(8, 2, cond=1e4)
    step = _solve(jnp.asarray(b), jnp.asarray(g), 1e6, 1e-14, 3)
    assert int(step.status) == MAX_ITER
    assert int(step.iterations) == 3


def test_zero_gradient_gives_zero_step():
    b, _ = _spd(8, 3)
    step = _solve(jnp.asarray(b), jnp.zeros(8), 1.0, 1e-8, 10)
    assert int(step.status) == CONVERGED
    assert int(step.iterations) == 0
    assert float(jnp.abs(step.p).max()) == 0.0


def test_operand_can_be_a_point_for_matrix_free_products():
    def f(x):
        return jnp.sum(jnp.cosh(x)) + jnp.sum(x[:-1] * x[1:]) ** 2

    def hvp(x, v):
        return jax.jvp(jax.grad(f), (x,), (v,))[1]

    x = jnp.linspace(-1.0, 1.0, 8)
    g = jax.jit(jax.grad(f))(x)
    b = jax.jit(jax.hessian(f))(x)
    free = jax.jit(functools.partial(steihaug_cg, hvp))(x, g, 0.3, 1e-10, 20)
    dense = _solve(b, g, 0.3, 1e-10, 20)
    np.testing.assert_allclose(free.p, dense.p, rtol=1e-10, atol=1e-12)


@settings(max_examples=examples(60), deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shift=st.floats(-3.0, 3.0),
    radius=st.floats(1e-3, 1e2),
)
def test_properties_on_random_symmetric_models(seed, shift, radius):
    """Any symmetric B: ||p|| <= radius, exact predicted reduction, at least Cauchy's decrease."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 8))
    b = (a + a.T) / 2 + shift * np.eye(8)
    g = rng.normal(size=8)
    step = _solve(jnp.asarray(b), jnp.asarray(g), radius, 1e-10, 30)
    p = np.asarray(step.p)
    assert np.linalg.norm(p) <= radius * (1 + 1e-10)
    m = _model(b, g, p)
    assert float(step.predicted_reduction) == pytest.approx(-m, rel=1e-8, abs=1e-10)
    assert m <= _cauchy_model(b, g, radius) + 1e-10 * (1 + abs(m))
    if bool(step.on_boundary):
        assert np.linalg.norm(p) == pytest.approx(radius, rel=1e-9)
