"""Sparse rules (``rules/sparse.py``): BCOO products, todense."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
from jax.experimental import sparse as jsparse

from asdex_pipe import hessian_sparsity
from asdex_pipe.detection import UnknownPrimitiveWarning
from tests.detection.rules.helpers import exact
from tests.numerical import assert_superset, numerical_hessian_pattern


def test_vmapped_sparse_matmul_with_shared_indices_is_exact():
    # jax.vmap of sparse code batches the data but shares the indices (batch dimension 1).
    idx = jnp.asarray([[0, 1], [1, 0], [2, 2]])

    def f(x):
        v = x[6:]
        return jax.vmap(lambda d: jsparse.BCOO((d, idx), shape=(3, 3)) @ v)(x[:6].reshape(2, 3))

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        exact(lambda x: f(x).ravel(), 9)


def test_bcoo_todense_and_matvec_hessian_contains_numerical():
    idx = jnp.asarray([[0, 0], [1, 2], [2, 1], [3, 3]])

    def f(x):
        m = jsparse.BCOO((x[:4], idx), shape=(4, 4))
        return jnp.sum((m @ x[4:]) ** 2) + jnp.sum(m.todense() ** 3)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        detected = hessian_sparsity(f, 8)
    assert_superset(detected, numerical_hessian_pattern(f, (8,)))
    # x[0] multiplies x[4] only, x[1] x[6], x[2] x[5], x[3] x[7]: no other coupling.
    assert not detected.todense()[0, [5, 6, 7]].any()
