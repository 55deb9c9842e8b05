"""Bounded integer indices (detection/ranges.py + rules/bounded_index.py), x ** 0, scatter
duplicates and grouped convolutions: exact patterns, checked against hand-derived ones."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from tests.numerical import assert_superset, numerical_jacobian_pattern


def _dense(rows: list[list[int]], n: int) -> np.ndarray:
    out = np.zeros((len(rows), n), dtype=bool)
    for r, cols in enumerate(rows):
        out[r, cols] = True
    return out


def test_argmax_start_reads_only_reachable_window():
    def f(x):
        i = jnp.argmax(x[:2])  # 0 or 1
        return jax.lax.dynamic_slice(x, (i + 3,), (3,)) * x[:3]

    expected = _dense([[0, 3, 4], [1, 4, 5], [2, 5, 6]], 8)
    assert (jacobian_sparsity(f, 8).todense() == expected).all()


def test_clip_then_floor_divide_bounds_the_start():
    def f(x):
        i = jnp.clip(jnp.floor(x[0] * 4).astype(jnp.int32), 0, 3) // 2  # 0 or 1
        return jax.lax.dynamic_slice(x[1:], (i,), (2,))

    expected = _dense([[1, 2], [2, 3]], 9)
    assert (jacobian_sparsity(f, 9).todense() == expected).all()


def test_bounded_update_and_gather_and_scatter():
    def update(x):
        i = jnp.argmax(x[:2])
        return jax.lax.dynamic_update_slice(x[2:], jnp.sin(x[:2]), (i + 1,))

    # The update (sin x0, sin x1) lands at 1..2 or 2..3: position 2 is always
    # overwritten, positions 1 and 3 only sometimes, the rest never.
    expected = _dense([[2], [0, 3], [0, 1], [1, 5], [6], [7]], 8)
    assert (jacobian_sparsity(update, 8).todense() == expected).all()

    def gather(x):
        i = jnp.argmax(x[3:6])  # 0..2
        return x[6:][jnp.stack([i, 2 - i])] * 2.0

    assert (jacobian_sparsity(gather, 10).todense() == _dense([[6, 7, 8]] * 2, 10)).all()

    def scatter(x):
        i = jnp.argmax(x[:3])
        return jnp.zeros(6).at[i + 2].add(x[3] ** 2)

    expected = np.zeros((6, 4), dtype=bool)
    expected[2:5, 3] = True
    assert (jacobian_sparsity(scatter, 4).todense() == expected).all()


def test_unbounded_index_still_reaches_the_whole_dimension():
    def f(x):
        i = jnp.floor(x[0] * 100).astype(jnp.int32)
        return jax.lax.dynamic_slice(x, (i,), (2,))

    detected = jacobian_sparsity(f, 6)
    assert detected.todense()[:, 1:].all()
    assert_superset(detected, numerical_jacobian_pattern(f, (6,)))


def test_zero_powers_have_no_derivative():
    def f(x):
        return jnp.sum(x**0 * x**2) + x[0] ** 0 * x[1] + jnp.sum(x ** jnp.zeros(4))

    assert (hessian_sparsity(f, 4).todense() == np.eye(4, dtype=bool)).all()
    assert jacobian_sparsity(lambda x: x**0 + x[::-1] ** 0.0, 3).nnz == 0


def test_overwriting_scatter_keeps_only_the_last_writer():
    idx = np.array([0, 2, 0, 2, 1])

    def f(x):
        return jnp.zeros(3).at[idx].set(x)

    expected = _dense([[2], [4], [3]], 5)
    assert (jacobian_sparsity(f, 5).todense() == expected).all()


def test_depthwise_conv_reads_one_channel_per_output():
    w = np.random.default_rng(0).normal(size=(3, 1, 3, 3))

    def f(x):
        y = jax.lax.conv_general_dilated(
            x.reshape(1, 3, 3, 3), w, (1, 1), "SAME", feature_group_count=3
        )
        return jnp.sum(y**2)

    hess = hessian_sparsity(f, 27).todense()
    channel = np.arange(27) // 9
    assert hess.sum() == 243
    assert (hess <= (channel[:, None] == channel[None, :])).all()
