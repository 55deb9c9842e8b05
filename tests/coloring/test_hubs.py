"""Star coloring of hubs (arrowheads, double hubs) in time linear in the pattern.

The kernel treats vertices of degree above ``BIG`` as hubs and reaches them through
(vertex, color) counts instead of scanning them; the colors must not depend on that.
Every coloring here is checked by the independent checker.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asdex_pipe import SparsityPattern, check_coloring_symmetric, hessian_coloring_from_sparsity
from asdex_pipe.coloring.graph import adjacency_graph
from asdex_pipe.coloring.orders import ORDERS, vertex_order
from asdex_pipe.coloring.star import greedy_star
from tests.coloring import families as fam
from tests.profiles import examples


@st.composite
def hubby_patterns(draw):
    """Symmetric patterns with a few dense rows/columns over a sparse random background."""
    n = draw(st.integers(2, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    a = rng.random((n, n)) < draw(st.floats(0.0, 0.2))
    hubs = rng.integers(0, n, draw(st.integers(0, 3)))
    a[hubs] |= rng.random((hubs.size, n)) < draw(st.floats(0.5, 1.0))
    a = a | a.T
    np.fill_diagonal(a, draw(st.booleans()))
    return SparsityPattern.from_dense(a)


@settings(max_examples=examples(150), deadline=None)
@given(hubby_patterns(), st.sampled_from([o for o in ORDERS if o != "best"]))
def test_hub_path_and_scan_path_give_the_same_star_coloring(pattern, order):
    graph = adjacency_graph(pattern)
    visit = vertex_order(graph, order, seed=3)
    scanned = greedy_star(graph.indptr, graph.indices, visit, big=10**9)  # no hubs
    for big in (0, 1, 4):
        hubbed = greedy_star(graph.indptr, graph.indices, visit, big=big)
        np.testing.assert_array_equal(hubbed, scanned)
    check_coloring_symmetric(pattern, scanned, "star")


@pytest.mark.parametrize("order", ["largest_first", "natural", "smallest_last", "random"])
def test_arrowhead_and_double_hub_at_scale(order):
    # n = 10^5: seconds before (sum of squared degrees), milliseconds now.
    n = 100_000
    for pattern, best in (
        (fam.arrowhead(n), 2),
        (fam.arrowhead(n, hub=0), 2),
        (fam.double_hub(n, linked=True), 3),
    ):
        cp = hessian_coloring_from_sparsity(pattern, "star", order)
        check_coloring_symmetric(pattern, cp.colors, "star")
        if order == "largest_first":
            assert cp.num_colors == best


def test_arrowhead_of_a_million():
    # About a second (it did not finish in 300 s when hubs were scanned per leaf).
    pattern = fam.arrowhead(10**6)
    cp = hessian_coloring_from_sparsity(pattern, "star")
    assert cp.num_colors == 2
    check_coloring_symmetric(pattern, cp.colors, "star")
