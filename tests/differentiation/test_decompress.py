"""Direct decompression plans (star, column, row) on hand-made patterns."""

import numpy as np
import pytest

from asdex_pipe.differentiation.decompress import (
    DecompressionError,
    column_plan,
    group_counts,
    row_plan,
    star_plan,
)
from asdex_pipe.pattern import SparsityPattern
from tests.coloring.families import banded
from tests.differentiation.helpers import (
    arrowhead,
    greedy,
    grid5,
    grid5_star,
    is_star,
    own_colors,
    tridiagonal,
)


def _random_symmetric(n, rng, density=0.3):
    a = rng.random((n, n)) < density
    a = a | a.T | np.eye(n, dtype=bool)
    return a


def _compress_hvp(dense, colors):
    k = colors.max() + 1
    seeds = (colors[None, :] == np.arange(k)[:, None]).astype(float)
    return seeds @ dense.T  # B[c] = H @ s_c, shape (k, n)


def _check_star_plan(p, colors, rng):
    dense = np.where(p.todense(), rng.standard_normal(p.shape), 0.0)
    dense = dense + dense.T  # symmetric values on the symmetric pattern
    plan = star_plan(p, np.asarray(colors))
    b = _compress_hvp(dense, np.asarray(colors))
    got = b[plan.color, plan.vertex]
    np.testing.assert_array_equal(got, dense[p.rows, p.cols])


@pytest.mark.parametrize(
    "pattern, colors",
    [
        (tridiagonal(11), np.arange(11) % 3),
        (arrowhead(9), np.r_[0, np.ones(8, int)]),
        (banded(12, 2), np.arange(12) % 5),
        (grid5(4, 5), "lattice"),
    ],
    ids=["tridiagonal", "arrowhead", "banded", "grid5"],
)
def test_star_plan_recovers_every_entry(pattern, colors):
    rng = np.random.default_rng(0)
    if isinstance(colors, str):
        colors = grid5_star(4, 5)
    assert is_star(pattern, colors)
    _check_star_plan(pattern, colors, rng)


def test_star_plan_random_patterns_with_greedy_star_colorings():
    rng = np.random.default_rng(1)
    for trial in range(6):
        p = SparsityPattern.from_dense(_random_symmetric(14, rng, 0.15))
        colors = greedy(p, is_star, seed=trial)
        _check_star_plan(p, colors, rng)


def test_star_plan_rejects_acyclic_only_coloring():
    # Tridiagonal with 2 colors: off-diagonal entries mix in both rows.
    with pytest.raises(DecompressionError, match="not a star coloring"):
        star_plan(tridiagonal(6), np.arange(6) % 2)


def test_star_plan_uses_symmetrized_pattern_for_one_triangle():
    full = tridiagonal(7)
    upper = SparsityPattern.from_coo(
        full.rows[full.rows <= full.cols], full.cols[full.rows <= full.cols], (7, 7)
    )
    rng = np.random.default_rng(2)
    dense = np.where(full.todense(), rng.standard_normal((7, 7)), 0.0)
    dense = dense + dense.T
    colors = np.arange(7) % 3
    plan = star_plan(upper, colors)
    got = _compress_hvp(dense, colors)[plan.color, plan.vertex]
    np.testing.assert_array_equal(got, dense[upper.rows, upper.cols])


def _rect(m, n, rng, density=0.3):
    return SparsityPattern.from_dense(rng.random((m, n)) < density)


def test_column_and_row_plans_recover_jacobian():
    rng = np.random.default_rng(3)
    for _ in range(5):
        p = _rect(9, 7, rng)
        dense = np.where(p.todense(), rng.standard_normal(p.shape), 0.0)
        # own colors (always valid), skipping empty columns / rows as color -1
        cols_used = np.bincount(p.cols, minlength=7) > 0
        ccol = np.where(cols_used, np.cumsum(cols_used) - 1, -1)
        plan = column_plan(p, ccol)
        k = ccol.max() + 1
        seeds = (ccol[None, :] == np.arange(k)[:, None]).astype(float)
        b = seeds @ dense.T  # (k, m)
        np.testing.assert_array_equal(b[plan.color, plan.vertex], dense[p.rows, p.cols])

        rows_used = np.bincount(p.rows, minlength=9) > 0
        crow = np.where(rows_used, np.cumsum(rows_used) - 1, -1)
        plan = row_plan(p, crow)
        k = crow.max() + 1
        seeds = (crow[None, :] == np.arange(k)[:, None]).astype(float)
        b = seeds @ dense  # (k, n)
        np.testing.assert_array_equal(b[plan.color, plan.vertex], dense[p.rows, p.cols])


def test_column_plan_rejects_non_orthogonal_columns():
    p = SparsityPattern.from_dense(np.array([[1, 1], [0, 1]]))
    with pytest.raises(DecompressionError, match="not a valid column coloring"):
        column_plan(p, np.array([0, 0]))
    with pytest.raises(DecompressionError, match="not a valid row coloring"):
        row_plan(p, np.array([0, 0]))


def test_own_colors_star_plan_is_plain_columns():
    p = banded(6, 1)
    plan = star_plan(p, own_colors(6))
    # with one color per column, every entry comes from its own column's product
    assert set(zip(plan.color.tolist(), plan.vertex.tolist(), strict=True)) <= set(
        zip(p.cols.tolist(), p.rows.tolist(), strict=True)
    ) | set(zip(p.rows.tolist(), p.cols.tolist(), strict=True))


def test_group_counts():
    np.testing.assert_array_equal(group_counts(np.array([3, 1, 3, 2, 3])), [3, 1, 3, 1, 3])
    assert group_counts(np.zeros(0, np.int64)).shape == (0,)
