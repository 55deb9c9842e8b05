"""Unit tests per rule family: small functions with hand-known Jacobian patterns."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection import RULES, UnknownPrimitiveWarning
from tests.numerical import numerical_hessian_pattern, numerical_jacobian_pattern


def dense(f, shape):
    return jacobian_sparsity(f, shape).todense()


def exact(f, shape):
    """Detected Jacobian pattern equals the numerical one."""
    shape = (shape,) if isinstance(shape, int) else shape
    assert jacobian_sparsity(f, shape) == numerical_jacobian_pattern(f, shape)


# ---------------------------------------------------------------- elementwise
def test_elementwise_unary_is_diagonal():
    assert (dense(lambda x: jnp.tanh(jnp.exp(x) ** 3), 5) == np.eye(5, dtype=bool)).all()


def test_scalar_operand_broadcasts():
    got = dense(lambda x: x * x[0], 4)
    ref = np.eye(4, dtype=bool)
    ref[:, 0] = True
    assert (got == ref).all()


def test_mul_by_constant_zero_is_empty():
    mask = jnp.asarray([1.0, 0.0, 2.0, 0.0])
    assert (dense(lambda x: x * mask, 4) == np.diag([1, 0, 1, 0]).astype(bool)).all()


def test_zero_derivative_ops_are_empty():
    assert jacobian_sparsity(lambda x: jnp.floor(x) + jnp.sign(x), 4).nnz == 0
    assert jacobian_sparsity(lambda x: (x > 0).astype(jnp.float32), 4).nnz == 0
    assert jacobian_sparsity(lambda x: jax.lax.stop_gradient(x) * 2.0, 4).nnz == 0


def test_select_with_constant_predicate_is_exact():
    pred = jnp.asarray([True, False, False])
    assert (
        dense(lambda x: jnp.where(pred, x, x[::-1]), 3) == np.eye(3, dtype=bool)[[0, 1, 0]]
    ).all()


# ----------------------------------------------------------------- structural
@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.reshape(3, 4).T.ravel(),
        lambda x: jnp.flip(x.reshape(3, 4), 1)[1:, ::2].ravel(),
        lambda x: jnp.pad(x, (2, 1)),
        lambda x: jax.lax.pad(x, jnp.zeros((), x.dtype), [(-1, 2, 1)]),
        lambda x: jnp.concatenate([x[5:], x[:3], x[::4]]),
        lambda x: jnp.broadcast_to(x[:4], (3, 4)).ravel(),
        lambda x: jnp.stack(jnp.split(x, 3)[::-1]).ravel(),
        lambda x: jnp.expand_dims(x, (0, 2)).squeeze().reshape(4, 3).ravel(),
    ],
)
def test_structural_ops_are_exact(f):
    exact(f, 12)


# ------------------------------------------------------------------ indexing
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


# ---------------------------------------------------------------- reductions
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


# ------------------------------------------------------------ linear algebra
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


# ------------------------------------------------------------------- windows
def test_conv_and_reduce_window_are_exact():
    k = jnp.asarray([[0.0, 1.0], [2.0, 0.0]])

    def conv(x):
        img = x.reshape(1, 1, 4, 4)
        return jax.lax.conv_general_dilated(
            img, k[None, None].astype(x.dtype), (1, 1), "SAME"
        ).ravel()

    exact(conv, 16)
    pool = lambda x: jax.lax.reduce_window(  # noqa: E731
        x.reshape(4, 4), 0.0, jax.lax.add, (2, 2), (2, 1), [(0, 0), (1, 0)]
    ).ravel()
    exact(pool, 16)


def test_registry_covers_the_issue_families():
    for name in [
        "sin", "integer_pow", "select_n", "convert_element_type", "reshape", "pad", "gather",
        "scatter-add", "dynamic_slice", "reduce_sum", "cumsum", "sort", "top_k", "dot_general",
        "conv_general_dilated", "reduce_window_max", "select_and_scatter_add", "cholesky",
        "eigh", "svd", "qr", "lu", "triangular_solve", "fft", "jit", "custom_jvp_call",
        "custom_vjp_call", "cond", "while", "scan", "custom_linear_solve", "bcoo_dot_general",
        "bcoo_todense",
    ]:  # fmt: skip
        assert name in RULES, name


def _block_diagonal(blocks: int, size: int) -> np.ndarray:
    return np.kron(np.eye(blocks, dtype=bool), np.ones((size, size), dtype=bool))


def test_input_dependent_indices_stay_within_their_lines():
    # sort's gradient scatters through a permutation computed from x: rows never mix.
    def f(x):
        return jnp.sum(jnp.sin(jnp.sort(x.reshape(4, 5), axis=1)))

    assert (hessian_sparsity(f, 20).todense() <= _block_diagonal(4, 5)).all()


def test_batched_solves_do_not_mix_batch_elements():
    def f(x):
        return jnp.sum(jnp.linalg.inv(x.reshape(3, 2, 2) + 3.0 * jnp.eye(2)) ** 2)

    assert (hessian_sparsity(f, 12).todense() <= _block_diagonal(3, 4)).all()


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


# ------------------------------------------------- primitives of newer jax versions
def test_log2_and_polyval_are_elementwise():
    coeffs = jnp.asarray([1.0, -2.0, 3.0])
    exact(lambda x: jnp.log2(x**2 + 1.0) * jnp.polyval(coeffs, x[::-1]), 5)
    exact(lambda x: jnp.polyval(x[:3], x[3:]), 7)  # input-dependent coefficients


def test_inverse_trig_and_tanh_hessians_stay_diagonal_without_fallback():
    # From jax 0.11 their JVPs use the one_minus_square primitive.
    def f(x):
        return jnp.sum(jnp.tanh(x) + jnp.arcsin(x / 2) + jnp.arccos(x / 3) + jnp.arctanh(x / 4))

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        p = hessian_sparsity(f, 5)
    assert p == numerical_hessian_pattern(f, (5,))
    assert p.nnz == 5


@pytest.mark.skipif(not hasattr(jax.lax, "polynomial"), reason="lax.polynomial: jax >= 0.11")
def test_polynomial_ignores_x_where_higher_coefficients_are_constant_zeros():
    def constant_term_only(x):
        return jax.lax.polynomial(x[:3], [x[3:], 0.0, 0.0])

    def linear(x):
        return jax.lax.polynomial(x[:3], [1.0, x[3:]])

    exact(constant_term_only, 6)
    assert jacobian_sparsity(constant_term_only, 6).todense()[:, :3].sum() == 0
    exact(linear, 6)


def test_vmapped_sparse_matmul_with_shared_indices_is_exact():
    # jax.vmap of sparse code batches the data but shares the indices (batch dimension 1).
    from jax.experimental import sparse as jsparse

    idx = jnp.asarray([[0, 1], [1, 0], [2, 2]])

    def f(x):
        v = x[6:]
        return jax.vmap(lambda d: jsparse.BCOO((d, idx), shape=(3, 3)) @ v)(x[:6].reshape(2, 3))

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        exact(lambda x: f(x).ravel(), 9)
