"""A shared zoo of small test functions for detection, differentiation and verification tests.

Each :class:`ZooCase` holds a function of one array, the shape of that array, whether the
function is scalar-valued (so it has a Hessian), and whether its detected pattern is
expected to equal the numerical pattern exactly (``exact``); otherwise detection only has
to be a superset. Every case is small (n <= 64) so the whole zoo runs in seconds.

Use :data:`ZOO` for everything, :func:`scalar_cases` for Hessian tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse as jsparse


@dataclass(frozen=True)
class ZooCase:
    """One test function.

    Attributes:
        name: unique identifier, used as the pytest id.
        f: function of one array of shape ``input_shape``.
        input_shape: shape of the single input array.
        scalar: True when ``f`` returns a scalar (then the Hessian is defined).
        exact: True when the detected pattern (Jacobian for non-scalar cases, Hessian
            for scalar ones) must equal the numerical pattern; False when a superset suffices.
    """

    name: str
    f: Callable
    input_shape: tuple[int, ...]
    scalar: bool
    exact: bool


# ----------------------------------------------------------------- constants
_RNG = np.random.default_rng(1234)
_W1 = _RNG.normal(size=(6, 4))
_B1 = _RNG.normal(size=(4,))
_W2 = _RNG.normal(size=(4, 2))
_TRIDIAG = np.diag(np.full(8, 2.0)) - np.diag(np.ones(7), 1) - np.diag(np.ones(7), -1)
_MASK = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)
_IDX = np.array([3, 0, 7, 7, 2])
_PERM = np.array([5, 2, 0, 7, 1, 3, 6, 4])
_KERNEL = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_SPMAT = jsparse.BCOO.fromdense(jnp.asarray(_TRIDIAG))
_BATCH_TARGET = _RNG.normal(size=(4, 2))
# Drawn once at import so every trace of a function sees the same constants.
_CONV_IMAGE = _RNG.normal(size=(1, 1, 5, 5))
_CLOSURE_C = _RNG.normal(size=(8,))


# ------------------------------------------------------------- scalar cases
def rosenbrock(x):
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def sum_of_squares(x):
    return jnp.sum(x**2)


def residual_squares(x):
    r = x[1:] * x[:-1] - 1.0
    return jnp.sum(r**2)


def stencil_1d_energy(x):
    lap = x[:-2] - 2 * x[1:-1] + x[2:]
    return jnp.sum(lap**2) + jnp.sum(jnp.exp(x))


def stencil_2d_energy(u):
    lap = u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1] - 4 * u[1:-1, 1:-1]
    return jnp.sum(lap**2) + jnp.sum(jnp.exp(u))


def stencil_2d_gradient_energy(u):
    dx = u[1:, :] - u[:-1, :]
    dy = u[:, 1:] - u[:, :-1]
    return 0.5 * jnp.sum(dx**2) + 0.5 * jnp.sum(dy**2) + jnp.sum(u**4)


def stencil_3d_energy(u):
    lap = (
        u[2:, 1:-1, 1:-1]
        + u[:-2, 1:-1, 1:-1]
        + u[1:-1, 2:, 1:-1]
        + u[1:-1, :-2, 1:-1]
        + u[1:-1, 1:-1, 2:]
        + u[1:-1, 1:-1, :-2]
        - 6 * u[1:-1, 1:-1, 1:-1]
    )
    return jnp.sum(lap**2)


def periodic_roll_energy(x):
    return jnp.sum((jnp.roll(x, 1) - x) ** 2 * jnp.cos(x))


def quadratic_form_const(x):
    return x @ jnp.asarray(_TRIDIAG) @ x


def mlp_loss(w):
    w1 = w[:24].reshape(6, 4)
    w2 = w[24:32].reshape(4, 2)
    x = jnp.asarray(_W1[:3])  # 3 samples of 4 features... reuse constants as data
    h = jnp.tanh(x[:, :4] @ w1[:4] + _B1)
    out = h @ w2
    return jnp.sum((out - 1.0) ** 2)


def conv_loss(x):
    img = x.reshape(1, 1, 6, 6)
    k = jnp.asarray(_KERNEL, dtype=x.dtype).reshape(1, 1, 3, 3)
    y = jax.lax.conv_general_dilated(img, k, (1, 1), "VALID")
    return jnp.sum(y**2)


def conv_kernel_loss(w):
    img = jnp.asarray(_CONV_IMAGE, dtype=w.dtype)
    k = w.reshape(1, 1, 3, 3)
    y = jax.lax.conv_general_dilated(img, k, (1, 1), "SAME")
    return jnp.sum(jnp.tanh(y))


def scan_time_stepper(x):
    def step(u, _):
        u_new = u + 0.1 * (jnp.roll(u, 1) - 2 * u + jnp.roll(u, -1)) - 0.01 * u**3
        return u_new, jnp.sum(u_new**2)

    u, energies = jax.lax.scan(step, x, None, length=3)
    return jnp.sum(energies) + jnp.sum(u)


def scan_xs_sum(x):
    def step(c, xi):
        return c + jnp.sin(xi), xi**2

    c, ys = jax.lax.scan(step, 0.0, x)
    return c + jnp.sum(ys * jnp.arange(x.shape[0]))


def scan_local_pairs(x):
    # Each step sees one row; the carry only accumulates, so pairs stay within rows.
    def step(c, row):
        return c + row[0] * row[1], row[0] ** 2

    c, ys = jax.lax.scan(step, 0.0, x.reshape(-1, 2))
    return c + jnp.sum(ys)


def vec_while_newton(x):
    # Newton iterations for sqrt(x^2 + 1) per element (non-scalar: reverse mode cannot
    # differentiate while_loop, so the ground truth is a forward-mode Jacobian).
    a = x**2 + 1.0

    def cond(state):
        i, _ = state
        return i < 5

    def body(state):
        i, y = state
        return i + 1, 0.5 * (y + a / y)

    _, y = jax.lax.while_loop(cond, body, (0, jnp.ones_like(x)))
    return y * jnp.roll(x, 1)


def fori_coupled(x):
    def body(i, y):
        return y + 0.1 * jnp.roll(y, 1) * y

    return jnp.sum(jax.lax.fori_loop(0, 3, body, x) ** 2)


def where_mask(x):
    return jnp.sum(jnp.where(jnp.asarray(_MASK), x**2, jnp.sin(x)))


def where_data_dependent(x):
    return jnp.sum(jnp.where(x > 0, x**3, x))


def const_gather(x):
    return jnp.sum(x[jnp.asarray(_IDX)] ** 2 * x[jnp.asarray(_PERM)][:5])


def const_take_along(x):
    m = x.reshape(4, 4)
    idx = jnp.asarray([[0, 1], [2, 3], [3, 0], [1, 1]])
    return jnp.sum(jnp.take_along_axis(m, idx, axis=1) ** 3)


def scatter_add_const(x):
    y = jnp.zeros(4).at[jnp.asarray([0, 1, 1, 3, 2, 0, 3, 2])].add(x)
    return jnp.sum(y**2)


def scatter_set_const(x):
    y = x.at[jnp.asarray([1, 4])].set(jnp.asarray([0.0, 2.0], dtype=x.dtype))
    return jnp.sum(y[1:] * y[:-1])


def sort_energy(x):
    return jnp.sum(jnp.sort(x) * jnp.arange(x.shape[0]) ** 2)


def cumsum_energy(x):
    return jnp.sum(jnp.cumsum(x) ** 2)


def cumprod_energy(x):
    return jnp.sum(jnp.cumprod(x))


def cholesky_logdet(x):
    a = x.reshape(2, 3, 3)
    spd = a @ jnp.swapaxes(a, -1, -2) + 3 * jnp.eye(3)
    return jnp.sum(jnp.log(jnp.diagonal(jnp.linalg.cholesky(spd), axis1=-2, axis2=-1)))


def solve_batched(x):
    a = x[:18].reshape(2, 3, 3) + 4 * jnp.eye(3)
    b = x[18:].reshape(2, 3)
    return jnp.sum(jnp.linalg.solve(a, b[..., None]) ** 2)


def eigh_energy(x):
    a = x.reshape(2, 3, 3)
    s = a + jnp.swapaxes(a, -1, -2)
    return jnp.sum(jnp.linalg.eigvalsh(s) ** 3)


def qr_energy(x):
    q, r = jnp.linalg.qr(x.reshape(2, 3, 3))
    return jnp.sum(jnp.diagonal(r, axis1=-2, axis2=-1) ** 2) + jnp.sum(q[..., 0] ** 3)


def svd_energy(x):
    s = jnp.linalg.svd(x.reshape(2, 3, 2), compute_uv=False)
    return jnp.sum(s**3)


def slogdet_energy(x):
    return jnp.sum(jnp.linalg.slogdet(x.reshape(2, 3, 3) + 3 * jnp.eye(3))[1])


def fft_energy(x):
    return jnp.sum(jnp.abs(jnp.fft.fft(x)) ** 2) + jnp.sum(x[:2] ** 3)


def bcoo_matvec_energy(x):
    y = _SPMAT @ x
    return jnp.sum(y**2)


def maxpool_energy(x):
    img = x.reshape(4, 4)
    pooled = jax.lax.reduce_window(img, -jnp.inf, jax.lax.max, (2, 2), (2, 2), "VALID")
    return jnp.sum(pooled**2)


def avgpool_energy(x):
    img = x.reshape(4, 4)
    pooled = jax.lax.reduce_window(img, 0.0, jax.lax.add, (2, 2), (1, 1), "VALID")
    return jnp.sum(pooled**2)


def nested_cond_scan(x):
    def step(c, xi):
        c = jax.lax.cond(xi > 0, lambda c: c * xi, lambda c: c + xi, c)
        return c, c

    c, ys = jax.lax.scan(step, 1.0, x[:4])
    return c + jnp.sum(ys) + jnp.sum(x[4:] ** 2)


def switch_branches(x):
    def br0(v):
        return jnp.sum(v**2)

    def br1(v):
        return jnp.sum(v[:2] * v[2:4])

    def br2(v):
        return v[0] * 3.0

    return jax.lax.switch(2, [br0, br1, br2], x) + jnp.sum(x[4:] ** 2)


def closure_const(x):
    c = jnp.asarray(_CLOSURE_C)
    return jnp.sum(jnp.sin(c * x) * x[::-1])


def jit_inner(x):
    @jax.jit
    def g(y):
        return y[1:] * y[:-1]

    return jnp.sum(g(x) ** 2)


def custom_jvp_softplus(x):
    return jnp.sum(jax.nn.softplus(x)) + jnp.sum(jax.nn.relu(x) ** 2)


def logsumexp_loss(x):
    m = x.reshape(2, 4)
    return jnp.sum(jax.nn.logsumexp(m, axis=1))


def softmax_entropy(x):
    p = jax.nn.softmax(x.reshape(2, 3), axis=-1)
    return -jnp.sum(p * jnp.log(p))


def max_min_energy(x):
    return jnp.sum(jnp.maximum(x[:-1], x[1:]) ** 2) + jnp.min(x) ** 2


def special_funcs(x):
    return jnp.sum(
        jax.scipy.special.erf(x) * jax.scipy.special.gammaln(x**2 + 1.0) + jax.lax.logistic(x)
    )


def trig_mix(x):
    return jnp.sum(
        jnp.arctan2(x[:-1], x[1:] ** 2 + 1.0)
        + jnp.arcsinh(x[1:]) ** 2
        + jnp.tanh(x[:-1]) * jnp.cosh(x[1:])
    )


def pow_energy(x):
    return jnp.sum((x**2 + 1.0) ** jnp.flip(x)) + jnp.sum(jnp.sqrt(x**2 + 1.0))


def abs_sign_energy(x):
    return jnp.sum(jnp.abs(x) * jnp.sign(x[::-1])) + jnp.sum(jnp.floor(x) * x)


def integer_ops_energy(x):
    k = jnp.argmax(x)
    return x[0] * x[1] + jnp.sum(x) * k.astype(x.dtype)


def stop_gradient_energy(x):
    return jnp.sum(x * jax.lax.stop_gradient(x) ** 2) + x[0] ** 2


def concat_pad_energy(x):
    y = jnp.concatenate([x[:3], jnp.zeros(2), x[5:]])
    z = jnp.pad(y, 1)
    return jnp.sum((z[1:] * z[:-1]) ** 2)


def transpose_energy(x):
    m = x.reshape(3, 4)
    return jnp.sum((m.T @ m) ** 2 * jnp.asarray(np.eye(4)))


def dynamic_slice_const(x):
    y = jax.lax.dynamic_slice(x, (jnp.asarray(2),), (3,))
    z = jax.lax.dynamic_update_slice(x, y**2, (jnp.asarray(5),))
    return jnp.sum(z * jnp.roll(z, 1))


def multidim_input(u):
    return jnp.sum(u[:, 0] * u[:, 1] * u[:, 2]) + jnp.sum(u**2)


def outer_product_energy(x):
    return jnp.sum(jnp.outer(x[:3], x[3:]) ** 2)


def matmul_const_sparse(x):
    a = jnp.asarray(_TRIDIAG)
    return jnp.sum(jnp.tanh(a @ x))


def einsum_batched(x):
    a = x[:12].reshape(3, 2, 2)
    b = x[12:].reshape(3, 2, 2)
    return jnp.sum(jnp.einsum("bij,bjk->bik", a, b) ** 2)


def remat_energy(x):
    g = jax.checkpoint(lambda y: jnp.sin(y[1:]) * y[:-1])
    return jnp.sum(g(x) ** 2)


def top_k_energy(x):
    vals, _ = jax.lax.top_k(x, 3)
    return jnp.sum(vals**2)


def cumlogsumexp_energy(x):
    return jnp.sum(jax.lax.cumlogsumexp(x))


def cummax_energy(x):
    return jnp.sum(jax.lax.cummax(x) ** 2)


def expm1_log1p(x):
    return jnp.sum(jnp.expm1(x) * jnp.log1p(x**2))


def reduce_max_energy(x):
    return jnp.max(x.reshape(2, 4), axis=1) @ jnp.asarray([1.0, 2.0])


def prod_energy(x):
    return jnp.prod(x.reshape(2, 3), axis=1).sum()


def clamp_energy(x):
    return jnp.sum(jnp.clip(x, -0.5, 0.5) ** 2 * x)


def complex_energy(x):
    z = x[:4] + 1j * x[4:]
    return jnp.real(jnp.sum(z * z))


def triangular_solve_energy(x):
    a = jnp.tril(x[:9].reshape(3, 3)) + 4 * jnp.eye(3)
    b = x[9:]
    return jnp.sum(jax.scipy.linalg.solve_triangular(a, b, lower=True) ** 2)


def custom_linear_solve_energy(x):
    a = jnp.asarray(_TRIDIAG[:4, :4])

    def matvec(v):
        return a @ v

    def solve(_, b):
        return jnp.linalg.solve(a, b)

    y = jax.lax.custom_linear_solve(matvec, x, solve, symmetric=True)
    return jnp.sum(y**3)


def lu_energy(x):
    lu, _ = jax.scipy.linalg.lu_factor(x.reshape(3, 3) + 4 * jnp.eye(3))
    return jnp.sum(lu**2)


def expand_squeeze_energy(x):
    y = jnp.expand_dims(x, 0)[0][:, None]
    return jnp.sum(jnp.squeeze(y, 1) ** 2 * x[::-1])


def split_energy(x):
    a, b = jnp.split(x, 2)
    return jnp.sum(a * b)


def rem_energy(x):
    return jnp.sum(jnp.remainder(x, 0.7) ** 2)


# --------------------------------------------------------- non-scalar cases
def vec_stencil(x):
    return x[:-2] - 2 * x[1:-1] + x[2:]


def vec_elementwise(x):
    return jnp.sin(x) * jnp.exp(x)


def vec_matmul_const(x):
    return jnp.asarray(_TRIDIAG) @ x


def vec_cumsum(x):
    return jnp.cumsum(x)


def vec_conv2d(x):
    img = x.reshape(1, 1, 5, 5)
    k = jnp.asarray(_KERNEL, dtype=x.dtype).reshape(1, 1, 3, 3)
    return jax.lax.conv_general_dilated(img, k, (1, 1), "SAME").ravel()


def vec_multi_output(x):
    # Several outputs concatenated (pytree outputs are tested in tests/detection).
    return jnp.concatenate([x[:2] * x[2:4], jnp.sum(x)[None]])


def vec_gather_perm(x):
    return x[jnp.asarray(_PERM)]


def vec_batched_mlp(x):
    h = jnp.tanh(x.reshape(4, 2) @ jnp.asarray(_W2.T))
    return (h - _BATCH_TARGET[:, :1]).ravel()


def vec_sort(x):
    return jnp.sort(x)


def vec_scan_prefix(x):
    def step(c, xi):
        c = c + xi
        return c, c

    return jax.lax.scan(step, 0.0, x)[1]


def vec_where_const(x):
    return jnp.where(jnp.asarray(_MASK), x, 0.0)


def vec_fft_real(x):
    return jnp.fft.rfft(x).real


def vec_bcoo_todense(x):
    m = jsparse.BCOO((x[:3], jnp.asarray([[0, 0], [1, 2], [2, 1]])), shape=(3, 3))
    return m.todense().ravel()


def vec_bcoo_transpose(x):
    # Exact through bcoo_transpose's own implementation (no dedicated rule).
    m = jsparse.BCOO((x[:4], jnp.asarray([[0, 1], [1, 0], [2, 3], [3, 2]])), shape=(4, 4))
    return (m.T @ x[4:8]) * x[8:]


def vec_bcoo_reduce_sum(x):
    m = jsparse.BCOO((x[:3] ** 2, jnp.asarray([[0, 0], [0, 2], [1, 1]])), shape=(2, 3))
    return jsparse.bcoo_reduce_sum(m, axes=(1,)).todense()


def bcoo_weighted_laplacian_energy(x):
    # A sparse matrix whose values depend on x, times x: the typical learned-graph model.
    n = x.size
    i = np.arange(n - 1)
    idx = jnp.asarray(np.stack([np.r_[i, i + 1], np.r_[i + 1, i]], axis=1))
    w = jnp.exp(x[:-1])
    m = jsparse.BCOO((jnp.concatenate([w, w]), idx), shape=(n, n))
    return x @ (m @ x)


def vec_batched_cholesky(x):
    a = x.reshape(2, 2, 2)
    spd = a @ jnp.swapaxes(a, -1, -2) + 2 * jnp.eye(2)
    return jnp.linalg.cholesky(spd).ravel()


def vec_reverse_cumsum_2d(x):
    return jnp.cumsum(x.reshape(3, 3)[::-1], axis=0).ravel()


def vec_argsort_gather(x):
    # Indices depend on x but are integers: zero derivative; only the gathered values count.
    return x[jnp.argsort(x)]


@jax.custom_jvp
def _straight_through_round(x):
    return jnp.round(x)


# The primal has a zero derivative; JAX differentiates through this rule instead.
_straight_through_round.defjvp(lambda p, t: (_straight_through_round(p[0]), t[0]))


def straight_through_energy(x):
    return jnp.sum(_straight_through_round(x) ** 2 * x[::-1])


@jax.custom_jvp
def _identity_coupled_rule(x):
    return x * 1.0


# A rule with more structure than its primal: tangents leak into the next element.
_identity_coupled_rule.defjvp(lambda p, t: (_identity_coupled_rule(p[0]), t[0] + jnp.roll(t[0], 1)))


def vec_custom_jvp_coupled(x):
    return _identity_coupled_rule(x) * 2.0


def vec_top_k_axis0(x):
    return jax.lax.top_k(x.reshape(4, 3), 2, axis=0)[0]


def vec_approx_max_k(x):
    return jax.lax.approx_max_k(x.reshape(3, 4), 2)[0]


def vec_tile(x):
    return jnp.tile(x.reshape(2, 3), (2, 2)) * 2.0


def vec_unstack(x):
    rows = jnp.unstack(x.reshape(3, 2))
    return jnp.stack([rows[2] * rows[0], rows[1]])


def vec_barrier_mixed(x):
    a, b = jax.lax.optimization_barrier((x[:2], x[2:] ** 2))
    return jnp.concatenate([b, a * a[::-1]])


def vec_device_put(x):
    return jax.device_put(x) * x[::-1]


def vec_batched_solve(x):
    a = x.reshape(2, 3, 3) + 3.0 * jnp.eye(3)
    return jnp.linalg.solve(a, jnp.ones((2, 3, 1))).ravel()


def vec_batched_inv(x):
    return jnp.linalg.inv(x.reshape(2, 3, 3) + 3.0 * jnp.eye(3)).ravel()


def sorted_rows_energy(x):
    return jnp.sum(jnp.sin(jnp.sort(x.reshape(4, 5), axis=1)) * jnp.arange(5.0))


ZOO: list[ZooCase] = [
    ZooCase("rosenbrock", rosenbrock, (10,), True, True),
    ZooCase("sum_of_squares", sum_of_squares, (7,), True, True),
    ZooCase("residual_squares", residual_squares, (8,), True, True),
    ZooCase("stencil_1d_energy", stencil_1d_energy, (10,), True, True),
    ZooCase("stencil_2d_energy", stencil_2d_energy, (6, 6), True, True),
    ZooCase("stencil_2d_gradient_energy", stencil_2d_gradient_energy, (5, 5), True, True),
    ZooCase("stencil_3d_energy", stencil_3d_energy, (4, 4, 4), True, True),
    ZooCase("periodic_roll_energy", periodic_roll_energy, (8,), True, True),
    ZooCase("quadratic_form_const", quadratic_form_const, (8,), True, True),
    ZooCase("mlp_loss", mlp_loss, (32,), True, False),
    ZooCase("conv_loss", conv_loss, (36,), True, True),
    ZooCase("conv_kernel_loss", conv_kernel_loss, (9,), True, True),
    ZooCase("scan_time_stepper", scan_time_stepper, (8,), True, True),
    ZooCase("scan_xs_sum", scan_xs_sum, (6,), True, True),
    ZooCase("scan_local_pairs", scan_local_pairs, (8,), True, True),
    ZooCase("fori_coupled", fori_coupled, (6,), True, True),
    ZooCase("where_mask", where_mask, (8,), True, True),
    ZooCase("where_data_dependent", where_data_dependent, (6,), True, True),
    ZooCase("const_gather", const_gather, (8,), True, True),
    ZooCase("const_take_along", const_take_along, (16,), True, True),
    ZooCase("scatter_add_const", scatter_add_const, (8,), True, True),
    ZooCase("scatter_set_const", scatter_set_const, (6,), True, True),
    ZooCase("sort_energy", sort_energy, (5,), True, False),
    ZooCase("cumsum_energy", cumsum_energy, (6,), True, True),
    ZooCase("cumprod_energy", cumprod_energy, (5,), True, True),
    ZooCase("cholesky_logdet", cholesky_logdet, (18,), True, False),
    ZooCase("solve_batched", solve_batched, (24,), True, False),
    ZooCase("eigh_energy", eigh_energy, (18,), True, False),
    ZooCase("qr_energy", qr_energy, (18,), True, True),
    ZooCase("svd_energy", svd_energy, (12,), True, False),
    ZooCase("slogdet_energy", slogdet_energy, (18,), True, False),
    ZooCase("fft_energy", fft_energy, (6,), True, False),
    ZooCase("bcoo_matvec_energy", bcoo_matvec_energy, (8,), True, True),
    ZooCase("maxpool_energy", maxpool_energy, (16,), True, False),
    ZooCase("avgpool_energy", avgpool_energy, (16,), True, True),
    ZooCase("nested_cond_scan", nested_cond_scan, (6,), True, True),
    ZooCase("switch_branches", switch_branches, (6,), True, False),
    ZooCase("closure_const", closure_const, (8,), True, True),
    ZooCase("jit_inner", jit_inner, (7,), True, True),
    ZooCase("custom_jvp_softplus", custom_jvp_softplus, (6,), True, True),
    ZooCase("logsumexp_loss", logsumexp_loss, (8,), True, True),
    ZooCase("softmax_entropy", softmax_entropy, (6,), True, True),
    ZooCase("max_min_energy", max_min_energy, (6,), True, False),
    ZooCase("special_funcs", special_funcs, (6,), True, True),
    ZooCase("trig_mix", trig_mix, (6,), True, True),
    ZooCase("pow_energy", pow_energy, (6,), True, True),
    ZooCase("abs_sign_energy", abs_sign_energy, (6,), True, True),
    ZooCase("integer_ops_energy", integer_ops_energy, (6,), True, True),
    ZooCase("stop_gradient_energy", stop_gradient_energy, (5,), True, True),
    ZooCase("concat_pad_energy", concat_pad_energy, (8,), True, True),
    ZooCase("transpose_energy", transpose_energy, (12,), True, False),
    ZooCase("dynamic_slice_const", dynamic_slice_const, (8,), True, True),
    ZooCase("multidim_input", multidim_input, (4, 3), True, True),
    ZooCase("outer_product_energy", outer_product_energy, (6,), True, True),
    ZooCase("matmul_const_sparse", matmul_const_sparse, (8,), True, True),
    ZooCase("einsum_batched", einsum_batched, (24,), True, True),
    ZooCase("remat_energy", remat_energy, (6,), True, True),
    ZooCase("top_k_energy", top_k_energy, (6,), True, False),
    ZooCase("cumlogsumexp_energy", cumlogsumexp_energy, (5,), True, True),
    ZooCase("cummax_energy", cummax_energy, (5,), True, False),
    ZooCase("expm1_log1p", expm1_log1p, (5,), True, True),
    ZooCase("reduce_max_energy", reduce_max_energy, (8,), True, False),
    ZooCase("prod_energy", prod_energy, (6,), True, True),
    ZooCase("clamp_energy", clamp_energy, (6,), True, False),
    ZooCase("complex_energy", complex_energy, (8,), True, False),
    ZooCase("triangular_solve_energy", triangular_solve_energy, (12,), True, False),
    ZooCase("custom_linear_solve_energy", custom_linear_solve_energy, (4,), True, False),
    ZooCase("lu_energy", lu_energy, (9,), True, False),
    ZooCase("expand_squeeze_energy", expand_squeeze_energy, (6,), True, True),
    ZooCase("split_energy", split_energy, (6,), True, True),
    ZooCase("rem_energy", rem_energy, (5,), True, True),
    ZooCase("vec_stencil", vec_stencil, (8,), False, True),
    ZooCase("vec_elementwise", vec_elementwise, (5,), False, True),
    ZooCase("vec_matmul_const", vec_matmul_const, (8,), False, True),
    ZooCase("vec_cumsum", vec_cumsum, (6,), False, True),
    ZooCase("vec_conv2d", vec_conv2d, (25,), False, True),
    ZooCase("vec_multi_output", vec_multi_output, (4,), False, True),
    ZooCase("vec_gather_perm", vec_gather_perm, (8,), False, True),
    ZooCase("vec_batched_mlp", vec_batched_mlp, (8,), False, True),
    ZooCase("vec_sort", vec_sort, (5,), False, False),
    ZooCase("vec_scan_prefix", vec_scan_prefix, (6,), False, True),
    ZooCase("vec_where_const", vec_where_const, (8,), False, True),
    ZooCase("vec_fft_real", vec_fft_real, (6,), False, False),
    ZooCase("vec_bcoo_todense", vec_bcoo_todense, (3,), False, True),
    ZooCase("vec_bcoo_transpose", vec_bcoo_transpose, (12,), False, True),
    ZooCase("vec_bcoo_reduce_sum", vec_bcoo_reduce_sum, (3,), False, True),
    ZooCase("bcoo_weighted_laplacian", bcoo_weighted_laplacian_energy, (8,), True, True),
    ZooCase("vec_batched_cholesky", vec_batched_cholesky, (8,), False, False),
    ZooCase("vec_reverse_cumsum_2d", vec_reverse_cumsum_2d, (9,), False, True),
    ZooCase("vec_while_newton", vec_while_newton, (6,), False, True),
    ZooCase("vec_argsort_gather", vec_argsort_gather, (5,), False, False),
    ZooCase("straight_through_energy", straight_through_energy, (6,), True, False),
    ZooCase("vec_custom_jvp_coupled", vec_custom_jvp_coupled, (6,), False, True),
    ZooCase("vec_top_k_axis0", vec_top_k_axis0, (12,), False, False),
    ZooCase("vec_approx_max_k", vec_approx_max_k, (12,), False, False),
    ZooCase("vec_tile", vec_tile, (6,), False, True),
    ZooCase("vec_unstack", vec_unstack, (6,), False, True),
    ZooCase("vec_barrier_mixed", vec_barrier_mixed, (6,), False, True),
    ZooCase("vec_device_put", vec_device_put, (6,), False, True),
    ZooCase("vec_batched_solve", vec_batched_solve, (18,), False, True),
    ZooCase("vec_batched_inv", vec_batched_inv, (18,), False, True),
    ZooCase("sorted_rows_energy", sorted_rows_energy, (20,), True, False),
]


def scalar_cases() -> list[ZooCase]:
    """The scalar-valued cases, for Hessian tests."""
    return [c for c in ZOO if c.scalar]


def case(name: str) -> ZooCase:
    """Look up one case by name (KeyError if absent)."""
    for c in ZOO:
        if c.name == name:
            return c
    raise KeyError(name)


# ------------------------------------------- detection precision (issue 16)
_DW_KERNEL = _RNG.normal(size=(3, 1, 3, 3))
_GROUP_KERNEL = _RNG.normal(size=(3, 3, 2, 4)) * (_RNG.random((3, 3, 2, 4)) > 0.3)  # HWIO
_BG_KERNEL = _RNG.normal(size=(4, 2, 2, 2))
_DUP_IDX = np.array([0, 2, 0, 2, 1])


def scan_chained(x):
    def step(prev, xt):
        return xt, (xt - prev**2) ** 2

    return jnp.sum(jax.lax.scan(step, 0.0, x)[1])


def scan_chained_reverse(x):
    def step(prev, xt):
        return xt, (xt - prev**2) ** 2 + jnp.sin(prev)

    return jnp.sum(jax.lax.scan(step, 1.0, x, reverse=True, unroll=2)[1])


def scan_pytree_nested(x):
    def inner(a, v):
        return v, a * v + 1.0

    def outer(c, row):
        ys = jax.lax.scan(inner, 1.0, row)[1]
        return {"u": row[-1], "v": c["u"] * row[0]}, (jnp.sum(ys**2) * c["v"], c["u"])

    c, (e, u) = jax.lax.scan(outer, {"u": 1.0, "v": 2.0}, x.reshape(4, 3))
    return jnp.sum(e) + jnp.sum(u**2) + c["v"] ** 2


def scan_cond_consts(x):
    w = x[:2]

    def step(c, xt):
        y = jax.lax.cond(xt > 0, lambda: c * xt * w[0], lambda: c * xt**2 * w[0])
        return xt + 1.0, y * _CLOSURE_C[0] + w[1]

    return jnp.sum(jax.lax.scan(step, 1.0, x[2:])[1] ** 2)


def scan_length_only_stepper(x):
    def step(u, _):
        return u + 0.1 * jnp.roll(u, 1) ** 2, jnp.sum(u)

    u, e = jax.lax.scan(step, x, None, length=3)
    return jnp.sum(u**2) + jnp.sum(e)


def vec_scan_swap_carry(x):
    def step(c, xt):
        a, b = c
        return (b, a + xt), a * b

    (a, b), ys = jax.lax.scan(step, (x[0], 1.0), x[1:])
    return jnp.concatenate([ys, jnp.stack([a, b])])


def vec_scan_rnn(x):
    w = jnp.array([[0.5, 0.0], [0.3, 0.2]])

    def step(h, xt):
        h = jnp.tanh(w @ h + xt)
        return h, h[0]

    return jax.lax.scan(step, jnp.zeros(2), x.reshape(4, 2))[1]


def vec_scan_cumsum_reverse(x):
    return jax.lax.scan(lambda c, xt: (c + xt, c), 0.0, x, reverse=True)[1]


def depthwise_conv_energy(x):
    img = x.reshape(1, 3, 3, 3)
    w = jnp.asarray(_DW_KERNEL, x.dtype)
    y = jax.lax.conv_general_dilated(img, w, (1, 1), "SAME", feature_group_count=3)
    return jnp.sum(y**2)


def vec_grouped_conv(x):
    img = x.reshape(1, 4, 3, 4)  # NHWC, 4 channels in 2 groups
    return jax.lax.conv_general_dilated(
        img,
        jnp.asarray(_GROUP_KERNEL, x.dtype),
        (2, 1),
        ((1, 0), (0, 2)),
        rhs_dilation=(1, 2),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=2,
    ).ravel()


def vec_batch_group_conv(x):
    img = x.reshape(2, 2, 3, 3)
    return jax.lax.conv_general_dilated(
        img,
        jnp.asarray(_BG_KERNEL, x.dtype),
        (1, 1),
        ((0, 0), (1, 0)),
        lhs_dilation=(2, 1),
        batch_group_count=2,
    ).ravel()


def pow_zero_energy(x):
    return jnp.sum(x**0 * x**2) + x[0] ** 0 * x[1] + jnp.sum(jax.lax.integer_pow(x, 0))


def vec_scatter_set_duplicates(x):
    return jnp.zeros(3).at[_DUP_IDX].set(x[:5] ** 2) * x[5:]


def vec_argmax_window(x):
    i = jnp.argmax(x[:2])
    return jax.lax.dynamic_slice(x, (i + 3,), (3,)) * x[:3]


def vec_clip_floordiv_window(x):
    i = jnp.clip(jnp.floor(x[2] * 2).astype(jnp.int32) + 1, 0, 3) // 2
    return jax.lax.dynamic_slice(x[3:], (i,), (2,))


def vec_argmax_gather(x):
    i = jnp.argmax(x[3:6])
    return x[6:][jnp.stack([i, 2 - i])] * 2.0


def vec_argmax_update(x):
    i = jnp.argmax(x[:2])
    return jax.lax.dynamic_update_slice(x[2:], jnp.sin(x[:2]), (i + 1,))


ZOO.extend(
    [
        ZooCase("scan_chained", scan_chained, (12,), True, True),
        ZooCase("scan_chained_reverse", scan_chained_reverse, (12,), True, True),
        ZooCase("scan_pytree_nested", scan_pytree_nested, (12,), True, True),
        ZooCase("scan_cond_consts", scan_cond_consts, (10,), True, True),
        ZooCase("scan_length_only_stepper", scan_length_only_stepper, (6,), True, True),
        ZooCase("vec_scan_swap_carry", vec_scan_swap_carry, (9,), False, True),
        ZooCase("vec_scan_rnn", vec_scan_rnn, (8,), False, True),
        ZooCase("vec_scan_cumsum_reverse", vec_scan_cumsum_reverse, (6,), False, True),
        ZooCase("depthwise_conv_energy", depthwise_conv_energy, (27,), True, True),
        ZooCase("vec_grouped_conv", vec_grouped_conv, (48,), False, True),
        ZooCase("vec_batch_group_conv", vec_batch_group_conv, (36,), False, True),
        ZooCase("pow_zero_energy", pow_zero_energy, (5,), True, True),
        ZooCase("vec_scatter_set_duplicates", vec_scatter_set_duplicates, (8,), False, True),
        ZooCase("vec_argmax_window", vec_argmax_window, (8,), False, True),
        ZooCase("vec_clip_floordiv_window", vec_clip_floordiv_window, (7,), False, True),
        ZooCase("vec_argmax_gather", vec_argmax_gather, (10,), False, True),
        ZooCase("vec_argmax_update", vec_argmax_update, (8,), False, True),
    ]
)


# ---------------------------------------------- scans the fuzzer's layouts broke (issue 19)
def vec_scan_const_init_length_2(x):
    # A constant initial carry and two steps: each step reads its own xs slice.
    return jax.lax.scan(lambda c, xi: (c + xi, c), jnp.zeros(3), x.reshape(2, 3))[0]


def scan_const_init_two_carries_reverse(x):
    def step(c, xi):
        a, b = c
        return (jnp.sin(a) + xi, b * xi[:2] + a[:2]), a * xi

    (a, b), ys = jax.lax.scan(step, (jnp.zeros(3), jnp.ones(2)), x.reshape(2, 3), reverse=True)
    return jnp.sum(a**3) + jnp.sum(b**2) + jnp.sum(jnp.sin(ys))


ZOO.extend(
    [
        ZooCase("vec_scan_const_init_length_2", vec_scan_const_init_length_2, (6,), False, True),
        ZooCase(
            "scan_const_init_two_carries_reverse",
            scan_const_init_two_carries_reverse,
            (6,),
            True,
            False,
        ),
    ]
)
