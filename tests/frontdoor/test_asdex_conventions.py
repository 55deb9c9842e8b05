"""Code written for asdex 0.5 runs with ``import asdex_pipe as asdex``: the peer's calling
conventions, exercised through our public API (tests written here, no adapter)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import asdex_pipe as asdex

X = jnp.linspace(0.1, 1.0, 8)


def chain(x):
    return jnp.sum((x[1:] - x[:-1]) ** 2 * x[1:])


def loss(params, batch, scale=1.0):
    w, b = params["w"], params["b"]
    return scale * jnp.sum(w[1:] * w[:-1] * batch["a"]) + jnp.sum(b**3) + jnp.sum(w) * b[0]


PARAMS = {"w": jnp.linspace(0.5, 1.5, 5), "b": jnp.array([0.3, -0.7])}
BATCH = {"a": jnp.arange(1.0, 5.0)}


@functools.cache
def _jax_hessian(f, argnums=0, static_argnums=()):
    """``jax.hessian``, jitted (one program instead of op-by-op dispatch) and kept per
    function: the references below are evaluated many times."""
    return jax.jit(jax.hessian(f, argnums=argnums), static_argnums=static_argnums)


@functools.cache
def _jax_jacfwd(f):
    return jax.jit(jax.jacfwd(f))


def _dense_tree(h):
    return jax.tree.map(
        lambda a: np.asarray(a.todense()), h, is_leaf=lambda a: hasattr(a, "todense")
    )


def _assert_tree_close(ours, ref):
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(ref), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


def test_positional_samples_and_argnums_like_jax_hessian():
    fn = asdex.hessian(loss, PARAMS, BATCH)
    _assert_tree_close(_dense_tree(fn(PARAMS, BATCH)), _jax_hessian(loss)(PARAMS, BATCH))
    fn1 = asdex.hessian(loss, PARAMS, BATCH, argnums=(0,))
    _assert_tree_close(
        _dense_tree(fn1(PARAMS, BATCH)), _jax_hessian(loss, argnums=(0,))(PARAMS, BATCH)
    )


def test_keyword_samples_at_build_time_and_only_at_call_time():
    built_with = asdex.hessian(loss, PARAMS, BATCH, scale=2.0)
    ref = _jax_hessian(loss)(PARAMS, BATCH, scale=2.0)
    _assert_tree_close(_dense_tree(built_with(PARAMS, BATCH, scale=2.0)), ref)
    # A keyword argument the build never saw: built again for it, as JAX retraces.
    fn = asdex.hessian(loss, PARAMS, BATCH)
    _assert_tree_close(_dense_tree(fn(PARAMS, BATCH, scale=2.0)), ref)
    _assert_tree_close(_dense_tree(fn(PARAMS, BATCH)), _jax_hessian(loss)(PARAMS, BATCH))


def _prefix_cubes(x, n):
    return jnp.sum(x[:n] ** 3)  # n must be a Python int: it sets a shape


def test_a_python_static_argument_that_changes_between_calls():
    fn = asdex.hessian(_prefix_cubes, X, 3)
    for n in (3, 5, 3):
        want = _jax_hessian(_prefix_cubes, static_argnums=1)(X, n)
        np.testing.assert_allclose(np.asarray(fn(X, n).todense()), want, rtol=1e-12)


def test_has_aux_returns_aux_like_jax():
    def with_aux(x):
        return chain(x), {"norm": jnp.linalg.norm(x), "tag": "ok"}

    h, aux = asdex.hessian(with_aux, X, has_aux=True)(X)
    np.testing.assert_allclose(np.asarray(h.todense()), _jax_hessian(chain)(X), rtol=1e-12)
    assert aux["tag"] == "ok"
    np.testing.assert_allclose(aux["norm"], jnp.linalg.norm(X))


def test_jacobian_and_value_and_forms():
    def residuals(x, c):
        return c * (x[1:] - x[:-1] ** 2)

    value, jac = asdex.value_and_jacobian(residuals, X, 2.0)(X, 2.0)
    np.testing.assert_allclose(value, residuals(X, 2.0))
    np.testing.assert_allclose(np.asarray(jac.todense()), _jax_jacfwd(residuals)(X, 2.0))
    pattern = asdex.jacobian_sparsity(residuals, X, 2.0)
    assert pattern.shape == (7, 8) and pattern.nnz == 14
    coloring = asdex.jacobian_coloring(residuals, X, 2.0)
    assert coloring.num_colors == 2


def test_the_seed_forms_keep_working():
    by_keyword = asdex.hessian(chain, input_shape=8)
    by_position = asdex.hessian(chain, 8)
    by_shape = asdex.hessian(chain, (8,))
    want = _jax_hessian(chain)(X)
    for fn in (by_keyword, by_position, by_shape):
        np.testing.assert_allclose(np.asarray(fn(X).todense()), want, rtol=1e-12)
    assert asdex.hessian_sparsity(chain, input_shape=8) == asdex.hessian_sparsity(chain, X)


def test_mixing_conventions_is_a_type_error():
    with pytest.raises(TypeError, match="one way"):
        asdex.hessian(loss, PARAMS, args=(PARAMS, BATCH))
    with pytest.raises(TypeError, match="keyword"):
        asdex.hessian(loss, PARAMS, BATCH, kwargs={"scale": 1.0}, scale=2.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: asdex.hessian(42, X),
        lambda: asdex.hessian_sparsity(chain, X, argnums="0"),
        lambda: asdex.hessian(lambda x: jnp.sum(x**2), jnp.arange(4)),
        lambda: asdex.jacobian(lambda p: p, {"w": "not an array"}),
        lambda: asdex.decompress_data(jnp.zeros((2, 8)), "not a coloring"),
    ],
)
def test_wrong_types_raise_type_error_as_jax_does(call):
    with pytest.raises(TypeError):
        call()


def test_allow_int_differentiates_float_leaves_and_gives_zero_for_integer_ones():
    def mixed(p):
        return jnp.sum(p["x"] ** 3) + jnp.sum(p["k"] * p["x"][:2])

    params = {"x": X[:4], "k": jnp.arange(2)}
    with pytest.raises(TypeError, match="allow_int"):
        asdex.hessian(mixed, params)
    h = _dense_tree(asdex.hessian(mixed, params, allow_int=True)(params))
    ref = jax.jit(jax.hessian(lambda x: mixed({**params, "x": x})))(X[:4])
    np.testing.assert_allclose(h["x"]["x"], ref)
    assert not np.any(h["k"]["k"]) and not np.any(h["x"]["k"])


def test_colorings_and_patterns_pass_through_jit_as_arguments():
    coloring = asdex.hessian_coloring(chain, X)

    @jax.jit
    def values(c, x):
        return asdex.hessian_from_coloring(chain, c, format="values")(x)

    got = values(coloring, X)
    dense = np.asarray(_jax_hessian(chain)(X))
    s = coloring.sparsity
    np.testing.assert_allclose(got, dense[s.rows, s.cols], rtol=1e-12)
    leaves, tree = jax.tree.flatten((coloring, coloring.sparsity))
    assert leaves == [] and jax.tree.unflatten(tree, [])[0] is coloring


def test_compressed_products_then_decompression():
    fn = asdex.compressed_hessian(chain, X)
    b = fn(X)
    coloring = fn.coloring
    assert b.shape == (coloring.num_colors, 8)
    dense = np.asarray(_jax_hessian(chain)(X))
    np.testing.assert_allclose(np.asarray(asdex.decompress(b, coloring, "dense")), dense)
    values = jax.jit(asdex.decompress_data)(b, coloring)
    s = coloring.sparsity
    np.testing.assert_allclose(values, dense[s.rows, s.cols], rtol=1e-12)
    again = asdex.compressed_hessian_from_coloring(chain, coloring)(X)
    np.testing.assert_allclose(again, b)
    value, b2 = asdex.compressed_hessian(chain, X, with_value=True)(X)
    np.testing.assert_allclose(value, chain(X))
    np.testing.assert_allclose(b2, b)
    with pytest.raises(ValueError, match="shape"):
        asdex.decompress_data(b[:, :5], coloring)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_compressed_jacobian_by_columns_or_rows(mode):
    def residuals(x):
        return x[1:] * x[:-1]

    fn = asdex.compressed_jacobian(residuals, X, mode=mode)
    b = fn(X)
    coloring = fn.coloring
    length = 7 if coloring.mode == "JVP" else 8
    assert b.shape == (coloring.num_colors, length)
    j = asdex.decompress(b, coloring, "dense")
    np.testing.assert_allclose(np.asarray(j), _jax_jacfwd(residuals)(X), rtol=1e-12)
    b2 = asdex.compressed_jacobian_from_coloring(residuals, coloring)(X)
    np.testing.assert_allclose(b2, b)


def test_from_coloring_takes_the_format_third_as_the_peer_does():
    coloring = asdex.hessian_coloring(chain, X)
    dense = asdex.hessian_from_coloring(chain, coloring, "dense")(X)
    np.testing.assert_allclose(np.asarray(dense), _jax_hessian(chain)(X), rtol=1e-12)


@pytest.mark.parametrize(
    "output_format, kind",
    [("numpy_dense", np.ndarray), ("scipy_csr", "csr"), ("scipy_coo", "coo"), ("scipy_csc", "csc")],
)
def test_the_peers_output_formats_by_its_keyword(output_format, kind):
    want = np.asarray(_jax_hessian(chain)(X))
    for build in (
        lambda: asdex.hessian(chain, X, output_format=output_format),
        lambda: asdex.hessian_from_coloring(
            chain, asdex.hessian_coloring(chain, X), output_format=output_format
        ),
    ):
        h = build()(X)
        if kind is np.ndarray:
            assert type(h) is np.ndarray
        else:
            assert h.format == kind
            h = h.toarray()
        np.testing.assert_allclose(h, want, rtol=1e-12)
    tree = asdex.hessian(loss, PARAMS, BATCH, output_format=output_format)(PARAMS, BATCH)
    block = tree["w"]["w"]
    block = block if kind is np.ndarray else block.toarray()
    np.testing.assert_allclose(block, _jax_hessian(loss)(PARAMS, BATCH)["w"]["w"], rtol=1e-12)
    with pytest.raises(TypeError, match="disagree"):
        asdex.hessian(chain, X, format="values", output_format=output_format)


def test_value_and_compressed_forms_under_the_peers_names():
    value, b = asdex.value_and_compressed_hessian(chain, X)(X)
    np.testing.assert_allclose(value, chain(X))
    coloring = asdex.hessian_coloring(chain, X)
    value2, b2 = asdex.value_and_compressed_hessian_from_coloring(chain, coloring)(X)
    np.testing.assert_allclose(b2, b)
    np.testing.assert_allclose(value2, value)
    y, bj = asdex.value_and_compressed_jacobian(lambda x: x[1:] * x[:-1], X, mode="fwd")(X)
    np.testing.assert_allclose(y, X[1:] * X[:-1])
    dense = asdex.decompress(
        bj,
        asdex.jacobian_coloring(lambda x: x[1:] * x[:-1], X, mode="fwd"),
        output_format="numpy_dense",
    )
    np.testing.assert_allclose(dense, jax.jit(jax.jacfwd(lambda x: x[1:] * x[:-1]))(X), rtol=1e-12)
