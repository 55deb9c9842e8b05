"""Substitution decompression for acyclic colorings: exactness, validity checks, accuracy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe.differentiation import hessian_from_coloring
from asdex_pipe.differentiation.decompress import DecompressionError
from asdex_pipe.differentiation.plans import apply_plan, device_plan
from asdex_pipe.differentiation.substitution import _list_rank, substitution_plan
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from tests.coloring.families import banded
from tests.differentiation.helpers import (
    arrowhead,
    greedy,
    grid5,
    grid5_acyclic,
    hvp_coloring,
    is_acyclic,
    is_star,
    rosenbrock,
    tridiagonal,
)


def _symmetric_values(p, rng):
    dense = np.where(p.todense(), rng.standard_normal(p.shape), 0.0)
    return dense + dense.T


def _decompress(p, colors, dense):
    """Run the jit-side substitution on exact compressed products of ``dense``."""
    cp = ColoredPattern(p, np.asarray(colors), "HVP", "acyclic")
    plan = device_plan(cp, p.shape[0])
    assert plan["kind"] == "substitution"
    k = cp.num_colors
    seeds = (np.asarray(colors)[None, :] == np.arange(k)[:, None]).astype(float)
    b = jnp.asarray(seeds @ dense.T)
    arrays = {key: jnp.asarray(v) for key, v in plan.items() if key != "kind"}
    return np.asarray(apply_plan("substitution", arrays, b))


@pytest.mark.parametrize(
    "pattern, colors",
    [
        (tridiagonal(15), np.arange(15) % 2),
        (arrowhead(8), np.r_[0, np.ones(7, int)]),
        (banded(13, 2), np.arange(13) % 3),
        (grid5(5, 4), "lattice"),
    ],
    ids=["tridiagonal", "arrowhead", "banded", "grid5"],
)
def test_substitution_recovers_every_entry(pattern, colors):
    if isinstance(colors, str):
        colors = grid5_acyclic(5, 4)
    assert is_acyclic(pattern, colors)
    dense = _symmetric_values(pattern, np.random.default_rng(0))
    got = _decompress(pattern, colors, dense)
    np.testing.assert_allclose(got, dense[pattern.rows, pattern.cols], rtol=1e-12, atol=1e-12)


def test_substitution_random_patterns_and_greedy_acyclic_colorings():
    rng = np.random.default_rng(5)
    for trial in range(4):
        a = rng.random((16, 16)) < 0.12
        a = a | a.T | np.eye(16, dtype=bool)
        a[3] = a[:, 3] = False  # an isolated vertex (empty row/column) gets color -1
        p = SparsityPattern.from_dense(a)
        colors = greedy(p, is_acyclic, seed=trial).astype(np.int64)
        colors[3] = -1
        used = np.unique(colors[colors >= 0])
        colors = np.where(colors >= 0, np.searchsorted(used, colors), -1)
        dense = _symmetric_values(p, rng)
        got = _decompress(p, colors, dense)
        np.testing.assert_allclose(got, dense[p.rows, p.cols], rtol=1e-11, atol=1e-11)


def test_grid_lattice_colorings_are_what_the_tests_assume():
    p = grid5(5, 4)
    assert is_acyclic(p, grid5_acyclic(5, 4)) and not is_star(p, grid5_acyclic(5, 4))


def test_substitution_rejects_cycles_and_clashes():
    # 4-cycle colored a-b-a-b: the two-colored subgraph is a cycle.
    cycle = SparsityPattern.from_coo([0, 1, 2, 3, 1, 2, 3, 0], [1, 2, 3, 0, 0, 1, 2, 3], (4, 4))
    with pytest.raises(DecompressionError, match="cycle"):
        substitution_plan(cycle, np.array([0, 1, 0, 1]))
    with pytest.raises(DecompressionError, match="share color"):
        substitution_plan(tridiagonal(4), np.array([0, 0, 1, 0]))


def test_list_rank_pointer_jumping():
    # two lists: 2 -> 0 -> 3 (end) and 1 (end alone)
    succ = np.array([3, -1, 0, -1])
    np.testing.assert_array_equal(_list_rank(succ), [1, 0, 2, 0])


def test_substitution_is_one_pass_for_a_long_path():
    # 2-colored tridiagonal: one tree of depth n; results exact for integer-valued H.
    n = 2000
    p = tridiagonal(n)
    rng = np.random.default_rng(3)
    dense = np.where(p.todense(), rng.integers(-9, 10, (n, n)), 0).astype(float)
    dense = dense + dense.T
    got = _decompress(p, np.arange(n) % 2, dense)
    np.testing.assert_array_equal(got, dense[p.rows, p.cols])


@pytest.mark.parametrize("n", [20_000, pytest.param(100_000, marks=pytest.mark.slow)])
@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_rosenbrock_acyclic_accuracy_large(n, dtype):
    """Acyclic (2 colors) vs star (3 colors, direct) on a long path.

    Substitution error grows with tree size (sqrt of the path length, observed ~3e3 eps of
    the row's largest entry at n = 1e5); assert a bound with room but far below failure.
    """
    i = np.arange(n)
    p = tridiagonal(n)
    x = jnp.asarray(np.random.default_rng(0).uniform(-2, 2, n), dtype)
    h_star = hessian_from_coloring(rosenbrock, hvp_coloring(p, i % 3, "star"), format="scipy")
    h_acyc = hessian_from_coloring(rosenbrock, hvp_coloring(p, i % 2, "acyclic"), format="scipy")
    ref = h_star(x.astype(jnp.float64))
    got = h_acyc(x)
    row_max = np.maximum.reduceat(np.abs(ref.data), ref.indptr[:-1])
    rel = np.abs(got.data - ref.data) / np.repeat(row_max, np.diff(ref.indptr))
    eps = float(jnp.finfo(dtype).eps)
    assert rel.max() < 20 * np.sqrt(n) * eps, rel.max() / eps
    assert jax.numpy.isfinite(got.data).all()
