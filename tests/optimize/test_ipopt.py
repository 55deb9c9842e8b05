"""minimize_ipopt: known optima, pytree inputs, callback errors reaching the caller, bad input.

Skipped when cyipopt (the ``ipopt`` extra) is not importable.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("cyipopt")

from asdex_pipe import hessian_coloring
from asdex_pipe.objectives.constrained import (
    HS071_F_STAR,
    hs071_problem,
    optimal_control_problem,
)
from asdex_pipe.optimize.ipopt import minimize_ipopt

HS = hs071_problem()


def _solve_hs071(**kw):
    return minimize_ipopt(
        HS.fun, HS.x0, constraints=HS.constraints, cl=HS.cl, cu=HS.cu, lb=HS.lb, ub=HS.ub, **kw
    )


def test_hs071_reaches_known_optimum_without_touching_global_x64():
    with jax.enable_x64(False):
        res = _solve_hs071()
        assert not jax.config.jax_enable_x64
    assert res.status == 0 and res.success
    np.testing.assert_allclose(res.fun, HS071_F_STAR, rtol=1e-6)
    assert res.constraint_violation < 1e-6
    assert res.x.dtype == np.float64 and res.x.shape == (4,)
    # KKT at the solution: ∇f + J^T mult_g + mult_x_U - mult_x_L = 0 (IPOPT's sign rule).
    grad = np.asarray(jax.grad(HS.fun)(jnp.asarray(res.x)))
    jac = np.asarray(jax.jit(jax.jacfwd(HS.constraints))(jnp.asarray(res.x)))
    residual = grad + jac.T @ res.mult_g - res.mult_x_L + res.mult_x_U
    assert np.max(np.abs(residual)) < 1e-6
    assert res.iterations > 0 and res.timings["callbacks"]["hessian"]["calls"] > 0
    assert res.timings["callbacks_s"] <= res.timings["solve_s"]
    assert res.hessian_nnz == 10  # dense 4×4 lower triangle: HS071 couples everything


def test_hs071_limited_memory_and_dense_routes_agree():
    lbfgs = _solve_hs071(hessian="limited-memory")
    dense = _solve_hs071(hessian="dense")
    for res in (lbfgs, dense):
        np.testing.assert_allclose(res.fun, HS071_F_STAR, rtol=1e-6)
    assert lbfgs.timings["callbacks"]["hessian"]["calls"] == 0
    assert lbfgs.hessian_nnz is None


def test_optimal_control_solved_and_matches_dense_route():
    p = optimal_control_problem((200,))
    kw = dict(constraints=p.constraints, cl=p.cl, cu=p.cu, lb=p.lb, ub=p.ub)
    sparse = minimize_ipopt(p.fun, p.x0, algorithm="acyclic", **kw)
    assert sparse.status == 0
    assert sparse.constraint_violation < 1e-8
    # The control bound is active somewhere: the problem is not a plain equality QP.
    u = sparse.x[100:]
    assert np.max(np.abs(u)) > 1.0 - 1e-6
    # Tridiagonal state block + control diagonal: a handful of colors, ~2n entries.
    assert sparse.hessian_colors <= 4
    assert sparse.hessian_nnz < 2 * 200
    dense = minimize_ipopt(p.fun, p.x0, hessian="dense", **kw)
    np.testing.assert_allclose(sparse.fun, dense.fun, rtol=1e-9)
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-6)


def test_pytree_x0_and_bounds():
    x0 = {"a": HS.x0[:2], "b": HS.x0[2:]}

    def fun(p):
        return HS.fun(jnp.concatenate([p["a"], p["b"]]))

    def cons(p):
        return HS.constraints(jnp.concatenate([p["a"], p["b"]]))

    ub = {"a": np.full(2, 5.0), "b": np.full(2, 5.0)}
    res = minimize_ipopt(fun, x0, constraints=cons, cl=HS.cl, cu=HS.cu, lb=1.0, ub=ub)
    np.testing.assert_allclose(res.fun, HS071_F_STAR, rtol=1e-6)
    assert set(res.x) == {"a", "b"} and res.x["b"].shape == (2,)
    assert set(res.mult_x_L) == {"a", "b"}


def test_float32_needs_opt_in():
    x0 = HS.x0.astype(np.float32)
    kw = dict(constraints=HS.constraints, cl=HS.cl, cu=HS.cu, lb=HS.lb, ub=HS.ub)
    with pytest.raises(ValueError, match="allow_float32"):
        minimize_ipopt(HS.fun, x0, **kw)
    res = minimize_ipopt(HS.fun, x0, allow_float32=True, options={"tol": 1e-5}, **kw)
    np.testing.assert_allclose(res.fun, HS071_F_STAR, rtol=1e-4)


def test_exception_in_hessian_callback_reaches_caller_and_stops_ipopt():
    # The tripwire sits in the second derivative only (a custom_jvp rule inside the
    # gradient's backward rule), so objective and gradient run clean; it fires once IPOPT
    # has moved off x0, which cyipopt alone would swallow and continue with stale values.
    x0 = np.full(5, 3.0)
    calls = {"after_error": 0, "fired": False, "first": None}

    def trip(x):
        if calls["fired"]:
            calls["after_error"] += 1
        if calls["first"] is None:
            calls["first"] = np.asarray(x).copy()
        if not np.array_equal(np.asarray(x), calls["first"]):
            calls["fired"] = True
            raise RuntimeError("second-order tripwire")

    @jax.custom_jvp
    def grad_of_quartic(x):
        return 4 * x**3

    @grad_of_quartic.defjvp
    def _(primals, tangents):
        (x,), (v,) = primals, tangents
        jax.debug.callback(trip, x)
        return 4 * x**3, 12 * x**2 * v

    @jax.custom_vjp
    def quartic(x):
        return jnp.sum(x**4)

    quartic.defvjp(lambda x: (quartic(x), x), lambda x, g: (g * grad_of_quartic(x),))

    # The coloring comes from the same function without the tripwire (a diagonal pattern),
    # handed in as a stored coloring would be.
    coloring = hessian_coloring(lambda x: jnp.sum((x - 1.0) ** 4 + x**2), 5)
    with pytest.raises(Exception, match="second-order tripwire") as info:
        minimize_ipopt(
            lambda x: quartic(x - 1.0) + jnp.sum(x**2),
            x0,
            mode="rev_over_rev",
            coloring=coloring,
        )
    assert any("hessian callback" in note for note in getattr(info.value, "__notes__", []))
    assert calls["fired"] and calls["after_error"] == 0


def test_exception_in_objective_callback_reaches_caller():
    x0 = np.zeros(3)

    def trip(x):
        if np.abs(np.asarray(x)).max() > 0:
            raise FloatingPointError("objective tripwire")

    def fun(x):
        jax.debug.callback(trip, x)
        return jnp.sum((x - 2.0) ** 2)

    with pytest.raises(Exception, match="objective tripwire"):
        minimize_ipopt(fun, x0, hessian="limited-memory")


def test_bad_input_refused_before_ipopt_starts():
    kw = dict(constraints=HS.constraints, cl=HS.cl, cu=HS.cu)
    with pytest.raises(ValueError, match="lb has shape"):
        minimize_ipopt(HS.fun, HS.x0, lb=np.ones(3), **kw)
    with pytest.raises(ValueError, match="cl has shape"):
        minimize_ipopt(HS.fun, HS.x0, constraints=HS.constraints, cl=np.zeros(3), cu=HS.cu)
    with pytest.raises(ValueError, match=r"lower bound 5\.0 > upper bound 1\.0"):
        minimize_ipopt(HS.fun, HS.x0, lb=5.0, ub=1.0, **kw)
    with pytest.raises(ValueError, match="1-D array of constraint values"):
        minimize_ipopt(HS.fun, HS.x0, constraints=lambda x: jnp.sum(x))
    with pytest.raises(ValueError, match="must return a scalar"):
        minimize_ipopt(lambda x: x, HS.x0)
    with pytest.raises(ValueError, match="NaN or inf"):
        minimize_ipopt(HS.fun, np.array([1.0, np.nan, 1.0, 1.0]))
    with pytest.raises(ValueError, match="hessian must be one of"):
        minimize_ipopt(HS.fun, HS.x0, hessian="bfgs")
    with pytest.raises(ValueError, match="IPOPT refused option"):
        minimize_ipopt(HS.fun, HS.x0, options={"no_such_option": 1})
    with pytest.raises(ValueError, match="must be a str, int or float"):
        minimize_ipopt(HS.fun, HS.x0, options={"tol": [1e-8]})
    with pytest.raises(ValueError, match="no constraints"):
        minimize_ipopt(HS.fun, HS.x0, cl=[0.0])
