"""The operation table of the differential fuzzer: one entry per way of building an array.

Every entry turns one or two arrays of the program's value pool (float64, any shape) and a
tuple of small non-negative integers ``p`` (drawn by hypothesis, interpreted here, shrinking
towards 0) into a new float64 array. Together the entries reach every rule family of
``asdex_pipe.detection.registry.RULES`` (``test_fuzz_coverage.py`` checks that), with
domain-safe arguments so that plain JAX is finite at random points.

Flags say what plain JAX can differentiate: ``fwd`` (forward mode, ``jax.jacfwd``) and
``rev`` (reverse mode, ``jax.grad``; needed for every Hessian path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import sparse as jsparse

# Largest array an operation may create (keeps programs small enough for a few hundred
# Hessians a minute while still crossing the sizes where layouts change).
MAX_SIZE = 48
NUM_PARAMS = 8


@dataclass(frozen=True)
class OpSpec:
    """One fuzzer operation.

    Attributes:
        arity: number of pool values it reads (1 or 2).
        fn: ``fn(p, *arrays) -> array`` with ``p`` the drawn integer parameters.
        fwd: plain JAX can differentiate it in forward mode.
        rev: ... in reverse mode.
        variants: how many values of ``p[0]`` select different behaviour (for tables).
    """

    arity: int
    fn: Callable
    fwd: bool = True
    rev: bool = True
    variants: int = 13


OPS: dict[str, OpSpec] = {}


def op(name: str, arity: int = 1, fwd: bool = True, rev: bool = True, variants: int = 13):
    def register(fn: Callable) -> Callable:
        assert name not in OPS, name
        OPS[name] = OpSpec(arity, fn, fwd, rev, variants)
        return fn

    return register


# ------------------------------------------------------------------ helpers
def vec(a):
    return jnp.ravel(a)


def fit(a, size: int):
    """``a`` raveled and tiled or cut to ``size`` elements (size 0 allowed)."""
    v = vec(a)
    if v.size == 0:
        return jnp.zeros(size)
    if v.size >= size:
        return v[:size]
    return jnp.tile(v, -(-size // v.size))[:size]


def positive(a):
    return 1.0 + a * a


def unit(a):
    return 0.9 * jnp.tanh(a)


def as_2d(a, p: int):
    """``a`` as a matrix: (rows, cols) from a divisor of its size picked by ``p``."""
    v = vec(a)
    s = v.size
    divisors = [d for d in range(1, s + 1) if s % d == 0] or [1]
    r = divisors[p % len(divisors)]
    return v.reshape(r, s // r) if s else v.reshape(0, 1)


def square_matrix(a, p: int):
    k = 1 + p % 3
    return fit(a, k * k).reshape(k, k)


def shrink(a):
    """Cut an oversized result back to :data:`MAX_SIZE` elements."""
    return vec(a)[:MAX_SIZE] if a.size > MAX_SIZE else a


# ---------------------------------------------------------- elementwise (unary)
UNARY: dict[str, Callable] = {
    "neg": lax.neg,
    "sin": lax.sin,
    "cos": lax.cos,
    "tan": lambda a: lax.tan(0.5 * unit(a)),
    "asin": lambda a: lax.asin(unit(a)),
    "acos": lambda a: lax.acos(unit(a)),
    "atan": lax.atan,
    "sinh": lax.sinh,
    "cosh": lax.cosh,
    "tanh": lax.tanh,
    "asinh": lax.asinh,
    "acosh": lambda a: lax.acosh(1.0 + positive(a)),
    "atanh": lambda a: lax.atanh(unit(a)),
    "exp": lambda a: lax.exp(unit(a)),
    "exp2": lambda a: lax.exp2(unit(a)),
    "log": lambda a: lax.log(positive(a)),
    "log2": lambda a: jnp.log2(positive(a)),
    "log1p": lambda a: lax.log1p(a * a),
    "expm1": lax.expm1,
    "sqrt": lambda a: lax.sqrt(positive(a)),
    "rsqrt": lambda a: lax.rsqrt(positive(a)),
    "cbrt": lambda a: lax.cbrt(positive(a)),
    "logistic": lax.logistic,
    "erf": lax.erf,
    "erfc": lax.erfc,
    "erf_inv": lambda a: lax.erf_inv(unit(a)),
    "lgamma": lambda a: lax.lgamma(positive(a)),
    "digamma": lambda a: lax.digamma(positive(a)),
    "abs": lax.abs,
    "square": lax.square,
    "integer_pow": lambda a: a**3,
    "pow": lambda a: positive(a) ** 1.7,
    "reduce_precision": lambda a: lax.reduce_precision(a, 11, 52),
    "copy": lambda a: jnp.array(a, copy=True) * 1.5,
    "convert": lambda a: a.astype(jnp.float32).astype(jnp.float64),
    "bessel_i0e": lax.bessel_i0e,
    "bessel_i1e": lax.bessel_i1e,
    "sign_times": lambda a: lax.sign(a) * a,
    "floor_plus": lambda a: lax.floor(a) + a * a,
    "ceil_times": lambda a: lax.ceil(a) * a,
    "round_plus": lambda a: lax.round(a) + jnp.sin(a),
    "stop_gradient": lambda a: lax.stop_gradient(a) * a,
    "polyval": lambda a: jnp.polyval(jnp.array([0.5, -1.0, 2.0, 0.25]), a),
    "relu": lambda a: jnp.maximum(a, 0.0),
    "sigmoid_grad": lambda a: jax.vmap(jax.grad(jnp.tanh))(vec(a)).reshape(a.shape),
}


@op("unary", variants=len(UNARY))
def _unary(p, a):
    names = sorted(UNARY)
    return UNARY[names[p[0] % len(names)]](a)


# --------------------------------------------------------- elementwise (binary)
BINARY: dict[str, Callable] = {
    "add": lax.add,
    "sub": lax.sub,
    "mul": lax.mul,
    "div": lambda a, b: a / positive(b),
    "atan2": lambda a, b: lax.atan2(a, positive(b)),
    "rem": lambda a, b: lax.rem(a, 0.5 + positive(b)),
    "max": lax.max,
    "min": lax.min,
    "pow": lambda a, b: positive(a) ** unit(b),
    # JAX has no derivative of igamma_grad_a (the shape parameter's), so no Hessian in it
    "igamma": lambda a, b: lax.igamma(jnp.full_like(a, 1.5), positive(b)) * a,
    "igammac": lambda a, b: lax.igammac(jnp.full_like(a, 2.5), positive(b)) + a,
    "polygamma": lambda a, b: lax.polygamma(jnp.ones_like(a), positive(b)) * a,
    "clamp": lambda a, b: lax.clamp(-jnp.abs(b), a, jnp.abs(b) + 0.1),
    "where": lambda a, b: jnp.where(a > 0, a * b, jnp.sin(b)),
    "where_const": lambda a, b: jnp.where(jnp.arange(a.size).reshape(a.shape) % 2 == 0, a, b),
    "complex_abs": lambda a, b: jnp.abs(lax.complex(a, b) ** 2),
    "complex_exp": lambda a, b: jnp.imag(jnp.exp(1j * a) * (b + 2j)),
    "complex_real": lambda a, b: jnp.real(jnp.conj(a + 1j * b) * (a - 0.5j)),
    "mul_by_zero_const": lambda a, b: a * (np.arange(a.size) % 3 != 0).reshape(a.shape) + b,
}


def broadcast_partner(a, b, p: int):
    """``b`` reshaped to broadcast against ``a``: same shape, a's last axis, or a scalar."""
    how = p % 3
    if how == 0 or a.ndim == 0:
        return fit(b, a.size).reshape(a.shape)
    if how == 1:
        return fit(b, a.shape[-1]).reshape((a.shape[-1],))
    return fit(b, 1).reshape(())


@op("binary", arity=2, variants=len(BINARY))
def _binary(p, a, b):
    names = sorted(BINARY)
    fn = BINARY[names[p[0] % len(names)]]
    # jnp broadcasts with broadcast_in_dim, as JAX code does; lax ops then see equal shapes
    a, bb = jnp.broadcast_arrays(a, broadcast_partner(a, b, p[1]))
    return fn(a, bb) if p[2] % 2 == 0 else fn(bb, a)


# ------------------------------------------------------------------ reductions
@op("reduce")
def _reduce(p, a):
    m = as_2d(a, p[1])
    axis = p[2] % 3  # 0, 1 or both
    ax = (0, 1) if axis == 2 else axis
    kind = p[0] % 6
    keep = p[3] % 2 == 1
    if kind == 0:
        return jnp.sum(m, axis=ax, keepdims=keep)
    if kind == 1:
        return jnp.max(m, axis=ax, keepdims=keep) if m.size else jnp.sum(m, axis=ax)
    if kind == 2:
        return jnp.min(m, axis=ax, keepdims=keep) if m.size else jnp.sum(m, axis=ax)
    if kind == 3:
        return jnp.prod(unit(m) + 1.2, axis=ax, keepdims=keep)
    if kind == 4:
        return jax.nn.logsumexp(m, axis=ax, keepdims=keep) if m.size else jnp.sum(m, axis=ax)
    return jnp.mean(m * m, axis=ax, keepdims=keep)


@op("cumulative")
def _cumulative(p, a):
    m = as_2d(a, p[1])
    axis, rev = p[2] % 2, p[3] % 2 == 1
    kind = p[0] % 5
    fn = [lax.cumsum, lax.cumprod, lax.cummax, lax.cummin, lax.cumlogsumexp][kind]
    arg = unit(m) + 1.1 if kind == 1 else m
    return fn(arg, axis=axis, reverse=rev)


@op("sort")
def _sort(p, a):
    m = as_2d(a, p[1])
    kind = p[0] % 3
    if kind == 0:
        return jnp.sort(m, axis=p[2] % 2)
    if kind == 1:  # sort values by keys that depend on the input
        keys, vals = lax.sort((jnp.sin(m), m * m), dimension=p[2] % 2, num_keys=1)
        return keys + vals
    order = jnp.argsort(vec(m))
    return vec(m)[order] * jnp.arange(m.size)


@op("top_k")
def _top_k(p, a):
    v = vec(a)
    if v.size == 0:
        return v
    k = 1 + p[0] % v.size
    if p[1] % 2 == 0:
        return lax.top_k(v, k)[0]
    return lax.approx_max_k(v, k)[0]


# ------------------------------------------------------------------ structural
@op("reshape")
def _reshape(p, a):
    m = as_2d(a, p[0])
    if p[1] % 3 == 0:
        return m.T
    if p[1] % 3 == 1:
        return m[:, None, :].squeeze(1)
    return jnp.transpose(m.reshape(m.shape[0], 1, m.shape[1]), (2, 1, 0))


@op("concatenate", arity=2)
def _concatenate(p, a, b):
    parts = [vec(a), vec(b)] if p[0] % 2 == 0 else [vec(b), vec(a), vec(a)[:1]]
    return shrink(jnp.concatenate(parts))


@op("pad")
def _pad(p, a):
    v = vec(a)
    lo = p[0] % 4 - 1 if v.size > 1 else p[0] % 3
    hi = p[1] % 4 - 1 if v.size > 1 else p[1] % 3
    interior = p[2] % 3
    out = lax.pad(v, jnp.asarray(p[3] % 3 - 1.0, v.dtype), [(lo, hi, interior)])
    return shrink(out)


@op("slice")
def _slice(p, a):
    v = vec(a)
    kind = p[0] % 4
    if kind == 0:
        return v[p[1] % max(v.size, 1) :: 1 + p[2] % 3]
    if kind == 1:
        return v[::-1]
    if kind == 2:
        return jnp.roll(v, p[1] % 5 - 2)
    m = as_2d(a, p[1])
    return m[:, ::-1][:: 1 + p[2] % 2]


@op("broadcast")
def _broadcast(p, a):
    v = vec(a)[:16]
    k = 1 + p[0] % 3
    if p[1] % 3 == 0:
        return jnp.broadcast_to(v[None, :], (k, v.size))
    if p[1] % 3 == 1:
        return jnp.tile(v, k)
    return jnp.stack([v, jnp.cos(v)], axis=p[2] % 2)


@op("split")
def _split(p, a):
    v = vec(a)
    if v.size < 2:
        return v * 2
    k = 1 + p[0] % (v.size - 1)
    left, right = jnp.split(v, [k])
    rows = jnp.unstack(as_2d(v, p[1]))
    return jnp.concatenate([right * 2.0, jnp.sin(left), rows[-1]])


# -------------------------------------------------------------------- indexing
def traced_index(b, size: int, count: int):
    """``count`` integer indices in [0, size) computed from the input ``b``."""
    return jnp.clip(jnp.floor(fit(b, count) * 3.0 + 2.0), 0, size - 1).astype(jnp.int32)


def constant_index(p: int, size: int, count: int) -> np.ndarray:
    rng = np.random.default_rng(p)
    return rng.integers(0, size, count).astype(np.int32)


@op("gather", arity=2)
def _gather(p, a, b):
    v = vec(a)
    if v.size == 0:
        return v
    count = 1 + p[1] % 6
    idx = traced_index(b, v.size, count) if p[0] % 2 else constant_index(p[2], v.size, count)
    if p[3] % 2 == 0:
        return v[idx]
    m = as_2d(a, p[2])
    cols = jnp.clip(idx[: m.shape[0]], 0, m.shape[1] - 1)
    cols = jnp.resize(cols, (m.shape[0], 1))
    return jnp.take_along_axis(m, cols, axis=1)


@op("dynamic_slice", arity=2)
def _dynamic_slice(p, a, b):
    v = vec(a)
    if v.size == 0:
        return v
    k = 1 + p[1] % v.size
    start = traced_index(b, v.size, 1)[0] if p[0] % 2 else p[2] % v.size
    if p[3] % 2 == 0:
        return lax.dynamic_slice(v, (start,), (k,))
    upd = jnp.sin(fit(b, k))
    return lax.dynamic_update_slice(v, upd, (start,))


@op("scatter", arity=2)
def _scatter(p, a, b):
    v = vec(a)
    if v.size == 0:
        return v
    count = 1 + p[1] % 5
    idx = traced_index(b, v.size, count) if p[0] % 2 else constant_index(p[2], v.size, count)
    upd = fit(b, count) * 1.5 + 0.25
    kind = p[3] % 6
    if kind == 2:  # JAX differentiates scatter-mul only with unique indices
        unique = np.random.default_rng(p[2]).permutation(v.size)[: min(count, v.size)]
        return v.at[unique].mul(upd[: unique.size], unique_indices=True)
    ref = v.at[idx]
    return [ref.add, ref.set, None, ref.min, ref.max, ref.subtract][kind](upd)


# ------------------------------------------------------------------ linear algebra
@op("dot", arity=2)
def _dot(p, a, b):
    m = as_2d(a, p[1])
    kind = p[0] % 4
    if kind == 0:  # a constant sparse-ish matrix
        w = constant_index(p[2], 3, m.shape[1] * 3).reshape(m.shape[1], 3) - 1.0
        return m @ w
    if kind == 1:  # two traced operands
        w = fit(b, m.shape[1] * 2).reshape(m.shape[1], 2)
        return m @ w
    if kind == 2:  # batched contraction
        w = fit(b, m.size).reshape(m.shape)
        return jnp.einsum("ij,ij->i", m, w)
    return jnp.outer(vec(a)[:6], fit(b, 3))


@op("conv", arity=2)
def _conv(p, a, b):
    v = vec(a)
    if v.size == 0:
        return v
    width = 1 + p[0] % min(3, v.size)
    kernel = fit(b, width) if p[1] % 2 else jnp.asarray([1.0, 0.0, -2.0][:width])
    stride = 1 + p[2] % 2
    dilation = 1 + p[3] % 2
    pad = [(p[4] % 2, p[4] % 2)]
    out = lax.conv_general_dilated(
        v.reshape(1, 1, -1), kernel.reshape(1, 1, -1), (stride,), pad, rhs_dilation=(dilation,)
    )
    return vec(out)


@op("fft")
def _fft(p, a):
    v = vec(a)
    if v.size == 0:
        return v
    if p[0] % 2 == 0:
        return jnp.abs(jnp.fft.rfft(v))
    return jnp.real(jnp.fft.ifft(jnp.fft.fft(v) * jnp.arange(v.size)))


@op("linalg", arity=2)
def _linalg(p, a, b):
    kind = p[0] % 5
    m = square_matrix(a, p[1])
    k = m.shape[0]
    spd = m @ m.T + k * jnp.eye(k)
    rhs = fit(b, k)
    if kind == 0:
        return vec(jnp.linalg.cholesky(spd))
    if kind == 1:
        tri = jnp.tril(m) + 3.0 * jnp.eye(k)
        return jax.scipy.linalg.solve_triangular(tri, rhs, lower=True)
    if kind == 2:
        return jnp.linalg.solve(spd, rhs)  # lu
    if kind == 3:
        return vec(jnp.linalg.qr(spd)[1])
    return jnp.linalg.eigvalsh(spd)


@op("tridiagonal", arity=2)
def _tridiagonal(p, a, b):
    k = 2 + p[0] % 4
    d = 4.0 + positive(fit(a, k))
    dl = fit(b, k).at[0].set(0.0) if p[1] % 2 else jnp.zeros(k).at[1:].set(0.5)
    du = fit(a, k + 1)[1:].at[-1].set(0.0)
    return lax.linalg.tridiagonal_solve(dl, d, du, fit(b, k)[:, None])[:, 0]


@op("linear_solve", arity=2)
def _linear_solve(p, a, b):
    k = 1 + p[0] % 3
    m = square_matrix(a, p[0]) if p[1] % 2 else jnp.eye(k) * 2.0
    m = m @ m.T + k * jnp.eye(k)

    def matvec(x):
        return m @ x

    def solve(_, rhs):
        return jnp.linalg.solve(m, rhs)

    return lax.custom_linear_solve(matvec, fit(b, k), solve, symmetric=True)


@op("sparse", arity=2)
def _sparse(p, a, b):
    v = vec(a)
    k = max(v.size, 1)
    dense = np.zeros((3, k))
    dense[0, 0] = 2.0
    dense[1, k - 1] = -1.0
    dense[2, (p[1] % k)] = 0.5
    kind = p[0] % 3
    if kind == 0:
        return jsparse.BCOO.fromdense(dense, nse=3) @ fit(a, k)
    indices = np.array([[0, 0], [1, k - 1], [2, p[1] % k]])
    if kind == 1:
        mat = jsparse.BCOO((fit(a, 3), indices), shape=(3, k))
        return vec(mat.todense())
    return jsparse.bcoo_extract(
        jsparse.BCOO.fromdense(dense, nse=3), fit(b, 3 * k).reshape(3, k)
    ).data


# --------------------------------------------------------------------- windows
@op("window")
def _window(p, a):
    v = vec(a)
    if v.size < 2:
        return v * 3.0
    w = 1 + p[0] % 2
    stride = 1 + p[1] % 2
    kind = p[2] % 4
    if kind == 0:
        return lax.reduce_window(v, 0.0, lax.add, (w,), (stride,), "VALID")
    if kind == 1:
        return lax.reduce_window(v, -jnp.inf, lax.max, (w,), (stride,), "VALID")
    if kind == 2:
        return lax.reduce_window(v, jnp.inf, lax.min, (w,), (stride,), "SAME")
    # the JVP of a max pool inside f: select_and_gather_add
    pool = lambda u: lax.reduce_window(u, -jnp.inf, lax.max, (2,), (1,), "VALID")  # noqa: E731
    return jax.jvp(pool, (v,), (jnp.sin(v),))[1]


@op("pool_grad")
def _pool_grad(p, a):
    """The gradient of a max pool inside f: select_and_scatter_add."""
    v = vec(a)
    if v.size < 2:
        return v
    w = np.arange(v.size - 1, dtype=np.float64) + 1.0

    def pooled(u):
        return jnp.sum(w * lax.reduce_window(u, -jnp.inf, lax.max, (2,), (1,), "VALID") ** 2)

    return jax.grad(pooled)(v)


# ---------------------------------------------------------------- control flow
BODIES: dict[str, Callable] = {
    "sin": lambda a: jnp.sin(a) * a,
    "roll": lambda a: jnp.roll(a, 1) * a,
    "cumsum": lambda a: jnp.cumsum(a) ** 2,
    "rev": lambda a: a[::-1] + a * a,
    "sum": lambda a: jnp.sum(a) * a,
    "id": lambda a: a + 1.0,
}


def body(p: int) -> Callable:
    names = sorted(BODIES)
    return BODIES[names[p % len(names)]]


@op("cond", arity=2)
def _cond(p, a, b):
    v = vec(a)
    f1, f2, f3 = body(p[1]), body(p[2]), body(p[3])
    if p[0] % 3 == 0:
        return lax.cond(jnp.sum(b) > 0, f1, f2, v)
    if p[0] % 3 == 1:
        index = traced_index(b, 3, 1)[0]
        return lax.switch(index, [f1, f2, f3], v)
    return lax.cond(True, f1, f2, v)  # a constant predicate


@op("while", arity=2, rev=False)
def _while(p, a, b):
    v = vec(a)
    trips = p[0] % 4
    step = body(p[1])
    w = fit(b, v.size)

    def loop_body(state):
        i, u = state
        return i + 1, step(u) * 0.5 + w

    return lax.while_loop(lambda s: s[0] < trips, loop_body, (0, v))[1]


@op("fori")
def _fori(p, a):
    v = vec(a)
    step = body(p[1])
    return lax.fori_loop(0, p[0] % 4, lambda i, u: step(u) * 0.5, v)


@op("custom_jvp")
def _custom_jvp(p, a):
    @jax.custom_jvp
    def g(x):
        return jnp.sin(x) * x

    @g.defjvp
    def g_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return g(x), (jnp.cos(x) * x + jnp.sin(x)) * t

    if p[0] % 2 == 0:
        return g(a)

    @jax.custom_jvp
    def clip_grad(x):  # straight-through: the JVP's pattern is not the primal's
        return lax.stop_gradient(x) * 0.0 + jnp.round(x)

    @clip_grad.defjvp
    def clip_jvp(primals, tangents):
        return clip_grad(primals[0]), tangents[0] * 2.0

    return clip_grad(a) * a


@op("custom_vjp", fwd=False)
def _custom_vjp(p, a):
    @jax.custom_vjp
    def g(x):
        return x**3

    def fwd(x):
        return g(x), x

    def bwd(x, ct):
        return (3.0 * x**2 * ct,)

    g.defvjp(fwd, bwd)
    return g(a) + (jnp.roll(a, 1) if p[0] % 2 else 0.0)


@op("wrappers")
def _wrappers(p, a):
    kind = p[0] % 4
    if kind == 0:
        return jax.jit(lambda u: jnp.sin(u) * u[::-1])(a)
    if kind == 1:
        return jax.checkpoint(lambda u: jnp.cos(u) * u)(a)
    if kind == 2:
        return lax.optimization_barrier(a * a) + a
    return jax.device_put(a) * jnp.sin(a)


# ------------------------------------------------------------------------ scan
SCAN_LENGTHS = (0, 1, 2, 3, 4, 5, 2, 17)


def scan_layout(p) -> dict:
    """The scan layout that the integer parameters ``p`` select (see :func:`_scan`)."""
    return {
        "length": SCAN_LENGTHS[p[0] % len(SCAN_LENGTHS)],
        "widths": [(1 + p[1] % 3)] + ([1 + p[2] % 2] if p[1] % 4 >= 2 else []),
        "init": p[3] % 4,  # 0 constant, 1 from a, 2 from b, 3 mixed
        "reverse": p[4] % 2 == 1,
        "ys": p[5] % 4,  # 0 none, 1 new carry, 2 previous carry, 3 carry times slice
        "xs": p[6] % 3,  # 0 xs from a, 1 no xs (length only), 2 xs from a and consts from b
        "unroll": (1, 2, True)[p[7] % 3],
        "nested": p[2] % 5 == 4,
        "body": p[6] // 3 % 4,
    }


def _scan_body(layout, consts):
    kind = layout["body"]

    def mix(c, x):
        if kind == 0:
            return c + x
        if kind == 1:
            return jnp.sin(c) * x + c
        if kind == 2:
            return jnp.roll(c, 1) * x
        return x if x is not None else c  # forgets the carry

    def step(carry, x):
        new = []
        for k, c in enumerate(carry):
            xk = None if x is None else fit(x, c.size)
            other = carry[(k + 1) % len(carry)]
            inc = mix(c, xk) if xk is not None else mix(c, jnp.cos(c))
            if len(carry) > 1:
                inc = inc + jnp.sum(other) * 0.1
            if consts is not None:
                inc = inc * fit(consts, c.size)
            if layout["nested"]:
                inner = lax.scan(lambda ci, xi: (ci * xi + 1.0, ci), jnp.ones(()), inc)
                inc = inc + inner[0] + inner[1]
            new.append(inc)
        ys = layout["ys"]
        if ys == 0:
            y = None
        elif ys == 1:
            y = new[0]
        elif ys == 2:
            y = carry[-1]
        else:
            y = carry[0] * (fit(x, carry[0].size) if x is not None else 2.0)
        return tuple(new), y

    return step


@op("scan", arity=2)
def _scan(p, a, b):
    layout = scan_layout(p)
    L, widths = layout["length"], layout["widths"]
    init = []
    for k, w in enumerate(widths):
        source = layout["init"] if layout["init"] < 3 else k % 2
        init.append(jnp.zeros(w) if source == 0 else fit(a if source == 1 else b, w) * 0.5)
    consts = b if layout["xs"] == 2 else None
    xs = None if layout["xs"] == 1 else fit(a, L * 2).reshape(L, 2)
    carry, ys = lax.scan(
        _scan_body(layout, consts),
        tuple(init),
        xs,
        length=L,
        reverse=layout["reverse"],
        unroll=layout["unroll"],
    )
    parts = [vec(c) for c in carry]
    if ys is not None:
        parts.append(vec(ys))
    return shrink(jnp.concatenate(parts))
