"""Substitution decompression for acyclic colorings: exactness, validity checks, accuracy."""

import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian_from_coloring
from asdex_pipe.differentiation.decompress import DecompressionError
from asdex_pipe.differentiation.plans import apply_plan, device_plan, host_plan
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


# ------------------------------------------------------- rooting and accuracy
def _random_tree(n: int, rng) -> tuple[SparsityPattern, np.ndarray]:
    """A random tree (parent of v drawn below v) with a diagonal, 2-colored by depth
    parity: one two-colored tree holding every vertex."""
    parent = np.array([int(rng.integers(0, v)) for v in range(1, n)])
    child = np.arange(1, n)
    depth = np.zeros(n, dtype=np.int64)
    for v in range(1, n):
        depth[v] = depth[parent[v - 1]] + 1
    r = np.concatenate([np.arange(n), child, parent])
    c = np.concatenate([np.arange(n), parent, child])
    return SparsityPattern.from_coo(r, c, (n, n)), depth % 2


def _smallest_largest_part(p: SparsityPattern) -> int:
    """Brute force: over all roots, the smallest possible largest subtree (centroid)."""
    adj = [set() for _ in range(p.shape[0])]
    for i, j in zip(p.rows.tolist(), p.cols.tolist(), strict=True):
        if i != j:
            adj[i].add(j)

    def part(v, skip):
        seen, stack = {v}, [v]
        while stack:
            for w in adj[stack.pop()] - seen - {skip}:
                seen.add(w)
                stack.append(w)
        return len(seen)

    return min(max((part(w, v) for w in adj[v]), default=0) for v in range(p.shape[0]))


@pytest.mark.parametrize("seed", range(6))
def test_trees_are_rooted_at_a_centroid(seed):
    """Every entry sums the smallest possible largest subtree, within substitution_depth."""
    rng = np.random.default_rng(seed)
    p, colors = _random_tree(int(rng.integers(2, 40)), rng)
    cp = ColoredPattern(p, colors, "HVP", "acyclic")
    plan = substitution_plan(p, colors)
    largest = int(np.max(plan.edge_hi - plan.edge_lo + 1))
    assert largest == _smallest_largest_part(p)
    assert largest <= cp.substitution_depth == p.shape[0] // 2
    dense = _symmetric_values(p, rng)
    np.testing.assert_allclose(_decompress(p, colors, dense), dense[p.rows, p.cols], rtol=1e-12)


def test_substitution_depth_of_a_path_and_other_colorings():
    p = tridiagonal(1001)
    i = np.arange(1001)
    acyclic = hvp_coloring(p, i % 2, "acyclic")
    assert acyclic.substitution_depth == 500  # a path rooted at its middle
    assert "substitution depth 500" in repr(acyclic)
    assert (
        int(np.max(np.diff(np.c_[host_plan(acyclic).edge_lo, host_plan(acyclic).edge_hi + 1])))
        == 500
    )
    star = hvp_coloring(p, i % 3, "star")
    assert star.substitution_depth == 0 and "substitution" not in repr(star)
    # Two separate paths: the depth is that of the longer one.
    two = SparsityPattern.from_coo(
        np.r_[p.rows, p.rows + 1001], np.r_[p.cols, p.cols + 1001], (2002, 2002)
    )
    assert hvp_coloring(two, np.r_[i % 2, i % 2], "acyclic").substitution_depth == 500


def comb_energy(x):
    """Hessian: a path on the first half (spine) with one tooth per spine vertex."""
    half = x.shape[0] // 2
    s, t = x[:half], x[half:]
    return jnp.sum(jnp.sin(s[:-1] * s[1:])) + jnp.sum(1.5 * s * t) + 0.25 * jnp.sum(x**4)


def comb(half: int) -> tuple[SparsityPattern, np.ndarray]:
    i = np.arange(half)
    r = np.concatenate([np.arange(2 * half), i[:-1], i[1:], i, i + half])
    c = np.concatenate([np.arange(2 * half), i[1:], i[:-1], i + half, i])
    return SparsityPattern.from_coo(r, c, (2 * half, 2 * half)), np.r_[i % 2, 1 - i % 2]


def _accuracy(f, p, colors, x):
    """Errors of the float32 acyclic Hessian against float64, with what the bound needs.

    Returns (error, s_e, W, row_max) per nonzero: s_e the compressed values summed for the
    entry (1 for diagonal entries, read directly) and W the largest |compressed value| over
    all trees (the bound's W for one tree; for many trees of one scale, about theirs).
    """
    cp = hvp_coloring(p, colors, "acyclic")
    ref = hessian_from_coloring(f, cp, format="scipy")(x.astype(jnp.float64))
    got = hessian_from_coloring(f, cp, format="scipy")(x.astype(jnp.float32))
    error = np.abs(got.data.astype(np.float64) - ref.data)
    seeds = (colors[None, :] == np.arange(cp.num_colors)[:, None]).astype(float)
    compressed = (ref @ seeds.T).T  # B[b, v], exact up to float64 rounding
    tree_node = colors[None, :] != np.arange(cp.num_colors)[:, None]
    w = np.abs(compressed[tree_node]).max()
    plan = host_plan(cp)
    size = plan.edge_hi - plan.edge_lo + 1
    s_e = np.where(plan.entry_edge >= 0, size[np.maximum(plan.entry_edge, 0)], 1)
    row_max = np.repeat(np.maximum.reduceat(np.abs(ref.data), ref.indptr[:-1]), np.diff(ref.indptr))
    return cp, error, s_e, w, row_max


def _assert_bound(cp, error, s_e, w, row_max, eps):
    # The module docstring's bound, per entry and through the public depth.
    allowed = 2 * eps * w * (s_e + 64)
    worst = int(np.argmax(error / allowed))
    row_rel = (error / row_max).max() / eps
    report = (
        f"error {error[worst]:.3g} > 2 eps W (s_e + 64) with s_e={s_e[worst]}, W={w:.3g}; "
        f"(largest error relative to its row's largest entry: {row_rel:.0f} eps)"
    )
    assert np.all(error <= allowed), report
    assert error.max() <= 2 * eps * w * (cp.substitution_depth + 64)


@pytest.mark.parametrize("n", [20_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_rosenbrock_float32_substitution_within_bound(n):
    """A path of n vertices: 2 colors, entries summing up to n / 2 compressed values."""
    x = jnp.asarray(np.random.default_rng(0).uniform(-2, 2, n))
    p = tridiagonal(n)
    cp, error, s_e, w, row_max = _accuracy(rosenbrock, p, np.arange(n) % 2, x)
    assert cp.substitution_depth == n // 2
    _assert_bound(cp, error, s_e, w, row_max, float(jnp.finfo(jnp.float32).eps))


def test_comb_float32_substitution_within_bound():
    """A long tree that is not a path: a spine of 5000 vertices, a tooth on each."""
    half = 5_000
    p, colors = comb(half)
    x = jnp.asarray(np.random.default_rng(1).uniform(-1.5, 1.5, 2 * half))
    assert ColoredPattern(p, colors, "HVP", "acyclic").substitution_depth == half
    cp, error, s_e, w, row_max = _accuracy(comb_energy, p, colors, x)
    _assert_bound(cp, error, s_e, w, row_max, float(jnp.finfo(jnp.float32).eps))


def _small_trees_energy(y):
    z = y.reshape(-1, 3)
    return jnp.sum(jnp.exp(0.3 * z[:, 0] * z[:, 1]) + jnp.exp(0.3 * z[:, 1] * z[:, 2])) + jnp.sum(
        y**2
    )


def test_many_small_trees_float32_no_drift():
    """10^4 separate three-vertex paths: each tree's values must sum to zero in the
    prefix, or later trees see the sum of all earlier roots (1.2e4 eps of W at 3·10^4 trees)."""
    blocks = 10_000
    n = 3 * blocks
    b = np.arange(blocks) * 3
    r = np.concatenate([np.arange(n), b, b + 1, b + 1, b + 2])
    c = np.concatenate([np.arange(n), b + 1, b, b + 2, b + 1])
    p = SparsityPattern.from_coo(r, c, (n, n))
    x = jnp.asarray(np.random.default_rng(0).uniform(1, 2, n))
    cp, error, s_e, w, row_max = _accuracy(_small_trees_energy, p, np.arange(n) % 3 % 2, x)
    assert cp.substitution_depth == 1
    _assert_bound(cp, error, s_e, w, row_max, float(jnp.finfo(jnp.float32).eps))
