"""Bounded-index rules (``rules/bounded_index.py``): input-dependent starts and indices spread
only within their dimension or line."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from tests.detection.rules.helpers import block_diagonal
from tests.numerical import numerical_jacobian_pattern


def test_input_dependent_indices_stay_within_their_lines():
    # sort's gradient scatters through a permutation computed from x: rows never mix.
    def f(x):
        return jnp.sum(jnp.sin(jnp.sort(x.reshape(4, 5), axis=1)))

    assert (hessian_sparsity(f, 20).todense() <= block_diagonal(4, 5)).all()


def test_input_dependent_start_spreads_along_its_dimension_only():
    def f(x):
        m = x.reshape(4, 4)
        row = jnp.argmax(x[:4]) % 2
        return jax.lax.dynamic_slice(m, (row, jnp.zeros_like(row) + 1), (2, 2)).ravel()

    ref = numerical_jacobian_pattern(f, (16,), num_points=8).todense()
    got = jacobian_sparsity(f, 16).todense()
    assert (got >= ref).all()
    # The column start is a constant: only columns 1 and 2 are read, on every row.
    assert set((np.flatnonzero(got.any(axis=0)) % 4).tolist()) == {1, 2}
