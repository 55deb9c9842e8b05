"""A detected coloring used with a function: checked against that function's pattern, and
refused (``PatternMismatchError``) when it would give a wrong matrix (issue 19); the same
function skips detection, a manual pattern is not checked.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import (
    ColoredPattern,
    PatternMismatchError,
    SparsityPattern,
    hessian_coloring,
    hessian_from_coloring,
    jacobian_coloring,
    jacobian_from_coloring,
    value_and_hessian_from_coloring,
    value_and_jacobian_from_coloring,
)

X = jnp.asarray([0.3, -1.2, 0.7, 2.0])


def _dense_h(f, x):
    n = x.size
    return np.asarray(jax.jit(jax.hessian(f))(x)).reshape(n, n)


# ------------------------------------------------------------------ 2. first call in jit
def _loss(p, b):
    return jnp.sum(p["w"] ** 2 * b) + jnp.sum(jnp.sin(p["v"]) * p["v"][0])


P = {"w": jnp.asarray([0.5, -1.0, 2.0]), "v": jnp.asarray([0.1, 0.7])}

B = jnp.asarray([1.0, 2.0, 3.0])


# ------------------------------------------------------------------ 4. another function
def _f_diag(x):
    return jnp.sum(x**4)


def _g_chain(x):
    return jnp.sum(x[:-1] * x[1:]) + jnp.sum(x**4)


def _g_scaled(x):
    return 3.0 * jnp.sum(jnp.cosh(x))  # diagonal Hessian: contained in _f_diag's


@pytest.mark.parametrize("loaded", [False, True], ids=["object", "loaded"])
def test_hessian_coloring_of_another_function_is_refused(loaded, tmp_path):
    coloring = hessian_coloring(_f_diag, 4)
    if loaded:
        coloring.save(tmp_path / "c.zarr")
        coloring = ColoredPattern.load(tmp_path / "c.zarr")
    for build in (hessian_from_coloring, value_and_hessian_from_coloring):
        with pytest.raises(PatternMismatchError, match=r"_g_chain.*not contained") as info:
            build(_g_chain, coloring)
        assert isinstance(info.value, ValueError)
        assert "(0, 1)" in str(info.value)  # names an entry the coloring misses
    # a function whose pattern is contained is fine, and right
    h = hessian_from_coloring(_g_scaled, coloring, format="dense")(X)
    np.testing.assert_allclose(np.asarray(h), _dense_h(_g_scaled, X), rtol=1e-12)
    # the function it was built for needs no detection and is right
    h = hessian_from_coloring(_f_diag, coloring, format="dense")(X)
    np.testing.assert_allclose(np.asarray(h), _dense_h(_f_diag, X), rtol=1e-12)


def test_jacobian_coloring_of_another_function_is_refused(tmp_path):
    f = lambda x: x**2  # noqa: E731
    g = lambda x: x * x[::-1]  # noqa: E731
    for mode in ("fwd", "rev"):
        coloring = jacobian_coloring(f, 4, mode=mode)
        coloring.save(tmp_path / f"{mode}.npz")
        for c in (coloring, ColoredPattern.load(tmp_path / f"{mode}.npz")):
            for build in (jacobian_from_coloring, value_and_jacobian_from_coloring):
                with pytest.raises(PatternMismatchError, match="not contained"):
                    build(g, c)
            j = jacobian_from_coloring(lambda x: jnp.sin(x), c, format="dense")(X)
            np.testing.assert_allclose(np.asarray(j), np.diag(np.cos(np.asarray(X))), rtol=1e-14)


def test_coloring_from_sample_args_checked_on_first_call():
    coloring = hessian_coloring(_loss, args=(P, B))

    def other(p, b):
        return _loss(p, b) + jnp.sum(p["w"]) * jnp.sum(p["v"])  # couples w with v

    fn = hessian_from_coloring(other, coloring)
    with pytest.raises(PatternMismatchError, match="not contained"):
        fn(P, B)
    with pytest.raises(PatternMismatchError, match="not contained"):
        hessian_from_coloring(other, coloring, args=(P, B))
    with pytest.raises(PatternMismatchError, match="not contained"):
        jax.jit(hessian_from_coloring(other, coloring))(P, B)


PERM = np.array([2, 0, 3, 1])  # constant indices: folded differently under eager evaluation


def _f_indexed(x):
    return jnp.sum(x * x[PERM] ** 2)


def _f_indexed_args(p, b):
    return jnp.sum(p["w"] * p["w"][PERM] ** 2 * b)


def test_coloring_of_the_same_function_skips_detection(monkeypatch):
    one = hessian_coloring(_f_indexed, 4)
    structured = hessian_coloring(_f_indexed_args, args=({"w": X}, X))
    import asdex_pipe.frontdoor.reuse

    def no_detection(*args, **kwargs):
        raise AssertionError("detection ran although the function's key matches")

    monkeypatch.setattr(asdex_pipe.frontdoor.reuse, "pattern_for", no_detection)
    h = hessian_from_coloring(_f_indexed, one, format="dense")(X)
    np.testing.assert_allclose(np.asarray(h), _dense_h(_f_indexed, X), rtol=1e-12)
    # also when the check runs on the first call, inside the caller's jit
    fn = hessian_from_coloring(_f_indexed_args, structured, format="dense")
    h = jax.jit(fn)({"w": X}, X)["w"]["w"]
    ref = jax.jit(jax.hessian(_f_indexed_args))({"w": X}, X)["w"]["w"]
    np.testing.assert_allclose(np.asarray(h), np.asarray(ref), rtol=1e-12)


def test_manual_pattern_is_not_checked():
    # The seed's route: a pattern given by hand is the user's statement, used as is.
    i = np.arange(4)
    rows = np.concatenate([i, i[:-1], i[1:]])
    cols = np.concatenate([i, i[1:], i[:-1]])
    tridiagonal = SparsityPattern.from_coo(rows, cols, (4, 4))
    coloring = ColoredPattern(tridiagonal, i % 3, "HVP", "star")
    h = hessian_from_coloring(_g_chain, coloring, format="dense")(X)
    np.testing.assert_allclose(np.asarray(h), _dense_h(_g_chain, X), rtol=1e-12)
    # Even a wrong one: no detection runs, so no error (the diagonal misses the chain).
    diagonal = SparsityPattern.from_coo(i, i, (4, 4))
    coloring = ColoredPattern(diagonal, np.zeros(4, int), "HVP", "star")
    assert hessian_from_coloring(_g_chain, coloring, format="dense")(X).shape == (4, 4)
