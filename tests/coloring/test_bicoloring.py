"""Bidirectional (star bi-)colorings: the independent checker, the choice made by
``mode="auto"``, and exact Jacobians through the public builders."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asdex_pipe import (
    ColoredPattern,
    InvalidColoringError,
    SparsityPattern,
    check_coloring_bidirectional,
    check_coloring_cols,
    check_coloring_rows,
    check_jacobian_correctness,
    jacobian,
    jacobian_coloring,
    jacobian_coloring_from_sparsity,
    jacobian_from_coloring,
    value_and_jacobian,
)
from tests.coloring import families as fam
from tests.profiles import examples


def dense_row_and_column(n: int) -> SparsityPattern:
    """(n + 1, n): a diagonal, a full first column and a full last row."""
    i = np.arange(n)
    rows = np.concatenate([i, i, np.full(n, n)])
    cols = np.concatenate([i, np.zeros(n, np.int64), i])
    return SparsityPattern.from_coo(rows, cols, (n + 1, n))


def constraint(n: int):
    """The issue's constraint function: Jacobian = dense_row_and_column(n) in values."""
    a = jnp.arange(n, dtype=jnp.float64)

    def c(x):
        return jnp.concatenate([x**2 + 1e-6 * x[0] * a, jnp.sum(x)[None]])

    return c


def ncolors(c):
    return int(c.max()) + 1 if c.size else 0


@st.composite
def general_patterns(draw):
    m, n = draw(st.integers(0, 25)), draw(st.integers(0, 25))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    dense = rng.random((m, n)) < draw(st.floats(0.0, 0.4))
    if m and n and draw(st.booleans()):  # add dense rows and columns
        dense[rng.integers(0, m, draw(st.integers(1, 3)))] = True
        dense[:, rng.integers(0, n, draw(st.integers(1, 3)))] = True
    return SparsityPattern.from_dense(dense)


# ------------------------------------------------------------------ the checker
def test_checker_accepts_the_three_product_bicoloring():
    p = dense_row_and_column(6)
    # column 0 alone (JVP 0), the other columns together (JVP 1), the last row (VJP 2).
    colors = np.array([0, 1, 1, 1, 1, 1] + [-1] * 6 + [2])
    check_coloring_bidirectional(p, colors)


@pytest.mark.parametrize(
    ("colors", "message"),
    [
        ([0, 0, 1, 1, 1, 1] + [-1] * 6 + [2], r"\(1, 0\) .*row 1 holds another column of color 0"),
        ([0, 1, 1, 1, 1, 1] + [-1] * 6 + [-1], r"\(6, 1\) .*row 6 is in no VJP"),
        ([0, 1, 1, 1, 1, 1] + [-1] * 6 + [1], "used by a column and by a row"),
        ([0, 1, 1], "needs 13 colors"),
        ([0, 1, 1, 1, 1, 1] + [-1] * 6 + [-2], "must be >= -1"),
    ],
)
def test_checker_rejects(colors, message):
    with pytest.raises(InvalidColoringError, match=message):
        check_coloring_bidirectional(dense_row_and_column(6), np.array(colors))


def test_checker_against_brute_force_on_small_patterns():
    rng = np.random.default_rng(0)
    for _ in range(300):
        m, n = rng.integers(1, 6, 2)
        dense = rng.random((m, n)) < 0.5
        p = SparsityPattern.from_dense(dense)
        cols = rng.integers(-1, 2, n)
        rows = np.where(rng.random(m) < 0.5, rng.integers(2, 4, m), -1)
        colors = np.concatenate([cols, rows])
        ok = True
        for i, j in zip(*np.nonzero(dense), strict=True):
            by_col = cols[j] >= 0 and sum(cols[q] == cols[j] for q in np.flatnonzero(dense[i])) == 1
            by_row = (
                rows[i] >= 0 and sum(rows[r] == rows[i] for r in np.flatnonzero(dense[:, j])) == 1
            )
            ok &= bool(by_col or by_row)
        if ok:
            check_coloring_bidirectional(p, colors)
        else:
            with pytest.raises(InvalidColoringError):
                check_coloring_bidirectional(p, colors)


# ------------------------------------------------------------------ colorings
@pytest.mark.parametrize("n", [5, 300, 100_000])
def test_dense_row_and_column_take_three_products(n):
    p = dense_row_and_column(n)
    for mode in ("auto", "bidirectional"):
        cp = jacobian_coloring_from_sparsity(p, mode=mode)
        assert (cp.mode, cp.algorithm, cp.num_colors) == ("JVP+VJP", "bicoloring", 3)
        assert cp.colors.shape == (n + n + 1,)
        check_coloring_bidirectional(p, cp.colors)


def test_explicit_one_sided_modes_are_unchanged_and_cheap_on_dense_lines():
    p = dense_row_and_column(2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # n colors: nothing saved
        fwd = jacobian_coloring_from_sparsity(p, mode="fwd")
        rev = jacobian_coloring_from_sparsity(p, mode="rev")
    assert (fwd.mode, fwd.num_colors, rev.mode, rev.num_colors) == ("JVP", 2000, "VJP", 2001)
    check_coloring_cols(p, fwd.colors)
    check_coloring_rows(p, rev.colors)


def test_auto_keeps_one_sided_colorings_when_they_are_as_good():
    # Banded and block patterns: bicoloring cannot beat the columns; auto stays "JVP".
    for p in (fam.banded(200, 2), fam.five_point(20), fam.block_diagonal(10, 4)):
        cp = jacobian_coloring_from_sparsity(p)
        assert (cp.mode, cp.algorithm) == ("JVP", "column")


@settings(max_examples=examples(150), deadline=None)
@given(general_patterns(), st.sampled_from(["largest_first", "natural", "random", "best"]))
def test_random_patterns_bicolorings_are_valid_and_auto_is_never_worse(pattern, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bi = jacobian_coloring_from_sparsity(pattern, mode="bidirectional", order=order)
        auto = jacobian_coloring_from_sparsity(pattern, mode="auto", order=order)
        fwd = jacobian_coloring_from_sparsity(pattern, mode="fwd", order=order)
        rev = jacobian_coloring_from_sparsity(pattern, mode="rev", order=order)
    check_coloring_bidirectional(pattern, bi.colors)
    assert auto.num_colors <= min(fwd.num_colors, rev.num_colors)
    if auto.mode == "JVP+VJP":
        check_coloring_bidirectional(pattern, auto.colors)
        assert auto.num_colors < min(fwd.num_colors, rev.num_colors)


def test_hubs_on_both_sides():
    # Two dense rows and two dense columns beside a diagonal: 2 VJPs + 3 JVPs.
    n = 500
    dense = np.eye(n, dtype=bool)
    dense[[0, 1]] = True
    dense[:, [7, 8]] = True
    p = SparsityPattern.from_dense(dense)
    cp = jacobian_coloring_from_sparsity(p)
    assert cp.mode == "JVP+VJP" and cp.num_colors == 5
    check_coloring_bidirectional(p, cp.colors)


def test_colored_pattern_validates_bidirectional_colors():
    p = dense_row_and_column(4)
    good = [0, 1, 1, 1] + [-1] * 4 + [2]
    cp = ColoredPattern(p, good, "JVP+VJP", "bicoloring")
    assert cp.num_colors == 3 and "2 JVPs and 1 VJP" in repr(cp)
    assert cp.compressed_pattern().shape == (5, 2)
    with pytest.raises(ValueError, match="neither a colored column nor a colored row"):
        ColoredPattern(p, [0, 1, 1, -1] + [-1] * 4 + [2], "JVP+VJP", "bicoloring")
    with pytest.raises(ValueError, match="numbers its row colors after"):
        ColoredPattern(p, [0, 2, 2, 2] + [-1] * 4 + [1], "JVP+VJP", "bicoloring")
    with pytest.raises(ValueError, match="one color per column and one per row"):
        ColoredPattern(p, [0, 1, 1, 1], "JVP+VJP", "bicoloring")


def test_bidirectional_coloring_round_trips_through_an_artifact(tmp_path):
    cp = jacobian_coloring_from_sparsity(dense_row_and_column(50))
    for suffix in (".npz", ".zarr"):
        path = tmp_path / f"bi{suffix}"
        cp.save(path)
        assert ColoredPattern.load(path) == cp


# ------------------------------------------------------------------ Jacobians
@pytest.mark.parametrize("format", ["bcoo", "dense", "scipy", "values"])
def test_jacobian_of_the_dense_row_and_column_function_is_exact(format):
    n = 40
    c = constraint(n)
    x = jnp.linspace(-1.0, 2.0, n, dtype=jnp.float64)
    fn = jacobian(c, n, format=format)
    assert (fn.coloring.mode, fn.coloring.num_colors) == ("JVP+VJP", 3)
    ref = np.asarray(jax.jit(jax.jacfwd(c))(x))
    got = fn(x)
    s = fn.coloring.sparsity
    if format == "values":
        np.testing.assert_allclose(np.asarray(got), ref[s.rows, s.cols], rtol=1e-13)
        return
    dense = got.todense() if hasattr(got, "todense") else got
    np.testing.assert_allclose(np.asarray(dense), ref, rtol=1e-13, atol=1e-15)


def test_value_jit_chunks_and_from_coloring():
    n = 30
    c = constraint(n)
    x = jnp.linspace(0.5, 1.5, n, dtype=jnp.float64)
    ref = np.asarray(jax.jit(jax.jacfwd(c))(x))
    value, jac = value_and_jacobian(c, n, mode="bidirectional", format="dense", chunk_size=1)(x)
    np.testing.assert_allclose(np.asarray(value), np.asarray(c(x)), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(jac), ref, rtol=1e-13, atol=1e-15)
    coloring = jacobian_coloring(c, n, mode="bidirectional")
    fn = jacobian_from_coloring(c, coloring, format="dense")
    np.testing.assert_allclose(np.asarray(jax.jit(fn)(x)), ref, rtol=1e-13, atol=1e-15)
    check_jacobian_correctness(c, x, coloring)
    check_jacobian_correctness(c, x, coloring, method="dense")


def test_pytree_outputs_and_structure():
    n = 12

    def f(x):
        return {"diag": x**3 + x[0], "total": jnp.sum(jnp.sin(x)), "pair": x[:2] * x[1:3]}

    x = jnp.linspace(-1.0, 1.0, n, dtype=jnp.float64)
    fn = jacobian(f, n, mode="bidirectional", format="dense", structure="flat")
    ref = jax.jit(
        jax.jacfwd(lambda y: jnp.concatenate([jnp.ravel(v) for v in jax.tree.leaves(f(y))]))
    )(x)
    np.testing.assert_allclose(np.asarray(fn(x)), np.asarray(ref), rtol=1e-13, atol=1e-15)


def test_complex_outputs_refuse_bidirectional_and_auto_stays_forward():
    def f(x):
        return jnp.concatenate([x * (1 + 2j), jnp.sum(x)[None] * 1j])

    with pytest.raises(ValueError, match="imaginary parts"):
        jacobian_coloring(f, 6, mode="bidirectional")
    with pytest.raises(ValueError, match="imaginary parts"):
        jacobian(f, 6, mode="bidirectional")
    assert jacobian_coloring(f, 6).mode == "JVP"


def test_constraint_jacobian_uses_the_bicoloring():
    from asdex_pipe.optimize.lagrangian import constraint_jacobian

    n = 25
    c = constraint(n)
    x = jnp.linspace(-1.0, 1.0, n, dtype=jnp.float64)
    cj = constraint_jacobian(c, n)
    assert (cj.coloring.mode, cj.coloring.num_colors) == ("JVP+VJP", 3)
    ref = np.asarray(jax.jit(jax.jacfwd(c))(x))
    np.testing.assert_allclose(np.asarray(cj.values(x)), ref[cj.rows, cj.cols], rtol=1e-13)
