"""The three HVP modes against jax.hessian and scipy's Rosenbrock Hessian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import rosen_hess

from asdex_pipe import hvp
from asdex_pipe.differentiation import HVP_MODES
from asdex_pipe.differentiation.hvp import value_and_hvp_fn
from tests.differentiation.helpers import grid_energy, rosenbrock


@pytest.mark.parametrize("mode", HVP_MODES)
def test_hvp_matches_rosen_hess(mode):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 12)
    v = rng.standard_normal(12)
    got = np.asarray(hvp(rosenbrock, jnp.asarray(x), jnp.asarray(v), mode=mode))
    np.testing.assert_allclose(got, rosen_hess(x) @ v, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("mode", HVP_MODES)
def test_hvp_multidim_matches_jax_hessian(mode):
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.uniform(-1, 1, (4, 5)))
    v = jnp.asarray(rng.standard_normal((4, 5)))
    ref = np.asarray(jax.jit(jax.hessian(grid_energy))(x)).reshape(20, 20) @ np.asarray(v).ravel()
    got = hvp(grid_energy, x, v, mode=mode)
    assert got.shape == (4, 5)
    np.testing.assert_allclose(np.asarray(got).ravel(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", HVP_MODES)
def test_value_and_hvp_returns_primal(mode):
    x = jnp.linspace(-1.0, 1.0, 6)
    v = jnp.ones(6)
    val, hv = value_and_hvp_fn(rosenbrock, mode)(x, v)
    assert float(val) == pytest.approx(float(rosenbrock(x)), rel=1e-15)
    np.testing.assert_allclose(hv, hvp(rosenbrock, x, v), rtol=1e-13)


@pytest.mark.parametrize("mode", HVP_MODES)
def test_hvp_float32_close_to_float64(mode):
    rng = np.random.default_rng(2)
    x, v = rng.uniform(-2, 2, 10), rng.standard_normal(10)
    got = hvp(rosenbrock, jnp.asarray(x, jnp.float32), jnp.asarray(v, jnp.float32), mode=mode)
    assert got.dtype == jnp.float32
    ref = rosen_hess(x) @ v
    scale = np.abs(rosen_hess(x)) @ np.abs(v)
    assert np.all(np.abs(np.asarray(got) - ref) <= 64 * np.finfo(np.float32).eps * scale)


def test_hvp_rejects_bad_mode_and_shape():
    x = jnp.ones(4)
    with pytest.raises(ValueError, match="mode must be one of"):
        hvp(rosenbrock, x, x, mode="fwd_over_fwd")
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        hvp(rosenbrock, x, jnp.ones(5))
