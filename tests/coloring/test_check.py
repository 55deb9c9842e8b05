"""The checkers reject invalid colorings (naming a pair) and accept valid ones."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asdex_pipe import SparsityPattern
from asdex_pipe.coloring import (
    InvalidColoringError,
    check_coloring_cols,
    check_coloring_rows,
    check_coloring_symmetric,
)
from tests.coloring import families as fam
from tests.differentiation.helpers import is_acyclic, is_star
from tests.profiles import examples


def test_column_checker_both_directions():
    p = fam.banded(6, 1)
    check_coloring_cols(p, np.arange(6) % 3)
    with pytest.raises(InvalidColoringError, match="columns 0 and 2 share color 0"):
        check_coloring_cols(p, np.arange(6) % 2)


def test_row_checker_both_directions():
    p = SparsityPattern.from_dense(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]]))
    check_coloring_rows(p, [0, 1, 0])
    with pytest.raises(InvalidColoringError, match="rows 0 and 1 share color 0"):
        check_coloring_rows(p, [0, 0, 1])


def test_missing_color_on_nonempty_vertex():
    with pytest.raises(InvalidColoringError, match="vertex 1 has nonzeros"):
        check_coloring_cols(fam.banded(3, 1), [0, -1, 1])


def test_star_checker_rejects_bicolored_path():
    p = fam.banded(6, 1)
    check_coloring_symmetric(p, [0, 1, 0, 2, 0, 1], "star")
    # 0,1,0,1 on a path is proper but the P4 0-1-2-3 is two-colored
    with pytest.raises(InvalidColoringError, match="not directly recoverable"):
        check_coloring_symmetric(p, [0, 1, 0, 1, 2, 0], "star")
    with pytest.raises(InvalidColoringError, match="adjacent vertices 0 and 1 share color 0"):
        check_coloring_symmetric(p, [0, 0, 1, 2, 0, 1], "star")


def test_acyclic_checker_rejects_bicolored_cycle():
    p = fam.banded(8, 1)
    check_coloring_symmetric(p, np.arange(8) % 2, "acyclic")  # a path is a tree
    cycle = SparsityPattern.from_coo([0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3], (4, 4))
    with pytest.raises(InvalidColoringError, match="subgraph of colors 0 and 1 has a cycle"):
        check_coloring_symmetric(cycle, [0, 1, 0, 1], "acyclic")
    check_coloring_symmetric(cycle, [0, 1, 0, 2], "acyclic")


def test_symmetric_checker_needs_symmetric_pattern():
    with pytest.raises(ValueError, match="symmetric pattern"):
        check_coloring_symmetric(SparsityPattern.from_coo([0], [1], (2, 2)), [0, 1])


# ------------------------------------------- against brute force, both grouping paths
def _cols_ok(p, c) -> bool:
    """Definition: no row holds two columns of one color (Python loops)."""
    seen = set()
    for i, j in zip(p.rows.tolist(), p.cols.tolist(), strict=True):
        if (i, c[j]) in seen:
            return False
        seen.add((i, c[j]))
    return True


@st.composite
def colored(draw, symmetric: bool):
    n = draw(st.integers(1, 14))
    m = n if symmetric else draw(st.integers(1, 14))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    a = rng.random((m, n)) < draw(st.floats(0.05, 0.6))
    if symmetric:
        a = a | a.T | np.eye(n, dtype=bool)
    k = draw(st.integers(1, n))
    colors = rng.integers(0, k, n)
    # Spread-out color values make the (vertex, color) table too large: the sort path.
    if draw(st.booleans()):
        colors = colors * 997
    return SparsityPattern.from_dense(a), colors


@settings(max_examples=examples(200), deadline=None)
@given(colored(symmetric=False))
def test_column_and_row_checkers_match_the_definition(case):
    p, colors = case
    try:
        check_coloring_cols(p, colors)
        accepted = True
    except InvalidColoringError:
        accepted = False
    assert accepted == _cols_ok(p, colors)
    try:
        check_coloring_rows(p.transpose(), colors)
        accepted_rows = True
    except InvalidColoringError:
        accepted_rows = False
    assert accepted_rows == accepted


@settings(max_examples=examples(200), deadline=None)
@given(colored(symmetric=True), st.sampled_from(["star", "acyclic"]))
def test_symmetric_checker_matches_the_definition(case, algorithm):
    p, colors = case
    brute = is_star if algorithm == "star" else is_acyclic
    try:
        check_coloring_symmetric(p, colors, algorithm)
        accepted = True
    except InvalidColoringError:
        accepted = False
    assert accepted == brute(p, colors)
