"""Dense patterns: detection stops at the first large, dense intermediate and says so."""

import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import DensePatternError, hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection import budget


def dense_hessian(x):
    return jnp.sum(x) ** 2 + jnp.sum(jnp.cos(x))


def dense_jacobian(x):
    return jnp.sin(x) * jnp.sum(x)


@pytest.mark.parametrize("n", [20_000, 100_000])
def test_dense_hessian_is_refused_with_density_and_memory(n):
    with pytest.raises(DensePatternError) as info:
        hessian_sparsity(dense_hessian, n)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.kind, err.shape, err.elements, err.inputs) == ("Hessian", (n, n), n, n)
    assert err.density == 1.0
    message = str(err)
    assert f"the Hessian of f ({n} × {n}) is dense or nearly so" in message
    assert "100% of the" in message and "as a dense float64 matrix" in message
    assert "Hessian-vector products" in message
    if n == 100_000:
        assert "80 GB" in message


def test_dense_jacobian_is_refused():
    with pytest.raises(DensePatternError, match=r"the Jacobian of f \(50000 × 50000\)"):
        jacobian_sparsity(dense_jacobian, 50_000)


def test_small_dense_patterns_are_still_detected_exactly():
    n = 1000  # 10^6 pairs: below DENSE_MIN_DEPENDENCIES
    assert hessian_sparsity(dense_hessian, n).nnz == n * n
    assert jacobian_sparsity(dense_jacobian, n).nnz == n * n


def test_large_sparse_patterns_are_not_dense():
    # 3·10^6 dependencies, far below a quarter of the (10^6)² pairs.
    def f(x):
        return jnp.sum(x[1:] * x[:-1]) + jnp.sum(x**4)

    assert hessian_sparsity(f, 10**6).nnz == 3 * 10**6 - 2


def test_thresholds_are_read_at_each_check(monkeypatch):
    monkeypatch.setattr(budget, "DENSE_MIN_DEPENDENCIES", 100)
    with pytest.raises(DensePatternError, match=r"\(30 × 30\)"):
        hessian_sparsity(dense_hessian, 30)

    # A banded pattern of more than 100 pairs stays below the density threshold.
    def banded(x):
        return jnp.sum((x[1:] - x[:-1]) ** 2)

    assert hessian_sparsity(banded, 200).nnz == 3 * 200 - 2
    monkeypatch.setattr(budget, "DENSE_FRACTION", 1.5)  # nothing is that dense
    assert hessian_sparsity(dense_hessian, 30).nnz == 900


def test_the_check_itself():
    budget.check_dependencies(10, 10, 100)  # small: fine however dense
    budget.check_dependencies(10**6, 10**6, 10**7)  # large but sparse: fine
    with pytest.raises(DensePatternError, match="depends on 50% of the 4096 inputs"):
        budget.check_dependencies(4096, 4096, 4096 * 2048)
    assert budget.human_bytes(8e10) == "80 GB" and budget.human_bytes(512) == "512 B"
    err = DensePatternError("x", elements=4, inputs=0, dependencies=0)
    assert err.density == 0.0 and np.isfinite(err.density)
