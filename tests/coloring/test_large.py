"""Colorings of patterns whose shared-row counts reach integer widths (2^8, 2^16).

A column intersection graph counted in int8 (or int16) reads 256 (65 536) shared rows as
0 and colors dense columns alike; these patterns hit exactly those counts. Every result
is checked by the independent checkers, and the public builders' results against JAX.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import (
    SparsityPattern,
    check_coloring_bidirectional,
    check_coloring_cols,
    check_coloring_rows,
    check_coloring_symmetric,
    color_cols,
    color_rows,
    color_symmetric,
    hessian_coloring_from_sparsity,
    jacobian,
    jacobian_coloring,
    jacobian_coloring_from_sparsity,
)
from tests.coloring.families import double_hub

WIDTHS = [256, 512, 65_536, 65_536 + 256]  # multiples of 2^8 and 2^16 wrap narrow counters


def ncolors(c):
    return int(c.max()) + 1 if c.size else 0


def dense_block(m: int, n: int) -> SparsityPattern:
    """All m rows hold all n columns: every pair of columns shares m rows."""
    r, c = np.divmod(np.arange(m * n), n)
    return SparsityPattern.from_coo(r, c, (m, n))


def hubs_and_diagonal(m: int, hubs: int, dense_row: bool = False) -> SparsityPattern:
    """(m, m + hubs): a diagonal plus ``hubs`` dense columns (and a dense first row).

    The hub columns share all m rows with each other and one row with every diagonal
    column; a dense row makes every column share a row with every other.
    """
    i = np.arange(m)
    rows = [i] + [i] * hubs + ([np.zeros(m + hubs, np.int64)] if dense_row else [])
    cols = (
        [i]
        + [np.full(m, m + h) for h in range(hubs)]
        + ([np.arange(m + hubs)] if dense_row else [])
    )
    return SparsityPattern.from_coo(np.concatenate(rows), np.concatenate(cols), (m, m + hubs))


@pytest.mark.parametrize("m", WIDTHS)
def test_dense_columns_sharing_many_rows_get_distinct_colors(m):
    p = dense_block(m, 3)
    colors = color_cols(p)
    check_coloring_cols(p, colors)
    assert ncolors(colors) == 3
    # The same counts seen as rows: 3 rows sharing m columns.
    rows = color_rows(p.transpose())
    check_coloring_rows(p.transpose(), rows)
    assert ncolors(rows) == 3


@pytest.mark.parametrize("m", [256, 65_536])
def test_jacobian_coloring_and_jacobian_of_dense_coupling(m):
    """The issue's reproducer: m outputs all depending on all 3 inputs."""

    def f(x):
        return jnp.ones(m) * jnp.sum(x**2)

    cp = jacobian_coloring(f, 3, mode="fwd")
    assert (cp.mode, cp.num_colors) == ("JVP", 3)
    check_coloring_cols(cp.sparsity, cp.colors)
    x = jnp.asarray([0.5, -1.25, 2.0])
    got = np.asarray(jacobian(f, 3, mode="fwd")(x).todense())
    np.testing.assert_allclose(got, np.asarray(jax.jit(jax.jacfwd(f))(x)), rtol=1e-6)


def test_jacobian_rev_of_dense_input_coupling():
    # 3 outputs each depending on all 256 inputs: 3 rows share 256 columns.
    def f(x):
        return jnp.stack([jnp.sum(x), jnp.sum(x**2), jnp.sum(jnp.sin(x))])

    cp = jacobian_coloring(f, 256, mode="rev")
    assert (cp.mode, cp.num_colors) == ("VJP", 3)
    x = jnp.linspace(-1.0, 1.0, 256)
    got = np.asarray(jacobian(f, 256, mode="rev")(x).todense())
    np.testing.assert_allclose(got, np.asarray(jax.jit(jax.jacrev(f))(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("m", [256, 65_536])
def test_dense_columns_and_dense_rows(m):
    """Two dense columns (sharing m rows) beside a diagonal; transposed: two dense rows."""
    p = hubs_and_diagonal(m, 2)
    cols = color_cols(p)
    check_coloring_cols(p, cols)
    assert ncolors(cols) == 3 and cols[m] != cols[m + 1]
    rows = color_rows(p.transpose())
    check_coloring_rows(p.transpose(), rows)
    assert ncolors(rows) == 3 and rows[m] != rows[m + 1]
    fwd = jacobian_coloring_from_sparsity(p, mode="fwd")
    rev = jacobian_coloring_from_sparsity(p.transpose(), mode="rev")
    assert (fwd.mode, fwd.num_colors, rev.mode, rev.num_colors) == ("JVP", 3, "VJP", 3)


def test_dense_row_and_dense_columns_in_both_colorings():
    # A dense row couples all columns, dense columns couple all rows: both colorings are
    # complete graphs (kept small), and the checkers accept them. A bicoloring reads the
    # dense row by one VJP and the rest by 3 JVPs (the two hubs, the diagonal).
    m = 300
    p = hubs_and_diagonal(m, 2, dense_row=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # nothing to save over dense
        cols, rows = color_cols(p), color_rows(p)
    auto = jacobian_coloring_from_sparsity(p, mode="auto")
    check_coloring_cols(p, cols)
    check_coloring_rows(p, rows)
    assert (ncolors(cols), ncolors(rows)) == (m + 2, m)
    assert (auto.mode, auto.num_colors) == ("JVP+VJP", 4)
    check_coloring_bidirectional(p, auto.colors)


@pytest.mark.parametrize("n", [258, 4098, 65_538])
@pytest.mark.parametrize("algorithm", ["star", "acyclic"])
def test_symmetric_hubs_sharing_many_neighbours(n, algorithm):
    # Hubs of degree 2^16 took minutes when star coloring scanned each hub's neighbours
    # per leaf (O(sum of squared degrees)); the hubs' color counts make it linear.
    p = double_hub(n, linked=True)
    cp = hessian_coloring_from_sparsity(p, algorithm)
    check_coloring_symmetric(p, cp.colors, algorithm)
    # Linked hubs differ; the leaves then share one third color (the optimum).
    assert cp.num_colors == 3
    raw = color_symmetric(p, algorithm, postprocess=False)
    check_coloring_symmetric(p, raw, algorithm)


@pytest.mark.parametrize("algorithm", ["star", "acyclic"])
def test_symmetric_unlinked_hubs(algorithm):
    # Unlinked hubs may share a color (largest_first gives them both 0); then no two
    # leaves may: a valid coloring either way, which is what the checker decides.
    p = double_hub(258, linked=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        colors = color_symmetric(p, algorithm)
    check_coloring_symmetric(p, colors, algorithm)
    assert colors[0] != colors[1] or len(set(colors[2:].tolist())) == 256


@pytest.mark.slow
@pytest.mark.parametrize("m", [2**16, 2**17])
def test_many_dense_columns_sharing_many_rows(m):
    p = dense_block(m, 40)
    colors = color_cols(p, "best")
    check_coloring_cols(p, colors)
    assert ncolors(colors) == 40
