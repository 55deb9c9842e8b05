"""Control-flow rules (``rules/control_flow.py``): calls, cond/switch, while fixed point,
platform_dependent."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe import jacobian_sparsity


def test_cond_with_constant_index_takes_one_branch():
    f = lambda x: jax.lax.cond(True, lambda v: v * 2, lambda v: v[::-1] * v, x)  # noqa: E731
    assert (jacobian_sparsity(f, 4).todense() == np.eye(4, dtype=bool)).all()


def test_cond_with_data_index_unions_branches():
    f = lambda x: jax.lax.cond(x[0] > 0, lambda v: v * 2, lambda v: v[::-1], x)  # noqa: E731
    ref = np.eye(4, dtype=bool) | np.eye(4, dtype=bool)[::-1]
    assert (jacobian_sparsity(f, 4).todense() == ref).all()


def test_while_reaches_fixed_point():
    def f(x):
        def body(s):
            i, y = s
            return i + 1, y + jnp.roll(y, 1)

        return jax.lax.while_loop(lambda s: s[0] < x.shape[0], body, (0, x))[1]

    # Coupling spreads one neighbour per iteration; the fixed point is dense.
    assert jacobian_sparsity(f, 5).todense().all()


def test_platform_dependent_counts_every_platform():
    # A pattern detected on CPU may be used on a GPU: both branches must be in it.
    def f(x):
        return jax.lax.platform_dependent(x, cpu=lambda y: y * 2.0, default=lambda y: y * y[::-1])

    got = jacobian_sparsity(f, 4).todense()
    assert (got == (np.eye(4, dtype=bool) | np.eye(4, dtype=bool)[::-1])).all()
