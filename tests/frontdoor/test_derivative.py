"""The builder behind every sparse Hessian / Jacobian function (SparseDerivative): value
shapes, aux outputs, first calls inside ``jax.jit``, seed tuning.

Several groups are edges found by running code written for another sparse-AD library
against the public API (issue 19):

* ``value_and_*`` return ``f``'s value with ``f``'s output shape, whatever the pattern;
* ``*_from_coloring`` functions may be called first inside the caller's ``jax.jit`` (nothing
  built on the first call may capture a tracer);
* ``has_aux`` with an aux that is not an array (strings, Python numbers, None) comes back
  as JAX's differentiation functions return it.

Values are compared with ``jax.hessian`` / ``jax.jacfwd`` in float64 (see tests/conftest.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from asdex_pipe import (
    hessian,
    hessian_coloring,
    hessian_from_coloring,
    jacobian,
    jacobian_coloring,
    jacobian_from_coloring,
    value_and_hessian,
    value_and_hessian_from_coloring,
    value_and_jacobian,
    value_and_jacobian_from_coloring,
)
from tests.differentiation.helpers import (
    hvp_coloring,
    rosenbrock,
    to_dense,
    tridiagonal,
)

X = jnp.asarray([0.3, -1.2, 0.7, 2.0])


def _dense_h(f, x):
    n = x.size
    return np.asarray(jax.jit(jax.hessian(f))(x)).reshape(n, n)


# ------------------------------------------------------------------ 1. value shapes
#: scalar functions of (4,) with output shapes (), (1,) and (1, 1); each with a nonempty
#: and an empty (linear) Hessian pattern.
SCALARS = {
    "()": lambda x: jnp.sum(x**3),
    "(1,)": lambda x: jnp.sum(x**3, keepdims=True),
    "(1,1)": lambda x: jnp.sum(x**3).reshape(1, 1),
    "() linear": lambda x: jnp.sum(2.0 * x),
    "(1,) linear": lambda x: jnp.sum(2.0 * x, keepdims=True),
    "(1,1) linear": lambda x: jnp.sum(2.0 * x).reshape(1, 1),
}


def _value_builders(f):
    """(name, function x -> (value, H)) for every value_and_hessian route."""
    coloring = hessian_coloring(f, 4)
    return [
        ("value_and_hessian", value_and_hessian(f, 4)),
        ("rev_over_rev chunked", value_and_hessian(f, 4, mode="rev_over_rev", chunk_size=1)),
        ("args form", value_and_hessian(f, args=(X,))),
        ("from_coloring", value_and_hessian_from_coloring(f, coloring)),
    ]


# "(1,) linear" is slow: test_value_with_aux_has_the_output_shape_of_f runs it by default.
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow if n == "(1,) linear" else ()) for n in SCALARS],
)
def test_value_has_the_output_shape_of_f(name):
    f = SCALARS[name]
    want = f(X)
    h_ref = _dense_h(lambda y: jnp.sum(f(y)), X)
    for route, fn in _value_builders(f):
        for call in (fn, jax.jit(fn)):
            value, h = call(X)
            assert value.shape == want.shape, (route, value.shape, want.shape)
            assert value.dtype == want.dtype, route
            np.testing.assert_allclose(np.asarray(value), np.asarray(want), rtol=1e-14)
            np.testing.assert_allclose(to_dense(h), h_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["(1,)", "(1,) linear"])
def test_value_with_aux_has_the_output_shape_of_f(name):
    f = SCALARS[name]

    def fa(x):
        return f(x), {"sq": x**2}

    for fn in (
        value_and_hessian(fa, 4, has_aux=True),
        value_and_hessian(fa, args=(X,), has_aux=True),
    ):
        (value, aux), _ = fn(X)
        assert value.shape == (1,)
        np.testing.assert_allclose(np.asarray(aux["sq"]), np.asarray(X**2), rtol=1e-14)


def test_jacobian_value_keeps_shape_also_with_empty_pattern():
    # Guard (this already held): Jacobian values keep f's pytree and shapes.
    for f in (lambda x: jnp.ones((2, 1)) + 0.0 * x[0], lambda x: {"a": x[:2].reshape(2, 1)}):
        for mode in ("fwd", "rev"):
            value, _ = value_and_jacobian(f, 4, mode=mode)(X)
            assert jax.tree.map(jnp.shape, value) == jax.tree.map(jnp.shape, f(X))


# ------------------------------------------------------------------ 2. first call in jit
def _loss(p, b):
    return jnp.sum(p["w"] ** 2 * b) + jnp.sum(jnp.sin(p["v"]) * p["v"][0])


def _resid(p, b):
    return {"r": p["w"][1:] * p["w"][:-1] * b[1:], "s": jnp.cos(p["v"])}


P = {"w": jnp.asarray([0.5, -1.0, 2.0]), "v": jnp.asarray([0.1, 0.7])}

B = jnp.asarray([1.0, 2.0, 3.0])


def _flat_ref(derivative, f, p, b):
    """JAX's matrix over the raveled differentiated argument (rows: raveled outputs)."""
    flat, unravel = ravel_pytree(p)
    out = lambda z: ravel_pytree(f(unravel(z), b))[0]  # noqa: E731
    if derivative == "hessian":
        return np.asarray(jax.jit(jax.hessian(lambda z: jnp.sum(out(z))))(flat))
    return np.asarray(jax.jit(jax.jacfwd(out))(flat))


def _from_coloring_cases():
    hc = hessian_coloring(_loss, args=(P, B))
    jc_fwd = jacobian_coloring(_resid, args=(P, B), mode="fwd")
    jc_rev = jacobian_coloring(_resid, args=(P, B), mode="rev")
    return {
        "hessian": lambda: hessian_from_coloring(_loss, hc, format="dense", structure="flat"),
        "value_and_hessian": lambda: value_and_hessian_from_coloring(
            _loss, hc, format="dense", structure="flat"
        ),
        "jacobian fwd": lambda: jacobian_from_coloring(
            _resid, jc_fwd, format="dense", structure="flat"
        ),
        "jacobian rev": lambda: jacobian_from_coloring(
            _resid, jc_rev, format="dense", structure="flat"
        ),
        "value_and_jacobian": lambda: value_and_jacobian_from_coloring(
            _resid, jc_fwd, format="dense", structure="flat"
        ),
    }


CASES = _from_coloring_cases()


# Every case is first called in jit by default; "eager first" (the control) runs by default
# for the Hessian and a Jacobian, and for the other cases under -m slow.
@pytest.mark.parametrize(
    "case, order",
    [
        pytest.param(
            case,
            order,
            id=f"{case}-{order}",
            marks=pytest.mark.slow
            if order == "eager first" and case not in ("hessian", "jacobian fwd")
            else (),
        )
        for case in CASES
        for order in ("jit first", "eager first")
    ],
)
def test_from_coloring_first_called_in_jit(case, order):
    """Colorings built from sample arguments record the structure; the function is then
    built on its first call, which may be inside the caller's jit."""
    fn = CASES[case]()
    kind = "hessian" if "hessian" in case else "jacobian"
    f = _loss if kind == "hessian" else _resid
    ref = _flat_ref(kind, f, P, B)
    jitted = jax.jit(fn)
    calls = [jitted, fn] if order == "jit first" else [fn, jitted]
    p2 = jax.tree.map(lambda a: a + 0.25, P)
    for call in [*calls, *calls]:
        out = call(P, B)
        matrix = out[1] if case.startswith("value") else out
        np.testing.assert_allclose(np.asarray(matrix), ref, rtol=1e-12, atol=1e-12)
        if case.startswith("value"):
            want = f(P, B)
            assert jax.tree.structure(out[0]) == jax.tree.structure(want)
            for a, b in zip(jax.tree.leaves(out[0]), jax.tree.leaves(want), strict=True):
                assert a.shape == b.shape
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14)
    # jitted again at another point: the cached program takes the new values
    out = jitted(p2, B)
    matrix = out[1] if case.startswith("value") else out
    np.testing.assert_allclose(np.asarray(matrix), _flat_ref(kind, f, p2, B), rtol=1e-12)


def test_builder_called_inside_jit_then_reused_outside():
    """Built while the caller's jit traces (plans, device arrays), then used eagerly."""
    coloring = hessian_coloring(_loss, args=(P, B))
    box = {}

    @jax.jit
    def inside(p, b):
        box["fn"] = hessian_from_coloring(_loss, coloring, args=(p, b), format="dense")
        return box["fn"](p, b)

    inside(P, B)
    h = box["fn"](P, B)
    np.testing.assert_allclose(
        np.asarray(h["w"]["w"]), np.asarray(jax.jit(jax.hessian(_loss))(P, B)["w"]["w"]), rtol=1e-12
    )


def test_seeds_tuned_after_a_first_call_in_jit():
    n = 10_000
    f = lambda x: jnp.sum(x[1:] * x[:-1]) + jnp.sum(x**4)  # noqa: E731
    # From sample arguments: the coloring records them and the function is built on its
    # first call, here inside jit.
    coloring = hessian_coloring(f, args=(jnp.zeros(n),))
    fn = hessian_from_coloring(f, coloring, structure="flat")
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, n))
    h_jit = jax.jit(fn)(x)
    assert fn.seeds == "constant"  # 10^4 × few colors: constant by size
    fn.tune_seeds(x)
    h = fn(x)
    assert fn.seeds in ("constant", "indexed")
    np.testing.assert_allclose(np.asarray(h.data), np.asarray(h_jit.data), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(jax.jit(fn)(x).data), np.asarray(h.data), rtol=1e-13)


# ------------------------------------------------------------------ 3. non-array aux
AUXES = {
    "string": lambda x: "hello",
    "dict of floats": lambda x: {"a": 1.0, "b": 2.5},
    "None": lambda x: None,
    "mixed": lambda x: {"arr": x**2, "num": 3.0, "name": "w", "nest": [None, (1, "t")]},
    "numpy": lambda x: np.arange(3.0),
}


def _same_aux(ours, ref):
    """Same tree; array leaves equal as arrays, other leaves equal and of the same type."""
    leaves, tree = jax.tree.flatten(ours)
    ref_leaves, ref_tree = jax.tree.flatten(ref)
    assert tree == ref_tree
    for a, b in zip(leaves, ref_leaves, strict=True):
        if isinstance(b, jax.Array):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14)
        else:
            assert type(a) is type(b), (a, b)
            np.testing.assert_array_equal(a, b)


# "string" and "dict of floats" are slow: "mixed" has a string and a float leaf in a dict.
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow if n in ("string", "dict of floats") else ())
        for n in AUXES
    ],
)
def test_aux_that_is_not_an_array(name):
    make_aux = AUXES[name]

    def f(x):
        return jnp.sum(x[1:] ** 2 * x[:-1]), make_aux(x)

    def r(x):
        return x[1:] * x[:-1], make_aux(x)

    # jax.jacrev passes aux through as it is (jax.hessian refuses strings under vmap).
    ref_aux = jax.jacrev(f, has_aux=True)(X)[1]
    h_ref = _dense_h(lambda y: f(y)[0], X)
    j_ref = np.asarray(jax.jit(jax.jacfwd(lambda y: r(y)[0]))(X))
    hc, jc = hessian_coloring(f, 4, has_aux=True), jacobian_coloring(r, 4, has_aux=True)
    for fn in (
        hessian(f, 4, has_aux=True),
        hessian(f, args=(X,), has_aux=True),
        hessian_from_coloring(f, hc, has_aux=True),
    ):
        for _ in range(2):  # the second call runs the cached program
            h, aux = fn(X)
            np.testing.assert_allclose(to_dense(h), h_ref, rtol=1e-12)
            _same_aux(aux, ref_aux)
        # inside the caller's jit (which itself can only return the array parts)
        h = jax.jit(lambda x, fn=fn: fn(x)[0])(X)
        np.testing.assert_allclose(to_dense(h), h_ref, rtol=1e-12)
    (value, aux), h = value_and_hessian(f, 4, has_aux=True)(X)
    np.testing.assert_allclose(float(value), float(f(X)[0]), rtol=1e-14)
    _same_aux(aux, ref_aux)
    for fn in (
        jacobian(r, 4, has_aux=True),
        jacobian_from_coloring(r, jc, has_aux=True),
        jacobian(r, args=(X,), has_aux=True, mode="rev"),
    ):
        j, aux = fn(X)
        np.testing.assert_allclose(to_dense(j), j_ref, rtol=1e-12)
        _same_aux(aux, ref_aux)
    (value, aux), j = value_and_jacobian(r, 4, has_aux=True)(X)
    np.testing.assert_allclose(np.asarray(value), np.asarray(r(X)[0]), rtol=1e-14)
    _same_aux(aux, ref_aux)


N = 16

_I = np.arange(N)

STAR = hvp_coloring(tridiagonal(N), _I % 3, "star")


def test_auto_seeds_decide_by_size_and_tune_seeds_times_both():
    n = 10_000
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, n))
    fn = hessian(rosenbrock, input_shape=n)
    # 3 colors × 10^4: constant seeds, and no other program is built.
    assert fn.seeds == "constant" and list(fn.programs) == ["constant"]
    big = hessian_from_coloring(rosenbrock, hessian_coloring(rosenbrock, 400_000))
    assert big.seeds == "indexed"  # 3 × 4·10^5 seed entries > 2^20
    h = fn(x)
    timings = fn.tune_seeds(x)
    assert set(timings) == {"constant", "indexed"} and all(t > 0 for t in timings.values())
    assert fn.seeds in ("constant", "indexed") and list(fn.programs) == [fn.seeds]
    np.testing.assert_allclose(fn(x).data, h.data, rtol=1e-13)
    np.testing.assert_allclose(h.data, hessian(rosenbrock, n, seeds="indexed")(x).data)


def test_unknown_seeds_fail_before_detection():
    with pytest.raises(ValueError, match="seeds must be one of"):
        hessian(lambda x: jnp.sum(x**2), input_shape=4, seeds="random")
