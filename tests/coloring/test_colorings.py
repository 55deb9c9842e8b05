"""Every algorithm × order passes the independent checkers; known optima hold."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asdex_pipe import SparsityPattern
from asdex_pipe.coloring import (
    ORDERS,
    check_coloring_cols,
    check_coloring_rows,
    check_coloring_symmetric,
    color_cols,
    color_rows,
    color_symmetric,
    hessian_coloring_from_sparsity,
    jacobian_coloring_from_sparsity,
)
from tests.coloring import families as fam
from tests.profiles import examples

FAMILIES = {
    "diagonal": fam.diagonal(30),
    "tridiagonal": fam.banded(40, 1),
    "banded3": fam.banded(40, 3),
    "arrowhead": fam.arrowhead(25),
    "block_diagonal": fam.block_diagonal(6, 4),
    "five_point": fam.five_point(12),
    "nine_point": fam.nine_point(10),
    "seven_point": fam.seven_point(5),
    "random": fam.random_symmetric(120, 2, seed=3),
}


def ncolors(c):
    return int(c.max()) + 1 if c.size else 0


@st.composite
def symmetric_patterns(draw):
    n = draw(st.integers(1, 24))
    density = draw(st.floats(0.0, 0.6))
    seed = draw(st.integers(0, 2**31))
    a = np.random.default_rng(seed).random((n, n)) < density
    a = a | a.T
    if draw(st.booleans()):
        np.fill_diagonal(a, True)
    return SparsityPattern.from_dense(a)


@st.composite
def general_patterns(draw):
    m, n = draw(st.integers(0, 20)), draw(st.integers(0, 20))
    seed = draw(st.integers(0, 2**31))
    density = draw(st.floats(0.0, 0.5))
    return SparsityPattern.from_dense(np.random.default_rng(seed).random((m, n)) < density)


@pytest.mark.parametrize("algorithm", ["star", "acyclic"])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_structured_families_pass_checker(family, order, algorithm):
    pattern = FAMILIES[family]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        colors = color_symmetric(pattern, algorithm, order)
    check_coloring_symmetric(pattern, colors, algorithm)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_structured_families_column_and_row(family, order):
    pattern = FAMILIES[family]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_coloring_cols(pattern, color_cols(pattern, order))
        check_coloring_rows(pattern, color_rows(pattern, order))


@settings(max_examples=examples(150), deadline=None)
@given(symmetric_patterns(), st.sampled_from(ORDERS), st.sampled_from(["star", "acyclic"]))
def test_random_symmetric_patterns(pattern, order, algorithm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        colors = color_symmetric(pattern, algorithm, order, seed=1)
    check_coloring_symmetric(pattern, colors, algorithm)
    # an acyclic coloring never needs more colors than n, a star coloring neither
    assert ncolors(colors) <= pattern.shape[0]


@settings(max_examples=examples(100), deadline=None)
@given(general_patterns(), st.sampled_from(ORDERS))
def test_random_general_patterns(pattern, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cols = color_cols(pattern, order)
        rows = color_rows(pattern, order)
    check_coloring_cols(pattern, cols)
    check_coloring_rows(pattern, rows)
    empty_cols = np.bincount(pattern.cols, minlength=pattern.shape[1]) == 0
    assert np.all((cols == -1) == empty_cols)


def test_known_optima_with_default_order():
    assert ncolors(color_symmetric(fam.diagonal(50), "star")) == 1
    assert ncolors(color_symmetric(fam.diagonal(50), "acyclic")) == 1
    assert ncolors(color_symmetric(fam.banded(100, 1), "star")) == 3
    assert ncolors(color_symmetric(fam.banded(100, 1), "acyclic")) == 2
    assert ncolors(color_symmetric(fam.arrowhead(60), "star")) == 2
    for k in range(0, 6):
        assert ncolors(color_cols(fam.banded(60, k))) == 2 * k + 1


def test_acyclic_saves_colors_on_stencils():
    for pattern in (fam.five_point(30), fam.nine_point(30), fam.random_symmetric(500, 3)):
        star = ncolors(color_symmetric(pattern, "star"))
        acyclic = ncolors(color_symmetric(pattern, "acyclic"))
        assert acyclic <= star
    assert ncolors(color_symmetric(fam.nine_point(30), "acyclic")) < ncolors(
        color_symmetric(fam.nine_point(30), "star")
    )


def test_best_order_is_no_worse_and_named():
    pattern = fam.random_symmetric(300, 3, seed=7)
    best = hessian_coloring_from_sparsity(pattern, "star", "best")
    assert best.order.startswith("best:")
    for order in ("natural", "largest_first", "smallest_last"):
        assert best.num_colors <= ncolors(color_symmetric(pattern, "star", order))
    check_coloring_symmetric(pattern, best.colors, "star")


def test_hessian_coloring_result_type():
    cp = hessian_coloring_from_sparsity(fam.banded(100, 1), algorithm="acyclic")
    assert (cp.mode, cp.algorithm, cp.order, cp.num_colors) == (
        "HVP",
        "acyclic",
        "largest_first",
        2,
    )


def test_jacobian_auto_picks_fewer_colors():
    # 3 dense rows over 40 columns: all columns meet in every row (40 column colors),
    # while the 3 rows need 3 row colors.
    wide = SparsityPattern.from_dense(np.ones((3, 40), dtype=bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cp = jacobian_coloring_from_sparsity(wide, mode="auto")
        assert (cp.mode, cp.algorithm, cp.num_colors) == ("VJP", "row", 3)
        tall = jacobian_coloring_from_sparsity(wide.T, mode="auto")
    assert (tall.mode, tall.algorithm, tall.num_colors) == ("JVP", "column", 3)
    fwd = jacobian_coloring_from_sparsity(fam.banded(20, 1), mode="fwd")
    assert fwd.mode == "JVP" and fwd.num_colors == 3


def test_empty_patterns_and_isolated_vertices():
    empty = SparsityPattern.from_coo([], [], (5, 5))
    assert np.all(color_symmetric(empty) == -1)
    assert hessian_coloring_from_sparsity(empty).num_colors == 0
    assert color_cols(SparsityPattern.from_coo([], [], (0, 0))).shape == (0,)
    partial = SparsityPattern.from_coo([0, 1, 0, 1], [0, 1, 1, 0], (4, 4))
    colors = color_symmetric(partial, "star")
    assert list(colors[2:]) == [-1, -1] and ncolors(colors) == 2


def test_dense_coloring_warns_once():
    dense = SparsityPattern.from_dense(np.ones((6, 6), dtype=bool))
    with pytest.warns(UserWarning, match="saves nothing") as record:
        color_symmetric(dense)
    assert len(record) == 1


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (SparsityPattern.from_dense(np.ones((3, 4))), "square pattern"),
        (SparsityPattern.from_coo([0], [1], (3, 3)), "symmetrize"),
    ],
)
def test_symmetric_coloring_rejects_bad_patterns(pattern, message):
    with pytest.raises(ValueError, match=message):
        color_symmetric(pattern)


def test_unknown_order_and_algorithm():
    with pytest.raises(ValueError, match="unknown order 'zigzag'; choose one of: natural"):
        color_symmetric(fam.diagonal(3), order="zigzag")
    with pytest.raises(ValueError, match="unknown algorithm 'greedy'"):
        color_symmetric(fam.diagonal(3), algorithm="greedy")
    with pytest.raises(ValueError, match="unknown mode 'both'"):
        jacobian_coloring_from_sparsity(fam.diagonal(3), mode="both")
