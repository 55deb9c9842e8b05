"""Indexing rules (``rules/indexing.py``): gather, scatter and dynamic slices with constant
indices; data-dependent indices."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tests.detection.rules.helpers import dense, exact


def test_constant_gather_and_scatter_are_exact():
    idx = jnp.asarray([4, 1, 1, 0])
    exact(lambda x: x[idx] * 2.0, 6)
    exact(lambda x: jnp.zeros(3).at[jnp.asarray([0, 2, 2, 1, 0, 1])].add(x), 6)
    exact(lambda x: x.at[jnp.asarray([1, 3])].set(x[:2] ** 2), 6)
    # max-scatter: which operand wins is data-dependent, so only a superset is required
    got = dense(lambda x: x.at[jnp.asarray([1, 3])].max(x[4:]), 6)
    assert got[1, [1, 4]].all() and got[3, [3, 5]].all() and got.sum() == 8
    exact(lambda x: jax.lax.dynamic_slice(x, (jnp.asarray(3),), (2,)), 6)
    exact(lambda x: jax.lax.dynamic_update_slice(x, x[:2] * 3, (jnp.asarray(10),)), 6)


def test_data_dependent_index_is_conservative():
    got = dense(lambda x: x[jnp.argmax(x)] * jnp.ones(2), 4)
    assert got.all()
