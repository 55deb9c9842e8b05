"""The reusable :class:`IpoptProblem` (build once, solve with new data) and the CasADi backend.

Skipped when cyipopt is missing; the CasADi tests also when casadi (the ``casadi`` extra)
is missing.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("cyipopt")

from asdex_pipe.objectives.constrained import (
    HS071_F_STAR,
    hs071_problem,
    optimal_control_problem,
)
from asdex_pipe.optimize import problem as problem_module
from asdex_pipe.optimize.ipopt import IpoptProblem, casadi_available, minimize_ipopt
from asdex_pipe.store.artifact_store import ArtifactStore

HS = hs071_problem()
K = 21  # pendulum grid points
H = 3.0 / (K - 1)


def _pendulum(traces):
    def fun(x, bc):
        traces.append("f")
        u = x[2 * K :]
        return H * jnp.sum(u**2)

    def constraints(x, bc):
        traces.append("c")
        th, om, u = x[:K], x[K : 2 * K], x[2 * K :]
        a = -jnp.sin(th) + u
        d_th = th[1:] - th[:-1] - 0.5 * H * (om[1:] + om[:-1])
        d_om = om[1:] - om[:-1] - 0.5 * H * (a[1:] + a[:-1])
        return jnp.concatenate([d_th, d_om, jnp.stack([th[0], om[0], th[-1], om[-1]]) - bc])

    x0 = np.concatenate([np.linspace(0, np.pi, K), np.full(K, 1.0), np.zeros(K)])
    lb = np.concatenate([np.full(2 * K, -np.inf), np.full(K, -2.0)])
    ub = -lb
    return fun, constraints, x0, lb, ub


BACKENDS = [
    "cyipopt",
    pytest.param("casadi", marks=pytest.mark.skipif(not casadi_available(), reason="no casadi")),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_problem_solves_twice_with_new_data_without_rebuilding(monkeypatch, backend):
    traces = []
    fun, constraints, x0, lb, ub = _pendulum(traces)
    bc1 = np.array([0.0, 0.0, np.pi, 0.0])
    problem = IpoptProblem(
        fun, x0, constraints=constraints, data=(bc1,), lb=lb, ub=ub, backend=backend
    )
    builds, traced = IpoptProblem.builds_total, len(traces)

    def no_detection(*a, **k):
        raise AssertionError("detection ran again")

    monkeypatch.setattr(problem_module, "hessian_sparsity", no_detection)
    first = problem.solve()
    bc2 = np.array([0.0, 0.0, 0.5 * np.pi, 0.0])
    second = problem.solve(x0, bc2)
    # No rebuild and no retrace: the compiled programs ran with the new data.
    assert problem.builds == 1 and IpoptProblem.builds_total == builds
    assert len(traces) == traced
    for res, bc in ((first, bc1), (second, bc2)):
        assert res.status == 0
        x = res.x
        np.testing.assert_allclose([x[0], x[K], x[K - 1], x[2 * K - 1]], bc, atol=1e-7)
    assert second.fun < first.fun  # a shorter swing costs less control effort
    assert first.backend == second.backend == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_objective_and_gradient_share_one_evaluation(backend):
    p = optimal_control_problem((40,))
    problem = IpoptProblem(
        p.fun,
        p.x0,
        constraints=p.constraints,
        cl=p.cl,
        cu=p.cu,
        lb=p.lb,
        ub=p.ub,
        backend=backend,
    )
    calls = {"fg": 0, "cj": 0}
    programs = problem.programs
    fg, cj = programs.fg, programs.cj

    def count(name, fn):
        def wrapped(*a):
            calls[name] += 1
            return fn(*a)

        return wrapped

    programs.fg, programs.cj = count("fg", fg), count("cj", cj)
    res = problem.solve()
    cb = res.timings["callbacks"]
    assert res.status == 0
    assert calls["fg"] < cb["objective"]["calls"] + cb["gradient"]["calls"]
    assert calls["cj"] < cb["constraints"]["calls"] + cb["jacobian"]["calls"]


def test_auto_backend_prefers_casadi_when_installed():
    res = minimize_ipopt(lambda x: jnp.sum((x - 1.0) ** 2), np.zeros(3))
    assert res.backend == ("casadi" if casadi_available() else "cyipopt")
    np.testing.assert_allclose(res.x, 1.0, atol=1e-8)


def test_store_reuses_the_lagrangian_coloring(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    kw = dict(constraints=HS.constraints, cl=HS.cl, cu=HS.cu, lb=HS.lb, ub=HS.ub, store=store)
    first = IpoptProblem(HS.fun, HS.x0, **kw)
    second = IpoptProblem(HS.fun, HS.x0, **kw)
    assert first.programs.coloring_source == first.programs.jacobian_source == "detected"
    assert second.programs.coloring_source == second.programs.jacobian_source == "stored"
    assert {e.objective for e in store.entries()} == {"lagrangian-hessian", "constraint-jacobian"}
    assert (tmp_path / "store" / "jax_cache").is_dir()
    np.testing.assert_allclose(second.solve().fun, HS071_F_STAR, rtol=1e-6)


def test_store_given_as_a_path_and_the_default_compilation_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASDEX_PIPE_CACHE_DIR", str(tmp_path / "default_cache"))
    kw = dict(constraints=HS.constraints, cl=HS.cl, cu=HS.cu, lb=HS.lb, ub=HS.ub)
    # No store: the build's programs land in the default cache directory.
    IpoptProblem(HS.fun, HS.x0, **kw)
    assert any((tmp_path / "default_cache").iterdir())
    # compilation_cache=False: nothing is written anywhere.
    IpoptProblem(HS.fun, HS.x0, compilation_cache=False, **kw, store=None)
    assert jax.config.jax_compilation_cache_dir is None  # JAX's setting restored
    # A path is a store root: the second build reuses what the first one stored there.
    root = str(tmp_path / "by_path")
    IpoptProblem(HS.fun, HS.x0, store=root, **kw)
    again = IpoptProblem(HS.fun, HS.x0, store=root, **kw)
    assert again.programs.coloring_source == again.programs.jacobian_source == "stored"
    assert any((tmp_path / "by_path" / "jax_cache").iterdir())
    with pytest.raises(ValueError, match="store root is empty"):
        IpoptProblem(HS.fun, HS.x0, store="", **kw)


def test_data_of_another_shape_is_refused():
    fun, constraints, x0, lb, ub = _pendulum([])
    problem = IpoptProblem(fun, x0, constraints=constraints, data=(np.zeros(4),), lb=lb, ub=ub)
    with pytest.raises(ValueError, match="shape"):
        problem.solve(x0, np.zeros(3))


# ------------------------------------------------------------------ CasADi backend
def test_casadi_backend_hs071():
    pytest.importorskip("casadi")
    with jax.enable_x64(False):
        res = minimize_ipopt(
            HS.fun, HS.x0, constraints=HS.constraints, cl=HS.cl, cu=HS.cu, lb=HS.lb,
            ub=HS.ub, backend="casadi",
        )  # fmt: skip
    assert res.status == 0 and res.success
    np.testing.assert_allclose(res.fun, HS071_F_STAR, rtol=1e-6)
    grad = np.asarray(jax.grad(HS.fun)(jnp.asarray(res.x)))
    jac = np.asarray(jax.jacfwd(HS.constraints)(jnp.asarray(res.x)))
    residual = grad + jac.T @ res.mult_g - res.mult_x_L + res.mult_x_U
    assert np.max(np.abs(residual)) < 1e-6
    assert res.iterations > 0 and res.timings["callbacks"]["hessian"]["calls"] > 0


def test_casadi_backend_matches_cyipopt_on_optimal_control_and_reuses_its_solver():
    pytest.importorskip("casadi")
    p = optimal_control_problem((200,))
    kw = dict(constraints=p.constraints, cl=p.cl, cu=p.cu, lb=p.lb, ub=p.ub)
    ours = minimize_ipopt(p.fun, p.x0, backend="cyipopt", **kw)
    assert ours.backend == "cyipopt"
    problem = IpoptProblem(p.fun, p.x0, backend="casadi", **kw)
    first = problem.solve()
    again = problem.solve()
    assert first.status == 0 and again.status == 0
    np.testing.assert_allclose(first.fun, ours.fun, rtol=1e-6)
    np.testing.assert_allclose(first.x, ours.x, atol=1e-6)
    assert len(problem._casadi_solvers) == 1
    assert again.iterations == first.iterations


def test_casadi_backend_reports_a_failing_callback():
    pytest.importorskip("casadi")
    problem = IpoptProblem(lambda x: jnp.sum(x**4), np.ones(3), backend="casadi")

    def boom(*args):
        raise RuntimeError("boom")

    problem.programs.hess = boom
    with pytest.raises(RuntimeError, match="boom"):
        problem.solve()


def test_fresh_process_gets_synchronous_cpu_dispatch():
    import subprocess
    import sys

    code = (
        "import numpy as np, jax.numpy as jnp\n"
        "from asdex_pipe.optimize.ipopt import IpoptProblem\n"
        "p = IpoptProblem(lambda x: jnp.sum(x**2), np.ones(2), backend='cyipopt')\n"
        "q = IpoptProblem(lambda x: jnp.sum(x**4), np.ones(2), backend='cyipopt', "
        "sync_dispatch=False)\n"
        "print(p.sync_dispatch, q.sync_dispatch, p.solve().status)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "0"]
