"""Hutchinson's diagonal estimator: unbiased, variance as predicted, converges as probes grow.

Every statistical check uses a fixed key, so the test is deterministic; the bounds are a few
standard deviations wide so they would also hold for most other keys.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse as jsparse

from asdex_pipe.estimate import (
    expected_relative_error,
    hutchinson_curve,
    hutchinson_diagonal,
    offdiagonal_sq_norm,
    relative_error,
    sparse_diagonal,
)
from asdex_pipe.objectives import get_objective
from tests.optimize.hessians import rosenbrock_hessian, sparse_hessian_fn

ROSEN = get_objective("rosenbrock")
N = 1000
KEY = jax.random.key(20260122)


@pytest.fixture(scope="module")
def rosen_case():
    """A random point, its sparse Hessian from the package and the exact diagonal."""
    x = np.random.default_rng(7).uniform(-1.5, 1.5, N)
    h = sparse_hessian_fn(ROSEN.fn, (N,))(jnp.asarray(x))
    diag = np.asarray(sparse_diagonal(h))
    # The package's sparse Hessian against the hand-written one.
    np.testing.assert_allclose(diag, sparse_diagonal(rosenbrock_hessian(jnp.asarray(x))))
    return x, h, diag


def test_error_shrinks_like_one_over_sqrt_k(rosen_case):
    x, h, diag = rosen_case
    off2, dnorm = offdiagonal_sq_norm(h), float(np.linalg.norm(diag))
    curve = hutchinson_curve(ROSEN.fn, x, [16, 256, 4096], KEY)
    errors = {k: relative_error(est, diag) for k, est, _ in curve}
    # sqrt(E||e||²) = sqrt(off2 / k) / ||d||: each error within a factor 2 of it (the squared
    # error is a sum of N = 1000 nearly independent terms, so it concentrates tightly).
    for k, err in errors.items():
        expected = expected_relative_error(off2, dnorm, k)
        assert 0.5 * expected < err < 2 * expected, (k, err, expected)
    # 256x the probes: error down by about 16; demand at least 4.
    assert errors[4096] < errors[16] / 4
    assert errors[4096] < errors[256] < errors[16]


def test_per_entry_errors_match_the_variance_formula(rosen_case):
    x, h, diag = rosen_case
    k = 64
    est = np.asarray(hutchinson_diagonal(ROSEN.fn, x, k, KEY))
    dense = np.asarray(h.todense())
    var = (np.sum(dense**2, axis=1) - np.diagonal(dense) ** 2) / k  # sum_{j≠i} H_ij² / k
    z = (est - diag) / np.sqrt(var)
    # Standardised errors: mean 0 (unbiased) and unit spread (variance formula), over N entries.
    assert abs(z.mean()) < 4 / np.sqrt(N)
    assert 0.85 < np.sqrt(np.mean(z**2)) < 1.15


def test_separable_function_is_exact_with_one_probe():
    """A diagonal Hessian has zero variance: z ⊙ (D z) = diag(D) for any ±1 vector z."""

    def f(x):
        return jnp.sum(x**4) + jnp.sum(jnp.cos(x))

    x = np.linspace(-2, 2, 50)
    est = hutchinson_diagonal(f, x, 1, KEY)
    np.testing.assert_allclose(est, 12 * x**2 - np.cos(x), rtol=1e-12, atol=1e-12)


def test_batches_and_modes_do_not_change_the_estimate(rosen_case):
    x, _, _ = rosen_case
    ref = hutchinson_diagonal(ROSEN.fn, x, 50, KEY)
    for batch_size in (7, 1000):  # a partial last batch; one batch larger than needed
        np.testing.assert_allclose(
            hutchinson_diagonal(ROSEN.fn, x, 50, KEY, batch_size=batch_size), ref, rtol=1e-10
        )
    np.testing.assert_allclose(
        hutchinson_diagonal(ROSEN.fn, x, 50, KEY, mode="rev_over_rev"), ref, rtol=1e-10
    )
    other = hutchinson_diagonal(ROSEN.fn, x, 50, jax.random.key(1))
    assert not np.allclose(other, ref)


def test_curve_is_the_running_mean_of_one_probe_sequence():
    x = np.random.default_rng(3).uniform(-1, 1, 40)
    hess = np.asarray(jax.jit(jax.hessian(ROSEN.fn))(jnp.asarray(x)))
    # Probe i is rademacher(fold_in(key, i)): the k-probe estimate is the mean of the first k.
    probes = [
        np.asarray(jax.random.rademacher(jax.random.fold_in(KEY, i), (x.size,)), float)
        for i in range(8)
    ]
    terms = np.array([z * (hess @ z) for z in probes])
    curve = hutchinson_curve(ROSEN.fn, x, [3, 1, 8], KEY, batch_size=2)
    assert [k for k, _, _ in curve] == [3, 1, 8]
    for k, est, seconds in curve:
        np.testing.assert_allclose(est, terms[:k].mean(axis=0), rtol=1e-10, atol=1e-10)
        assert np.isfinite(seconds) and seconds >= 0


def test_two_dimensional_input():
    surf = get_objective("minimal_surface")
    shape = (8, 8)
    u = np.random.default_rng(0).normal(size=shape) * 0.3
    h = sparse_hessian_fn(surf.fn, shape)(jnp.asarray(u))
    diag = np.asarray(sparse_diagonal(h)).reshape(shape)
    curve = hutchinson_curve(surf.fn, u, [16, 1024], KEY)
    assert all(est.shape == shape for _, est, _ in curve)
    (_, e16, _), (_, e1024, _) = curve
    assert relative_error(e1024, diag) < relative_error(e16, diag) / 3


def test_sparse_diagonal_sums_duplicates_and_matches_dense():
    data = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0])
    idx = jnp.array([[0, 0], [1, 1], [0, 0], [0, 1], [1, 0]])
    h = jsparse.BCOO((data, idx), shape=(2, 2))
    np.testing.assert_allclose(sparse_diagonal(h), [4.0, 2.0])
    np.testing.assert_allclose(sparse_diagonal(h.todense()), [4.0, 2.0])
    csr = jsparse.BCSR.fromdense(h.todense())
    np.testing.assert_allclose(sparse_diagonal(csr), [4.0, 2.0])
    assert offdiagonal_sq_norm(csr) == pytest.approx(41.0)
    assert offdiagonal_sq_norm(h) == pytest.approx(41.0)
    assert offdiagonal_sq_norm(h.todense()) == pytest.approx(41.0)
    with pytest.raises(ValueError, match="square"):
        sparse_diagonal(jnp.ones((2, 3)))


class _Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, x):
        self.calls += 1
        return self.fn(x)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.ones(4), 0, KEY), {}, "num_samples"),
        ((np.ones(4), 2.5, KEY), {}, "num_samples"),
        ((np.ones(4), 4, KEY), {"batch_size": 0}, "batch_size"),
        ((np.array([1.0, np.nan]), 4, KEY), {}, "non-finite"),
        ((np.zeros((0,)), 4, KEY), {}, "empty"),
        ((np.ones(4), 4, 123), {}, "PRNG key"),
        ((np.ones(4), 4, jax.random.split(KEY, 2)), {}, "single PRNG key"),
    ],
)
def test_bad_input_fails_before_any_work(args, kwargs, match):
    f = _Counted(ROSEN.fn)
    with pytest.raises(ValueError, match=match):
        hutchinson_diagonal(f, *args, **kwargs)
    assert f.calls == 0


def test_bad_function_shape_and_mode():
    with pytest.raises(ValueError, match="must return a scalar"):
        hutchinson_diagonal(lambda x: x**2, np.ones(3), 4, KEY)
    with pytest.raises(ValueError, match="cannot be evaluated"):
        hutchinson_diagonal(get_objective("minimal_surface").fn, np.ones(9), 4, KEY)
    with pytest.raises(ValueError, match="bad HVP mode"):
        hutchinson_diagonal(ROSEN.fn, np.ones(3), 4, KEY, mode="sideways")
    with pytest.raises(ValueError, match="probe count"):
        hutchinson_curve(ROSEN.fn, np.ones(3), [4, 0], KEY)
    with pytest.raises(ValueError, match="empty"):
        hutchinson_curve(ROSEN.fn, np.ones(3), [], KEY)


def test_unhashable_callable_objective():
    @dataclasses.dataclass
    class Quartic:  # eq=True makes instances unhashable
        scale: float

        def __call__(self, x):
            return self.scale * jnp.sum(x**4)

    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(hutchinson_diagonal(Quartic(2.0), x, 2, KEY), 24 * x**2)
