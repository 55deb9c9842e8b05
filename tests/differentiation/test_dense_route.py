"""Dense derivatives: the builders evaluate them densely (one product per column) when
they fit, and refuse in one sentence otherwise; never a MemoryError."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import (
    DensePatternError,
    hessian,
    jacobian,
    value_and_hessian,
    value_and_jacobian,
)
from asdex_pipe.coloring import dense
from asdex_pipe.detection import budget


def dense_hessian(x):
    return jnp.sum(x) ** 2 + jnp.sum(jnp.cos(x))


def dense_jacobian(x):
    return jnp.sin(x[:7]) * jnp.sum(x)  # 7 outputs, all depending on every input


@pytest.fixture
def low_budget(monkeypatch):
    """Make detection call 30 × 30 dense patterns dense (instead of ~1000 × 1000)."""
    monkeypatch.setattr(budget, "DENSE_MIN_DEPENDENCIES", 100)


@pytest.mark.parametrize("format", ["bcoo", "dense", "scipy", "values"])
def test_dense_hessian_is_evaluated_densely(low_budget, format):
    n = 30
    x = jnp.linspace(-1.0, 1.0, n)
    with pytest.warns(UserWarning, match=r"evaluated densely with 30 HVPs") as record:
        fn = hessian(dense_hessian, n, format=format)
    assert record[0].filename == __file__  # points at the caller
    assert (fn.coloring.mode, fn.coloring.num_colors, fn.coloring.nnz) == ("HVP", n, n * n)
    got = fn(x)
    ref = np.asarray(jax.jit(jax.hessian(dense_hessian))(x))
    if format == "values":
        got = np.asarray(got).reshape(n, n)  # row-major over every entry
    elif format != "dense":
        got = got.todense() if hasattr(got, "todense") else got.toarray()
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12, atol=1e-12)


def test_value_and_hessian_and_chunks(low_budget):
    n = 30
    x = jnp.linspace(-1.0, 1.0, n)
    with pytest.warns(UserWarning, match="dense or nearly so"):
        fn = value_and_hessian(dense_hessian, n, format="dense", chunk_size=7)
    value, h = fn(x)
    np.testing.assert_allclose(value, dense_hessian(x), rtol=1e-13)
    np.testing.assert_allclose(h, jax.jit(jax.hessian(dense_hessian))(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("mode", "side", "count"), [("auto", "VJP", 7), ("fwd", "JVP", 40), ("rev", "VJP", 7)]
)
def test_dense_jacobian_takes_the_cheaper_or_requested_side(low_budget, mode, side, count):
    n = 40
    x = jnp.linspace(-1.0, 1.0, n)
    with pytest.warns(UserWarning, match=f"evaluated densely with {count} {side}s"):
        fn = jacobian(dense_jacobian, n, mode=mode, format="dense")
    assert (fn.coloring.mode, fn.coloring.num_colors) == (side, count)
    np.testing.assert_allclose(
        fn(x), jax.jit(jax.jacfwd(dense_jacobian))(x), rtol=1e-12, atol=1e-12
    )
    with pytest.warns(UserWarning):
        value, jac = value_and_jacobian(dense_jacobian, n, mode=mode, format="dense")(x)
    np.testing.assert_allclose(value, dense_jacobian(x), rtol=1e-13)
    np.testing.assert_allclose(jac, jax.jit(jax.jacfwd(dense_jacobian))(x), rtol=1e-12, atol=1e-12)


def test_dense_route_with_pytree_inputs(low_budget):
    def loss(params, scale):
        return scale * (jnp.sum(params["w"]) + jnp.sum(params["b"])) ** 2

    params = {"w": jnp.linspace(0.0, 1.0, 20), "b": jnp.ones(5)}
    with pytest.warns(UserWarning, match="evaluated densely with 25 HVPs"):
        fn = hessian(loss, args=(params, 2.0), format="dense")
    got = fn(params, 2.0)
    ref = jax.jit(jax.hessian(loss))(params, 2.0)
    for a in ("w", "b"):
        for b in ("w", "b"):
            np.testing.assert_allclose(got[a][b], ref[a][b], rtol=1e-12)


def test_too_large_dense_derivatives_are_refused_in_one_sentence(monkeypatch, low_budget):
    monkeypatch.setattr(dense, "DENSE_ROUTE_MAX_ENTRIES", 100)
    with pytest.raises(DensePatternError) as info:
        hessian(dense_hessian, 30)
    message = str(info.value)
    assert message.startswith("hessian: the Hessian of f (30 × 30) is dense or nearly so")
    assert "as a dense float64 matrix" in message and "Hessian-vector products" in message
    assert "the dense route evaluates at most 100 entries" in message
    assert message.count(". ") == 0  # one sentence
    with pytest.raises(DensePatternError, match=r"^value_and_jacobian: the Jacobian of f"):
        value_and_jacobian(dense_jacobian, 40)


def test_the_issue_dense_hessian_at_1e5_is_refused_fast():
    # Default thresholds: 10^10 dependencies are never built (80 GB densely).
    with pytest.raises(DensePatternError, match=r"80 GB as a dense float64 matrix"):
        hessian(dense_hessian, 100_000)
