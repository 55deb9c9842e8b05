"""The shared zoo through compressed AD: every mode × coloring kind × format vs plain JAX.

Two routes:

* ``*_from_coloring`` with the numerical pattern (union of ``jax.hessian`` nonzeros) and
  colorings made here (distance-2 greedy for star, brute-force greedy acyclic), so these
  tests depend on nothing but the differentiation code;
* end to end through ``hessian`` / ``jacobian`` (detection + coloring + differentiation),
  skipped until ``asdex_pipe.coloring`` exists.

The default run rotates formats and coloring kinds across modes so that every combination
is hit somewhere while each case compiles only a few programs; ``-m slow`` runs the full
product.
"""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian_from_coloring, jacobian_from_coloring
from asdex_pipe.differentiation import HVP_MODES
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from tests.differentiation.helpers import greedy, is_acyclic, to_dense
from tests.numerical import numerical_hessian_pattern, numerical_jacobian_pattern
from tests.zoo import ZOO

SCALAR = [c for c in ZOO if c.scalar]
VECTOR = [c for c in ZOO if not c.scalar]
FORMATS = ("bcoo", "dense", "scipy")
ALGORITHMS = ("star", "acyclic")


def _point(case, dtype, seed=11):
    x = np.random.default_rng(seed).uniform(-1.2, 1.2, case.input_shape)
    return jnp.asarray(x, dtype)


def _union_with_point(p: SparsityPattern, dense_at_point: np.ndarray) -> SparsityPattern:
    """Add the nonzeros seen at the test point: max/sort/clip patterns depend on x."""
    return SparsityPattern.from_dense(p.todense() | (dense_at_point != 0))


def _distance2(p: SparsityPattern) -> np.ndarray:
    """Greedy distance-2 coloring of the columns of a (square or not) pattern."""
    a = p.todense().astype(np.int64)
    conflict = (a.T @ a) > 0  # columns sharing a row
    n = p.shape[1]
    colors = -np.ones(n, dtype=np.int32)
    for j in range(n):
        if not a[:, j].any():
            continue
        taken = set(colors[conflict[j] & (colors >= 0)].tolist())
        colors[j] = next(c for c in range(n) if c not in taken)
    return colors


def _with_empty(colors: np.ndarray, p: SparsityPattern) -> np.ndarray:
    used = np.bincount(p.cols, minlength=p.shape[1]) > 0
    out = np.where(used, colors, -1)
    keep = np.unique(out[out >= 0])
    return np.where(out >= 0, np.searchsorted(keep, out), -1).astype(np.int32)


@functools.cache
def _hessian_colorings(name: str) -> dict[str, ColoredPattern]:
    case = next(c for c in SCALAR if c.name == name)
    x = _point(case, jnp.float64)
    p = _union_with_point(
        numerical_hessian_pattern(case.f, case.input_shape), _reference_hessian(case, x)
    )
    sym = p if p.is_symmetric() else p.symmetrize()
    star = _distance2(sym)
    n = sym.shape[0]
    if n <= 16:  # the brute-force greedy is quadratic in n; keep it to small cases
        acyc = _with_empty(np.array(greedy(sym, is_acyclic)), sym)
    else:
        acyc = star
    return {
        "star": ColoredPattern(sym, _with_empty(star, sym), "HVP", "star"),
        "acyclic": ColoredPattern(sym, acyc, "HVP", "acyclic"),
    }


@functools.cache
def _jax_hessian(name):
    """``jax.jit(jax.hessian(f))`` of a zoo case, compiled once per case (and dtype/shape)."""
    return jax.jit(jax.hessian(next(c for c in SCALAR if c.name == name).f))


def _reference_hessian(case, x):
    n = x.size
    return np.asarray(_jax_hessian(case.name)(x), dtype=np.float64).reshape(n, n)


def _assert_hessian_close(h, ref, dtype):
    got = to_dense(h).astype(np.float64)
    scale = np.abs(ref).sum(axis=1, keepdims=True) + np.abs(ref).max(initial=0.0) * 1e-3
    if dtype == jnp.float64:
        tol = 1e-12 * (np.abs(ref) + scale)
    else:
        tol = 5e-4 * (np.abs(ref) + scale) + 1e-6
    bad = np.abs(got - ref) > tol
    assert not bad.any(), (np.argwhere(bad)[:5], got[bad][:5], ref[bad][:5])


COMBOS = list(itertools.product(HVP_MODES, ALGORITHMS, FORMATS))


def _rotated(index):
    """The (mode, algorithm, format) the default run uses for case ``index``: the 18
    combinations cycle over the cases, so each is exercised by several functions."""
    return COMBOS[index % len(COMBOS)]


def _every(k, i):
    """Marks for the default-run subset: every k-th item runs by default, the rest are slow."""
    return () if i % k == 0 else pytest.mark.slow


DEFAULT = [
    pytest.param(case.name, *_rotated(i), id=f"{case.name}-{'-'.join(_rotated(i))}")
    for i, case in enumerate(SCALAR)
]
DEFAULT_SUBSET = [
    pytest.param(*p.values, id=p.id, marks=_every(6, i)) for i, p in enumerate(DEFAULT)
]
# End to end: a different sixth of the cases, so both routes together see a third.
E2E_SUBSET = [
    pytest.param(*p.values, id=p.id, marks=_every(6, i + 3)) for i, p in enumerate(DEFAULT)
]
FULL = [
    pytest.param(case.name, *combo, id=f"{case.name}-{'-'.join(combo)}", marks=pytest.mark.slow)
    for case in SCALAR
    for combo in itertools.product(HVP_MODES, ALGORITHMS, FORMATS)
]


@pytest.mark.parametrize("name, mode, algorithm, format", DEFAULT_SUBSET)
def test_zoo_hessian_from_coloring_float64(name, mode, algorithm, format):
    case = next(c for c in SCALAR if c.name == name)
    coloring = _hessian_colorings(name)[algorithm]
    x = _point(case, jnp.float64)
    h = hessian_from_coloring(case.f, coloring, mode=mode, format=format)(x)
    _assert_hessian_close(h, _reference_hessian(case, x), jnp.float64)


@pytest.mark.parametrize(
    "name",
    [pytest.param(c.name, marks=_every(7, i + 1)) for i, c in enumerate(SCALAR)],
)
def test_zoo_hessian_float32(name):
    case = next(c for c in SCALAR if c.name == name)
    i = [c.name for c in SCALAR].index(name)
    mode, algorithm, _ = _rotated(i + 1)
    coloring = _hessian_colorings(name)[algorithm]
    x = _point(case, jnp.float32)
    h = hessian_from_coloring(case.f, coloring, mode=mode, format="dense")(x)
    assert h.dtype == jnp.float32
    _assert_hessian_close(h, _reference_hessian(case, x.astype(jnp.float64)), jnp.float32)


@pytest.mark.parametrize("name, mode, algorithm, format", FULL)
def test_zoo_hessian_full_product(name, mode, algorithm, format):
    case = next(c for c in SCALAR if c.name == name)
    coloring = _hessian_colorings(name)[algorithm]
    x = _point(case, jnp.float64)
    h = hessian_from_coloring(case.f, coloring, mode=mode, format=format)(x)
    _assert_hessian_close(h, _reference_hessian(case, x), jnp.float64)


def _flat(f):
    return lambda x: jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree.leaves(f(x))])


@functools.cache
def _jax_jacobian(name):
    """``jax.jit(jax.jacfwd(flat f))`` of a zoo case, compiled once per case."""
    return jax.jit(jax.jacfwd(_flat(next(c for c in VECTOR if c.name == name).f)))


@pytest.mark.parametrize(
    "case, which",
    [
        pytest.param(c, w, id=f"{c.name}-{w}", marks=_every(8, 2 * i + j))
        for i, c in enumerate(VECTOR)
        for j, w in enumerate(["JVP", "VJP"])
    ],
)
def test_zoo_jacobian_from_coloring(case, which):
    x64 = _point(case, jnp.float64)
    at_point = np.asarray(_jax_jacobian(case.name)(x64)).reshape(-1, x64.size)
    p = _union_with_point(numerical_jacobian_pattern(_flat(case.f), case.input_shape), at_point)
    if which == "JVP":
        coloring = ColoredPattern(p, _with_empty(_distance2(p), p), "JVP", "column")
    else:
        pt = p.T
        coloring = ColoredPattern(p, _with_empty(_distance2(pt), pt), "VJP", "row")
    fmt = "bcoo" if which == "JVP" else "scipy"
    for dtype in (jnp.float64, jnp.float32):
        x = _point(case, dtype)
        jac = to_dense(jacobian_from_coloring(case.f, coloring, format=fmt)(x))
        ref = np.asarray(_jax_jacobian(case.name)(x.astype(jnp.float64))).reshape(jac.shape)
        if dtype == jnp.float64:
            np.testing.assert_allclose(jac, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
        else:
            np.testing.assert_allclose(jac, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


# ----------------------------------------------------------- end to end
@pytest.mark.parametrize("name, mode, algorithm, format", E2E_SUBSET)
def test_zoo_hessian_end_to_end(name, mode, algorithm, format):
    from asdex_pipe import hessian

    case = next(c for c in SCALAR if c.name == name)
    x = _point(case, jnp.float64)
    h = hessian(case.f, case.input_shape, mode=mode, algorithm=algorithm, format=format)(x)
    _assert_hessian_close(h, _reference_hessian(case, x), jnp.float64)


@pytest.mark.parametrize(
    "case, mode",
    [
        pytest.param(c, m, id=f"{c.name}-{m}", marks=_every(8, 3 * i + j))
        for i, c in enumerate(VECTOR)
        for j, m in enumerate(["fwd", "rev", "auto"])
    ],
)
def test_zoo_jacobian_end_to_end(case, mode):
    from asdex_pipe import jacobian

    x = _point(case, jnp.float64)
    jac = to_dense(jacobian(case.f, case.input_shape, mode=mode, format="dense")(x))
    ref = np.asarray(_jax_jacobian(case.name)(x)).reshape(jac.shape)
    np.testing.assert_allclose(jac, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
