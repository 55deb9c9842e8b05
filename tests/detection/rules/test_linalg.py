"""Linear-algebra rules (``rules/linalg.py``): dot_general, decompositions and solves
(batched), fft."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from asdex_pipe import hessian_sparsity
from tests.detection.rules.helpers import block_diagonal, dense, exact


def test_dot_general_with_constant_sparse_matrix_is_exact():
    a = jnp.asarray(np.diag([1.0, 2.0, 3.0]) + np.diag([1.0, 1.0], 1))
    exact(lambda x: a @ x, 3)
    exact(lambda x: x.reshape(2, 3) @ a, 6)
    exact(lambda x: jnp.einsum("bi,bj->bij", x[:4].reshape(2, 2), x[4:].reshape(2, 2)).ravel(), 8)


def test_decompositions_stay_within_batch():
    got = dense(lambda x: jnp.linalg.cholesky(x.reshape(2, 2, 2) + 3 * jnp.eye(2)).ravel(), 8)
    assert not got[:4, 4:].any() and not got[4:, :4].any()
    got = dense(lambda x: jnp.fft.fft(x.reshape(2, 3)).real.ravel(), 6)
    assert (got == np.kron(np.eye(2), np.ones((3, 3))).astype(bool)).all()


def test_batched_solves_do_not_mix_batch_elements():
    def f(x):
        return jnp.sum(jnp.linalg.inv(x.reshape(3, 2, 2) + 3.0 * jnp.eye(2)) ** 2)

    assert (hessian_sparsity(f, 12).todense() <= block_diagonal(3, 4)).all()
