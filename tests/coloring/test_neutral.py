"""Neutral colors: star colors that no nonzero is read from are dropped (vertices get -1)."""

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
    check_coloring_symmetric,
    check_hessian_correctness,
    color_symmetric,
    hessian,
    hessian_coloring,
    hessian_from_coloring,
)
from tests.coloring import families as fam
from tests.profiles import examples


def bilinear(x):
    """x[:n] · x[n:] elementwise: every Hessian entry off the diagonal, pairs (i, n + i)."""
    n = x.size // 2
    return jnp.sum(x[:n] * x[n:])


def hub(x):
    """x[0] times the sum of the rest: a star graph without diagonal."""
    return x[0] * jnp.sum(x[1:])


@pytest.mark.parametrize(("f", "n", "expected"), [(bilinear, 40, 1), (hub, 30, 1)])
def test_unneeded_colors_are_dropped(f, n, expected):
    coloring = hessian_coloring(f, input_shape=n)
    plain = color_symmetric(coloring.sparsity, "star", postprocess=False)
    assert coloring.num_colors == expected < int(plain.max()) + 1
    check_coloring_symmetric(coloring.sparsity, coloring.colors, "star")
    assert (coloring.colors == -1).any()


@pytest.mark.parametrize("f", [bilinear, hub])
@pytest.mark.parametrize("mode", ["fwd_over_rev", "rev_over_rev"])
def test_hessian_with_neutral_colors_is_exact(f, mode):
    n = 24
    x = jnp.asarray(np.random.default_rng(0).normal(size=n))
    h = hessian(f, input_shape=n, mode=mode, format="dense")(x)
    np.testing.assert_allclose(h, jax.jit(jax.hessian(f))(x), rtol=1e-12, atol=1e-12)
    check_hessian_correctness(f, x, hessian_coloring(f, input_shape=n), method="dense")


def test_full_diagonal_keeps_every_color():
    pattern = fam.banded(50, 1)
    assert int(color_symmetric(pattern, "star").max()) + 1 == 3


def test_checker_rejects_neutral_diagonal_and_unreadable_pairs():
    tri = fam.banded(4, 1)
    with pytest.raises(InvalidColoringError, match="no color"):
        check_coloring_symmetric(tri, np.array([0, 1, -1, 0]), "star")
    # Path 0-1-2 without diagonal: with 1 and 2 neutral, nonzero (1, 2) is read from nowhere.
    path = SparsityPattern.from_coo([0, 1, 1, 2], [1, 0, 2, 1], (3, 3))
    check_coloring_symmetric(path, np.array([-1, 0, -1]), "star")
    with pytest.raises(InvalidColoringError, match="not directly recoverable"):
        check_coloring_symmetric(path, np.array([0, -1, -1]), "star")


def test_colored_pattern_refuses_neutral_diagonal_and_substitution_refuses_neutrals():
    tri = fam.banded(4, 1)
    with pytest.raises(ValueError, match="diagonal"):
        ColoredPattern(tri, np.array([0, 1, -1, 0]), "HVP", "star")
    path = SparsityPattern.from_coo([0, 1, 1, 2], [1, 0, 2, 1], (3, 3))
    acyclic = ColoredPattern(path, np.array([-1, 0, -1]), "HVP", "acyclic")
    with pytest.raises(ValueError, match="neutral colors belong to star colorings"):
        hessian_from_coloring(lambda x: x[1] * (x[0] + x[2]), acyclic)


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(2, 20), st.floats(0.05, 0.6), st.integers(0, 2**31))
def test_random_patterns_without_diagonal_decompress_exactly(n, density, seed):
    rng = np.random.default_rng(seed)
    a = rng.random((n, n)) < density
    a = np.triu(a, 1)
    a = a | a.T
    w = jnp.asarray(np.where(a, rng.normal(size=(n, n)), 0.0))

    def f(x):
        return 0.5 * x @ (w + w.T) @ x  # Hessian w + w.T: exactly the pattern, no diagonal

    coloring = hessian_coloring(f, input_shape=n)
    check_coloring_symmetric(coloring.sparsity, coloring.colors, "star")
    x = jnp.asarray(rng.normal(size=n))
    h = hessian(f, input_shape=n, format="dense")(x)
    np.testing.assert_allclose(h, w + w.T, rtol=1e-12, atol=1e-12)
