"""Sparse Jacobians with column (JVP) and row (VJP) colorings."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import jacobian_from_coloring, value_and_jacobian_from_coloring
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from tests.differentiation.helpers import to_dense, tridiagonal
from tests.numerical import numerical_jacobian_pattern


def stencil(x):
    return x[:-2] - 2 * x[1:-1] * x[2:] + jnp.sin(x[2:])


def multi_output(x):
    return {"a": x[:2] * x[2:4], "b": jnp.sum(x**2)}


def _greedy_columns(p: SparsityPattern) -> np.ndarray:
    """Distance-2 greedy column coloring (independent, naive)."""
    dense = p.todense()
    n = p.shape[1]
    colors = -np.ones(n, int)
    for j in range(n):
        if not dense[:, j].any():
            continue
        taken = {
            colors[q] for q in range(n) if colors[q] >= 0 and (dense[:, q] & dense[:, j]).any()
        }
        colors[j] = min(set(range(n)) - taken)
    return colors


def _flat(f):
    return lambda x: jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree.leaves(f(x))])


def _colorings(f, shape):
    p = numerical_jacobian_pattern(_flat(f), shape)
    col = ColoredPattern(p, _greedy_columns(p), "JVP", "column")
    row = ColoredPattern(p, _greedy_columns(p.T), "VJP", "row")
    return col, row


@pytest.mark.parametrize("which", ["JVP", "VJP"])
@pytest.mark.parametrize("format", ["bcoo", "dense", "scipy"])
def test_stencil_jacobian(which, format):
    col, row = _colorings(stencil, (10,))
    coloring = col if which == "JVP" else row
    assert coloring.num_colors <= 3
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, 10))
    jac = jacobian_from_coloring(stencil, coloring, format=format)(x)
    np.testing.assert_allclose(
        to_dense(jac), jax.jit(jax.jacfwd(stencil))(x), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("which", ["JVP", "VJP"])
def test_pytree_output_value_and_jacobian(which):
    col, row = _colorings(multi_output, (4,))
    coloring = col if which == "JVP" else row
    x = jnp.asarray([0.5, -1.0, 2.0, 3.0])
    val, jac = value_and_jacobian_from_coloring(multi_output, coloring, chunk_size=1)(x)
    ref = multi_output(x)
    np.testing.assert_allclose(val["a"], ref["a"])
    assert val["b"].shape == () and float(val["b"]) == pytest.approx(float(ref["b"]))
    dense_ref = np.concatenate(
        [
            jax.jit(jax.jacfwd(lambda y: multi_output(y)["a"]))(x),
            jax.jit(jax.jacfwd(lambda y: multi_output(y)["b"]))(x)[None],
        ]
    )
    np.testing.assert_allclose(to_dense(jac), dense_ref, rtol=1e-14)


@pytest.mark.parametrize("which", ["JVP", "VJP"])
def test_jit_vmap_float32(which):
    col, row = _colorings(stencil, (10,))
    coloring = col if which == "JVP" else row
    xs = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (3, 10)), jnp.float32)
    jac = jax.jit(jax.vmap(jacobian_from_coloring(stencil, coloring, format="dense")))(xs)
    assert jac.dtype == jnp.float32 and jac.shape == (3, 8, 10)
    for b in range(3):
        ref = np.asarray(jax.jit(jax.jacfwd(stencil))(xs[b].astype(jnp.float64)))
        np.testing.assert_allclose(jac[b], ref, rtol=1e-6, atol=1e-6)


def test_jacobian_errors():
    col, _ = _colorings(stencil, (10,))
    hvp = ColoredPattern(tridiagonal(4), np.arange(4), "HVP", "star")
    with pytest.raises(ValueError, match="JVP or VJP"):
        jacobian_from_coloring(stencil, hvp)
    fn = jacobian_from_coloring(stencil, col)
    with pytest.raises(ValueError, match=r"\(9,\).*\(8, 10\)"):
        fn(jnp.ones(9))
    with pytest.raises(ValueError, match="returns 10 output elements"):
        jacobian_from_coloring(lambda x: x, col)(jnp.ones(10))
    bad = ColoredPattern(col.sparsity, np.zeros(10, int), "JVP", "column")
    with pytest.raises(ValueError, match="not a valid column coloring"):
        jacobian_from_coloring(stencil, bad)


def _complex_outputs(x):
    return jnp.stack([jnp.sum(jnp.exp(1j * x)), jnp.sum(x**2 + 0j)])


def test_complex_outputs_use_forward_mode():
    from asdex_pipe import jacobian

    x = jnp.linspace(0.0, 1.0, 6)
    J = to_dense(jacobian(_complex_outputs, 6)(x))
    np.testing.assert_allclose(J, np.asarray(jax.jit(jax.jacfwd(_complex_outputs))(x)), rtol=1e-6)
    assert np.abs(J.imag).max() > 0.1
    with pytest.raises(ValueError, match="complex outputs"):
        jacobian(_complex_outputs, 6, mode="rev")


def test_row_coloring_refuses_complex_outputs():
    p = SparsityPattern.from_dense(np.ones((2, 6), dtype=bool))
    rows = ColoredPattern(p, np.array([0, 1]), "VJP", "row")
    with pytest.raises(ValueError, match="complex outputs"):
        jacobian_from_coloring(_complex_outputs, rows)(jnp.ones(6))


def test_auto_coloring_of_complex_outputs_is_by_columns():
    from asdex_pipe import jacobian_coloring

    assert jacobian_coloring(_complex_outputs, 6).mode == "JVP"
    with pytest.raises(ValueError, match="complex outputs"):
        jacobian_coloring(_complex_outputs, 6, mode="rev")
