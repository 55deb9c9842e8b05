"""Compression: one AD product per color, seeds in chunks (``chunk_size``) and both seed
variants give the same Hessian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import rosen_hess

from asdex_pipe import hessian_from_coloring, value_and_hessian_from_coloring
from asdex_pipe.differentiation import HVP_MODES
from tests.differentiation.helpers import (
    hvp_coloring,
    rosenbrock,
    tridiagonal,
)

N = 16

_I = np.arange(N)

STAR = hvp_coloring(tridiagonal(N), _I % 3, "star")

ACYCLIC = hvp_coloring(tridiagonal(N), _I % 2, "acyclic")


def _x(dtype=jnp.float64, n=N, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(-2, 2, n), dtype)


@pytest.mark.parametrize("chunk_size", [1, 2, 5])
@pytest.mark.parametrize("mode", HVP_MODES)
def test_chunk_size_gives_same_result(chunk_size, mode):
    x = _x()
    full = hessian_from_coloring(rosenbrock, STAR, mode=mode, format="dense")(x)
    chunked = value_and_hessian_from_coloring(
        rosenbrock, STAR, mode=mode, format="dense", chunk_size=chunk_size
    )
    val, h = chunked(x)
    np.testing.assert_allclose(h, full, rtol=1e-14)
    assert float(val) == pytest.approx(float(rosenbrock(x)), rel=1e-14)


# Each seed variant and each coloring kind by default (star-constant, acyclic-indexed); the
# other two pairings are slow.
@pytest.mark.parametrize(
    "coloring, seeds",
    [
        pytest.param(STAR, "constant", id="star-constant"),
        pytest.param(STAR, "indexed", id="star-indexed", marks=pytest.mark.slow),
        pytest.param(ACYCLIC, "constant", id="acyclic-constant", marks=pytest.mark.slow),
        pytest.param(ACYCLIC, "indexed", id="acyclic-indexed"),
    ],
)
def test_seed_variants_give_the_same_hessian(seeds, coloring):
    x = _x()
    ref = rosen_hess(np.asarray(x))
    for chunk in (None, 2):
        fn = hessian_from_coloring(
            rosenbrock, coloring, format="dense", chunk_size=chunk, seeds=seeds
        )
        np.testing.assert_allclose(fn(x), ref, rtol=1e-12)
        np.testing.assert_allclose(jax.jit(fn)(x), ref, rtol=1e-12)
    xs = jnp.stack([x, x + 0.5])
    batched = jax.vmap(hessian_from_coloring(rosenbrock, coloring, format="dense", seeds=seeds))(xs)
    np.testing.assert_allclose(batched[1], rosen_hess(np.asarray(xs[1])), rtol=1e-12)
