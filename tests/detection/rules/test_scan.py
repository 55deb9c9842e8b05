"""scan (``rules/scan.py``): exact per-step patterns from one pass over the body, fast at 10^5
steps; scans nested in scans and fori loops."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import asdex_pipe
from asdex_pipe import hessian_sparsity, jacobian_sparsity
from tests.numerical import numerical_hessian_pattern, numerical_jacobian_pattern


def chained(x):
    def step(prev, xt):
        return xt, (xt - prev**2) ** 2

    _, ys = jax.lax.scan(step, 0.0, x)
    return jnp.sum(ys)


def test_chained_example_is_banded_at_50_and_at_100000_steps():
    assert hessian_sparsity(chained, 50).nnz == 148
    n = 100_000
    pattern = hessian_sparsity(chained, n)
    assert pattern.nnz == 3 * n - 2
    rows, cols = pattern.rows, pattern.cols
    assert np.abs(rows - cols).max() == 1


def test_chained_hessian_needs_three_star_colors_and_matches_jax():
    n = 12
    fn = asdex_pipe.hessian(chained, n, algorithm="star", format="dense")
    assert fn.coloring.num_colors == 3
    x = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, n), dtype=jnp.float32)
    np.testing.assert_allclose(fn(x), jax.jit(jax.hessian(chained))(x), rtol=1e-5, atol=1e-5)


def test_cumulative_scan_gives_triangles_and_final_rows():
    def ys(x):
        return jax.lax.scan(lambda c, xt: (c + xt, c + xt), 0.0, x)[1]

    def final(x):
        return jax.lax.scan(lambda c, xt: (c + xt, None), 0.0, x, reverse=True)[0]

    n = 300
    assert (jacobian_sparsity(ys, n).todense() == np.tril(np.ones((n, n), dtype=bool))).all()
    assert jacobian_sparsity(final, 100_000).nnz == 100_000


def _rotate3(x):
    # Carries rotate with period 3: the lag matrices repeat after three powers.
    def step(c, xt):
        a, b, d = c
        return (d, a, b + xt), a * xt

    return jax.lax.scan(step, (x[0], 1.0, 2.0), x[1:])[1]


def _shift_register(x):
    # Carry forgets after two steps (nilpotent): y_t reads x_t, x_(t-1), x_(t-2).
    def step(c, xt):
        a, b = c
        return (xt, a), xt * a * b

    return jax.lax.scan(step, (1.0, 1.0), x)[1]


def _nested_with_while(x):
    def inner(a, v):
        w = jax.lax.while_loop(lambda s: s[0] < 2, lambda s: (s[0] + 1, s[1] * v), (0, a))[1]
        return v, w

    def outer(c, row):
        return row[-1] * c, jax.lax.scan(inner, c, row)[1]

    return jax.lax.scan(outer, 1.0, x.reshape(3, 3))[1].ravel()


def _matrix_rnn(x):
    w = jnp.array([[0.5, 0.0, 0.0], [0.0, 0.2, 0.1], [0.0, 0.0, 0.3]])

    def step(h, xt):
        h = jnp.tanh(w @ h + xt)
        return h, h

    return jax.lax.scan(step, jnp.ones(3), x.reshape(3, 3))[1].ravel()


@pytest.mark.parametrize(
    "f,n", [(_rotate3, 10), (_shift_register, 9), (_nested_with_while, 9), (_matrix_rnn, 9)]
)
def test_jacobian_equals_numerical(f, n):
    detected = jacobian_sparsity(f, n).todense()
    assert (detected == numerical_jacobian_pattern(f, (n,)).todense()).all()


def test_pytree_carry_and_closed_over_array_hessian_equals_numerical():
    c = np.array([0.5, -2.0, 3.0])

    def f(x):
        w = x[:2]

        def step(carry, xt):
            u, v = carry["u"], carry["v"]
            nu = v * xt[0] * c[0] + w[0]
            return {"u": nu, "v": jnp.sin(xt[1]) + 1.0}, {"a": u * nu, "b": (v, xt[0] ** 2)}

        carry, ys = jax.lax.scan(step, {"u": 1.0, "v": 2.0}, x[2:].reshape(5, 2))
        return jnp.sum(ys["a"]) + jnp.sum(ys["b"][0] * ys["b"][1]) + carry["u"] * w[1]

    detected = hessian_sparsity(f, 12).todense()
    assert (detected == numerical_hessian_pattern(f, (12,)).todense()).all()


def test_zero_length_scan_returns_init():
    def f(x):
        c, ys = jax.lax.scan(lambda c, xt: (c * xt, xt), x[:2], jnp.zeros((0, 2)))
        return jnp.concatenate([c, ys.ravel()])

    assert (jacobian_sparsity(f, 3).todense() == np.eye(3, dtype=bool)[:2]).all()


# A scan whose float carry starts constant is propagated through its first step with the
# constant, then as a scan of the remaining L-1 steps; at L = 2 that remainder (one step)
# lost its leading axis, so the second step read the first step's xs slice (or crashed).
def _minimal(x):
    return lax.scan(lambda c, xi: (c + xi, c), jnp.zeros(3), x.reshape(2, 3))[0]


CONSTANT_INIT_SHORT_SCANS = {
    "two_carries_of_different_widths": lambda x: jnp.concatenate(
        lax.scan(
            lambda c, xi: ((c[0] + xi, c[1] * xi[:2] + c[0][:2]), None),
            (jnp.zeros(3), jnp.ones(2)),
            x.reshape(2, 3),
        )[0]
    ),
    "reverse": lambda x: lax.scan(
        lambda c, xi: (c * 0.5 + xi, c), jnp.zeros(3), x.reshape(2, 3), reverse=True
    )[0],
    "nested": lambda x: lax.scan(
        lambda c, xi: (c + lax.scan(lambda d, y: (d * y + y, d), jnp.zeros(()), xi)[1], None),
        jnp.zeros(3),
        x.reshape(2, 3),
    )[0],
    "one_carry_of_width_3": lambda x: lax.scan(
        lambda c, xi: (jnp.sin(c) + xi, None), jnp.zeros(3), x.reshape(2, 3)
    )[0],
    "ys_are_the_previous_carry": lambda x: lax.scan(
        lambda c, xi: (c * xi, c), jnp.ones(3), x.reshape(2, 3)
    )[1].ravel(),
}


def test_constant_init_length_2_reads_each_steps_own_slice():
    assert (
        jacobian_sparsity(_minimal, 6).todense()
        == np.array([[1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1]], dtype=bool)
    ).all()


def test_constant_init_length_2_hessian_equals_jax():
    def objective(x):
        c, ys = lax.scan(lambda c, xi: (c + xi, c), jnp.zeros(3), x.reshape(2, 3))
        return jnp.sum(c**3) + jnp.sum(jnp.sin(ys))

    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, 6))
    for mode in ("fwd_over_rev", "rev_over_fwd", "rev_over_rev"):
        got = asdex_pipe.hessian(objective, 6, mode=mode, format="dense")(x)
        np.testing.assert_allclose(got, jax.jit(jax.hessian(objective))(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CONSTANT_INIT_SHORT_SCANS))
def test_constant_init_short_scan_layouts_contain_numerical(name):
    f = CONSTANT_INIT_SHORT_SCANS[name]
    assert_superset_numerical(f, 6)
    g = lambda x: jnp.sum(jnp.sin(f(x)) * f(x))  # noqa: E731
    detected = hessian_sparsity(g, 6)
    missing = numerical_hessian_pattern(g, (6,)).todense() & ~detected.todense()
    assert not missing.any(), np.argwhere(missing)


def assert_superset_numerical(f, n):
    missing = numerical_jacobian_pattern(f, (n,)).todense() & ~jacobian_sparsity(f, n).todense()
    assert not missing.any(), np.argwhere(missing)


def test_scan_ys_are_per_iteration_exact():
    def f(x):
        return jax.lax.scan(lambda c, r: (c, r[0] * r[1]), 0.0, x.reshape(4, 2))[1]

    p = jacobian_sparsity(f, 8)
    assert p == numerical_jacobian_pattern(f, (8,))
    assert p.nnz == 8


def test_scan_carry_accumulates_over_all_steps():
    def f(x):
        return jax.lax.scan(lambda c, xi: (c * xi, None), 1.0, x)[0]

    assert jacobian_sparsity(f, 5).todense().all()


def test_short_scan_stops_after_length_steps():
    # Three steps of a neighbour coupling reach distance 3, not the whole ring.
    def f(x):
        return jax.lax.scan(lambda u, _: (u + jnp.roll(u, 1), None), x, None, length=3)[0]

    assert jacobian_sparsity(f, 10) == numerical_jacobian_pattern(f, (10,))


def test_long_scan_is_fast_enough_to_run():
    def f(x):
        def step(c, xi):
            return c + jnp.sin(xi), xi**3

        c, ys = jax.lax.scan(step, x[0], x[1:])
        return c + jnp.sum(ys)

    p = hessian_sparsity(f, 100_001)
    # Every term is separable: the Hessian is diagonal (x[0] enters linearly).
    assert p.shape == (100_001, 100_001)
    assert p.nnz == 100_000
    assert (p.rows == p.cols).all()


def test_nested_scan_and_fori():
    def f(x):
        def outer(c, row):
            inner = jax.lax.scan(lambda a, v: (a + v * v, a), 0.0, row)[1]
            return c, inner

        return jax.lax.scan(outer, 0.0, x.reshape(3, 3))[1].ravel()

    got = jacobian_sparsity(f, 9).todense()
    assert not (numerical_jacobian_pattern(f, (9,)).todense() & ~got).any()
    # The inner carry is over-approximated within a row, never across outer iterations.
    assert (got <= np.kron(np.eye(3), np.ones((3, 3))).astype(bool)).all()
