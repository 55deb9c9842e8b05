"""Reduction rules (``rules/reductions.py``): reductions, cumulative ops, sort, top_k."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from tests.detection.rules.helpers import dense, exact


def test_reductions_and_cumulative():
    exact(lambda x: jnp.sum(x.reshape(2, 3, 2), axis=(0, 2)), 12)
    got = dense(lambda x: jnp.max(x.reshape(3, 4), axis=1), 12)
    assert (got == np.kron(np.eye(3), np.ones((1, 4))).astype(bool)).all()
    exact(lambda x: jnp.cumsum(x.reshape(3, 4), axis=1).ravel(), 12)
    exact(lambda x: jax.lax.cumsum(x, reverse=True), 5)


def test_sort_is_dense_within_lines_only():
    got = dense(lambda x: jnp.sort(x.reshape(2, 3), axis=1).ravel(), 6)
    block = np.kron(np.eye(2), np.ones((3, 3))).astype(bool)
    assert (got == block).all()


def test_top_k_depends_on_whole_line():
    got = dense(lambda x: jax.lax.top_k(x.reshape(2, 4), 2)[0].ravel(), 8)
    ref = np.kron(np.eye(2), np.ones((2, 4))).astype(bool)
    assert (got == ref).all()
