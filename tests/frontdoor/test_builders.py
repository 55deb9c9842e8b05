"""Public Hessian functions: formats, modes, jit/vmap, dtypes, chunking, values, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp
from jax.experimental import sparse as jsparse
from scipy.optimize import rosen_hess

from asdex_pipe import hessian, hessian_from_coloring, value_and_hessian_from_coloring
from asdex_pipe.differentiation import HVP_MODES
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from tests.differentiation.helpers import (
    dense_hessian,
    grid5,
    grid5_acyclic,
    grid5_star,
    grid_energy,
    hvp_coloring,
    rosenbrock,
    to_dense,
    tridiagonal,
)

N = 16

_I = np.arange(N)

STAR = hvp_coloring(tridiagonal(N), _I % 3, "star")

ACYCLIC = hvp_coloring(tridiagonal(N), _I % 2, "acyclic")


def _x(dtype=jnp.float64, n=N, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(-2, 2, n), dtype)


@pytest.mark.parametrize("mode", HVP_MODES)
@pytest.mark.parametrize("coloring", [STAR, ACYCLIC], ids=["star", "acyclic"])
def test_rosenbrock_equals_scipy_rosen_hess(mode, coloring):
    x = _x()
    h = hessian_from_coloring(rosenbrock, coloring, mode=mode, format="scipy")(x)
    ref = rosen_hess(np.asarray(x))
    np.testing.assert_allclose(h.toarray(), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("format", ["bcoo", "dense", "scipy"])
def test_formats(format):
    x = _x()
    h = hessian_from_coloring(rosenbrock, STAR, format=format)(x)
    kind = {"bcoo": jsparse.BCOO, "dense": jax.Array, "scipy": sp.csr_array}[format]
    assert isinstance(h, kind)
    assert h.shape == (N, N)
    np.testing.assert_allclose(to_dense(h), rosen_hess(np.asarray(x)), rtol=1e-12)
    if format == "bcoo":
        idx = np.asarray(h.indices)
        np.testing.assert_array_equal(idx[:, 0], STAR.sparsity.rows)
        np.testing.assert_array_equal(idx[:, 1], STAR.sparsity.cols)
    if format == "scipy":
        np.testing.assert_array_equal(h.indptr, STAR.sparsity.indptr)


@pytest.mark.parametrize("coloring", [STAR, ACYCLIC], ids=["star", "acyclic"])
def test_jit_and_vmap(coloring):
    xs = jnp.stack([_x(seed=s) for s in range(3)])
    fn = hessian_from_coloring(rosenbrock, coloring, mode="rev_over_rev")
    batched = jax.jit(jax.vmap(fn))(xs)
    assert batched.shape == (3, N, N)
    dense_b = np.asarray(batched.todense())
    for b in range(3):
        np.testing.assert_allclose(dense_b[b], rosen_hess(np.asarray(xs[b])), rtol=1e-12)
    dense_fn = jax.jit(hessian_from_coloring(rosenbrock, coloring, format="dense"))
    np.testing.assert_allclose(dense_fn(xs[0]), rosen_hess(np.asarray(xs[0])), rtol=1e-12)


@pytest.mark.parametrize("mode", HVP_MODES)
@pytest.mark.parametrize("coloring", [STAR, ACYCLIC], ids=["star", "acyclic"])
def test_float32_within_rounding(mode, coloring):
    x64 = _x()
    h = hessian_from_coloring(rosenbrock, coloring, mode=mode, format="dense")(
        x64.astype(jnp.float32)
    )
    assert h.dtype == jnp.float32
    ref = rosen_hess(np.asarray(x64.astype(jnp.float32), np.float64))
    row_scale = np.abs(ref).sum(axis=1, keepdims=True)
    assert np.all(np.abs(np.asarray(h, np.float64) - ref) <= 64 * 1.2e-7 * row_scale)


@pytest.mark.parametrize("mode", HVP_MODES)
def test_value_and_hessian_multidim_input(mode):
    p = grid5(4, 5)
    coloring = hvp_coloring(p, grid5_star(4, 5), "star")
    u = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (4, 5)))
    val, h = value_and_hessian_from_coloring(grid_energy, coloring, mode=mode)(u)
    assert h.shape == (20, 20)
    assert float(val) == pytest.approx(float(grid_energy(u)), rel=1e-14)
    np.testing.assert_allclose(to_dense(h), dense_hessian(grid_energy, u), rtol=1e-12, atol=1e-12)
    coloring_a = hvp_coloring(p, grid5_acyclic(4, 5), "acyclic")
    h_a = hessian_from_coloring(grid_energy, coloring_a, mode=mode, format="dense")(u)
    np.testing.assert_allclose(h_a, dense_hessian(grid_energy, u), rtol=1e-12, atol=1e-12)


def test_value_and_hessian_does_not_run_f_separately():
    calls = []

    def f(x):
        calls.append(1)  # counts traces; jit traces once per program
        return rosenbrock(x)

    fn = value_and_hessian_from_coloring(f, STAR)
    fn(_x())
    assert len(calls) == 1


def test_nan_and_inf_propagate():
    x = _x().at[3].set(jnp.nan).at[9].set(jnp.inf)
    h = np.asarray(hessian_from_coloring(rosenbrock, STAR, format="dense")(x))
    assert np.isnan(h[3, 3]) and not np.isfinite(h[9, 9])
    assert np.isfinite(h[0, 0])  # far away from the bad entries


def test_zero_colors_and_empty_rows():
    # A linear function: empty Hessian pattern, no products at all.
    p = SparsityPattern.from_coo([], [], (5, 5))
    coloring = ColoredPattern(p, -np.ones(5, int), "HVP", "star")
    val, h = value_and_hessian_from_coloring(lambda x: jnp.sum(3.0 * x), coloring)(jnp.ones(5))
    assert float(val) == 15.0 and h.nse == 0 and h.shape == (5, 5)


def test_input_errors_before_tracing():
    fn = hessian_from_coloring(rosenbrock, STAR, input_shape=(N,))
    with pytest.raises(ValueError, match=r"shape \(7,\).*\(16,\)"):
        fn(jnp.ones(7))
    with pytest.raises(ValueError, match="floating-point"):
        fn(jnp.arange(N))
    loose = hessian_from_coloring(rosenbrock, STAR)
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(16, 16\)"):
        loose(jnp.ones((4, 5)))
    with pytest.raises(ValueError, match="dtype float32"):
        hessian_from_coloring(rosenbrock, STAR, dtype=jnp.float32)(_x())
    with pytest.raises(ValueError, match="format='scipy'"):
        jax.jit(hessian_from_coloring(rosenbrock, STAR, format="scipy"))(_x())


def test_coloring_errors():
    jvp = ColoredPattern(tridiagonal(4), np.arange(4), "JVP", "column")
    with pytest.raises(ValueError, match=r"HVP.*got a JVP coloring"):
        hessian_from_coloring(rosenbrock, jvp)
    with pytest.raises(ValueError, match="ColoredPattern"):
        hessian_from_coloring(rosenbrock, tridiagonal(4))
    with pytest.raises(ValueError, match="mode must be one of"):
        hessian_from_coloring(rosenbrock, STAR, mode="fwd")
    with pytest.raises(ValueError, match="format must be one of"):
        hessian_from_coloring(rosenbrock, STAR, format="csr")
    with pytest.raises(ValueError, match="chunk_size"):
        hessian_from_coloring(rosenbrock, STAR, chunk_size=0)
    with pytest.raises(ValueError, match="input_shape"):
        hessian_from_coloring(rosenbrock, STAR, input_shape=(3, 3))
    bad = hvp_coloring(tridiagonal(6), [0, 0, 1, 1, 0, 0], "star")
    with pytest.raises(ValueError, match=r"share color|star"):
        hessian_from_coloring(rosenbrock, bad)


def test_star_label_falls_back_to_substitution_for_acyclic_coloring():
    mislabeled = hvp_coloring(tridiagonal(N), _I % 2, "custom")
    h = hessian_from_coloring(rosenbrock, mislabeled, format="dense")(_x())
    np.testing.assert_allclose(h, rosen_hess(np.asarray(_x())), rtol=1e-12)


def test_output_of_shape_one_is_a_scalar():
    from asdex_pipe import hvp, value_and_hessian

    def f(x):
        return jnp.sum(x**3, keepdims=True)

    x = jnp.arange(1.0, 5.0)
    expected = np.diag(6 * np.arange(1.0, 5.0))
    np.testing.assert_allclose(to_dense(hessian(f, 4)(x)), expected, rtol=1e-6)
    value, h = value_and_hessian(f, 4)(x)
    assert value.shape == (1,)  # the value keeps f's output shape
    np.testing.assert_allclose(float(value[0]), 100.0, rtol=1e-6)
    np.testing.assert_allclose(to_dense(h), expected, rtol=1e-6)
    np.testing.assert_allclose(hvp(f, x, jnp.ones(4)), 6 * np.arange(1.0, 5.0), rtol=1e-6)


def test_hvp_of_vector_function_names_the_output_shape():
    from asdex_pipe import hvp

    with pytest.raises(ValueError, match=r"scalar-valued f.*\(3,\)"):
        hvp(lambda x: x**3, jnp.ones(3), jnp.ones(3))


def _untraceable(x):
    raise AssertionError("f must not be traced before the arguments are checked")


@pytest.mark.parametrize(
    "kwargs, match",
    [({"order": "bogus"}, "unknown order"), ({"algorithm": "bogus"}, "unknown algorithm")],
)
def test_coloring_options_are_checked_before_detection(kwargs, match):
    from asdex_pipe import hessian_coloring

    with pytest.raises(ValueError, match=match):
        hessian(_untraceable, 4, **kwargs)
    with pytest.raises(ValueError, match=match):
        hessian_coloring(_untraceable, 4, **kwargs)


def test_input_shape_forms_agree_with_detection():
    def f(x):
        return jnp.sum(x**4)

    for input_shape, x_shape in ((np.int64(6), (6,)), ((2, 3), (2, 3)), (np.zeros((2, 3)), (2, 3))):
        h = hessian(f, input_shape)(jnp.ones(x_shape))
        np.testing.assert_allclose(np.diag(to_dense(h)), 12.0)


def test_x_that_is_not_an_array_is_rejected_clearly():
    with pytest.raises(ValueError, match="x must be an array of 3 floating-point values, got dict"):
        hessian(lambda x: jnp.sum(x**4), 3)({"a": jnp.ones(3)})
