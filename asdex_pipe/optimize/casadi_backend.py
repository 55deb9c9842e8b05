"""CasADi's Ipopt with our derivatives: the ``backend="casadi"`` route of :class:`IpoptProblem`.

The problem's compiled programs are handed to ``casadi.nlpsol("ipopt")`` as CasADi
functions (``casadi.Callback`` with the copy-free ``eval_buffer`` interface and their
sparsity patterns): ``f`` and ``g`` for the NLP itself and, through nlpsol's ``grad_f``,
``jac_g`` and ``hess_lag`` options, our gradient, constraint Jacobian (column-major, as
CasADi stores it) and Lagrangian Hessian (CasADi wants the upper triangle; column-major
order of the upper triangle is the row-major order of our lower triangle). CasADi never
differentiates anything itself: it supplies its bundled Ipopt and MUMPS.

The solver is built once per problem and option set and kept; data arguments reach the
callbacks through the shared evaluator, so a new solve with new data rebuilds nothing.

Needs the optional extra ``pip install -e ".[casadi]"``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def import_casadi() -> Any:
    """Import casadi, or raise ImportError naming the extra that provides it."""
    try:
        import casadi
    except ImportError as exc:
        raise ImportError(
            f"backend='casadi' needs casadi: pip install 'asdex_pipe[casadi]'; import failed: {exc}"
        ) from exc
    return casadi


class _Failed(RuntimeError):
    """A callback failed; CasADi sees a failed evaluation, the caller the original error."""


def _callback_class(ca: Any) -> type:
    class _Fn(ca.Callback):
        """One CasADi function over numpy buffers: ``run(args) -> values`` (nonzeros,
        column-major)."""

        def __init__(self, name, sp_in, sp_out, run):
            ca.Callback.__init__(self)
            self._sp_in, self._sp_out, self._run = sp_in, sp_out, run
            self.construct(name, {})

        def get_n_in(self):
            return len(self._sp_in)

        def get_n_out(self):
            return len(self._sp_out)

        def get_sparsity_in(self, i):
            return self._sp_in[i]

        def get_sparsity_out(self, i):
            return self._sp_out[i]

        def has_eval_buffer(self):
            return True

        def eval_buffer(self, arg, res):
            try:
                outs = self._run(
                    [
                        np.zeros(sp.nnz()) if a is None else np.frombuffer(a, dtype=np.float64)
                        for a, sp in zip(arg, self._sp_in, strict=True)
                    ]
                )
            except _Failed:
                return 1
            for r, out in zip(res, outs, strict=True):
                if r is not None:
                    np.frombuffer(r, dtype=np.float64)[:] = out
            return 0

    return _Fn


class _Evaluator:
    """Our callbacks (:class:`asdex_pipe.optimize.ipopt._Callbacks`) as CasADi buffers."""

    def __init__(self, callbacks: Any, jac_perm: np.ndarray | None, hess_perm: np.ndarray | None):
        self.cb = callbacks
        self.jac_perm, self.hess_perm = jac_perm, hess_perm

    def f(self, a):
        return [self.cb.objective(a[0])]

    def g(self, a):
        return [self.cb.constraints(a[0])]

    def grad_f(self, a):
        x = a[0]
        return [self.cb.objective(x), self.cb.gradient(x)]

    def jac_g(self, a):
        x = a[0]
        vals = self.cb.jacobian(x)
        return [self.cb.constraints(x), vals if self.jac_perm is None else vals[self.jac_perm]]

    def hess_lag(self, a):
        vals = self.cb.hessian(a[0], a[3], float(a[2][0]))
        return [vals if self.hess_perm is None else vals[self.hess_perm]]


def _ccs(ca: Any, nrow: int, ncol: int, rows: np.ndarray, cols: np.ndarray):
    """CasADi sparsity of these entries and the permutation from our order to its
    column-major order (None when it is the identity)."""
    perm = np.lexsort((rows, cols))
    sp = ca.Sparsity.triplet(
        nrow, ncol, rows.astype(np.int64).tolist(), cols.astype(np.int64).tolist()
    )
    return sp, (None if np.array_equal(perm, np.arange(perm.size)) else perm)


class _Shared:
    """What one problem's CasADi solvers share: the callbacks (rebound per solve)."""

    def __init__(self):
        self.callbacks = None

    def __getattr__(self, name):
        return getattr(self.__dict__["callbacks"], name)


def _solver(problem: Any, options: dict[str, Any]) -> tuple[Any, Any, list]:
    """CasADi's Ipopt for ``problem`` (built once per option set, kept on the problem)."""
    key = tuple(sorted((k, str(v)) for k, v in options.items()))
    if key in problem._casadi_solvers:
        return problem._casadi_solvers[key]
    ca = import_casadi()
    fn = _callback_class(ca)
    p = problem.programs
    n, m = p.n, p.m
    dense = ca.Sparsity.dense
    shared = _Shared()
    jac_perm = hess_perm = None
    sp_x, sp_p, sp_1 = dense(n, 1), dense(0, 1), dense(1, 1)
    if m:
        sp_jac, jac_perm = _ccs(ca, m, n, p.jac_rows, p.jac_cols)
    evaluator = _Evaluator(shared, jac_perm, None)
    keep = []  # the callbacks must outlive the solver
    f_fn = fn("f", [sp_x, sp_p], [sp_1], evaluator.f)
    keep.append(f_fn)
    x = ca.MX.sym("x", n)
    par = ca.MX.sym("p", 0, 1)
    nlp = {"x": x, "p": par, "f": f_fn(x, par)}
    opts: dict[str, Any] = {}
    grad = fn("grad_f", [sp_x, sp_p], [sp_1, sp_x], evaluator.grad_f)
    keep.append(grad)
    opts["grad_f"] = grad
    if m:
        g_fn = fn("g", [sp_x, sp_p], [dense(m, 1)], evaluator.g)
        jac = fn("jac_g", [sp_x, sp_p], [dense(m, 1), sp_jac], evaluator.jac_g)
        keep += [g_fn, jac]
        nlp["g"] = g_fn(x, par)
        opts["jac_g"] = jac
    if p.hess is not None:
        # Upper triangle (col <= row swapped): entry (cols, rows) of ours.
        sp_h, hess_perm = _ccs(ca, n, n, p.hess_cols, p.hess_rows)
        evaluator.hess_perm = hess_perm
        hess = fn("hess_lag", [sp_x, sp_p, sp_1, dense(m, 1)], [sp_h], evaluator.hess_lag)
        keep.append(hess)
        opts["hess_lag"] = hess
    else:
        options = {**options, "hessian_approximation": "limited-memory"}
    opts["ipopt"] = dict(options)
    opts["print_time"] = False
    opts["error_on_fail"] = False
    # nlp_grad (for lam_p) would differentiate f and g through CasADi; Ipopt gives lam_x.
    opts["calc_lam_p"] = False
    opts["no_nlp_grad"] = True
    try:
        solver = ca.nlpsol("solver", "ipopt", nlp, opts)
    except RuntimeError as exc:
        if "option" not in str(exc).lower():
            raise
        bad = str(exc).strip().splitlines()[-1]
        raise ValueError(f"IPOPT refused option (unknown name or wrong type): {bad}") from None
    problem._casadi_solvers[key] = (solver, shared, keep)
    return solver, shared, keep


def solve_casadi(problem, flat0, data, x_lb, x_ub, g_lo, g_hi, options, t_start):
    """One solve of ``problem`` with CasADi's Ipopt; an :class:`IpoptResult`."""
    from asdex_pipe.optimize.ipopt import _Callbacks

    solver, shared, _ = _solver(problem, options)
    callbacks = _Callbacks(None, problem.programs, data, problem.dtype, error=_Failed)
    shared.callbacks = callbacks
    setup_s = time.perf_counter() - t_start
    t_solve = time.perf_counter()
    sol = solver(x0=flat0.astype(np.float64), lbx=x_lb, ubx=x_ub, lbg=g_lo, ubg=g_hi, p=np.zeros(0))
    solve_s = time.perf_counter() - t_solve
    if callbacks.error is not None:
        kind, exc = callbacks.error
        exc.add_note(f"raised in the casadi backend's {kind} callback; IPOPT was stopped")
        raise exc
    stats = solver.stats()
    callbacks.iterations = int(stats.get("iter_count", 0))
    status = _STATUS.get(stats.get("return_status", ""), -100)
    return problem.result(
        np.asarray(sol["x"]).reshape(-1), float(sol["f"]), np.asarray(sol["g"]).reshape(-1),
        np.asarray(sol["lam_g"]).reshape(-1), np.maximum(-np.asarray(sol["lam_x"]), 0.0),
        np.maximum(np.asarray(sol["lam_x"]), 0.0), status, str(stats.get("return_status")),
        callbacks, (x_lb, x_ub, g_lo, g_hi), setup_s, solve_s, time.perf_counter() - t_start,
    )  # fmt: skip


# CasADi reports Ipopt's ApplicationReturnStatus by name.
_STATUS = {
    "Solve_Succeeded": 0,
    "Solved_To_Acceptable_Level": 1,
    "Infeasible_Problem_Detected": 2,
    "Search_Direction_Becomes_Too_Small": 3,
    "Diverging_Iterates": 4,
    "User_Requested_Stop": 5,
    "Feasible_Point_Found": 6,
    "Maximum_Iterations_Exceeded": -1,
    "Restoration_Failed": -2,
    "Error_In_Step_Computation": -3,
    "Maximum_CpuTime_Exceeded": -4,
    "Maximum_WallTime_Exceeded": -5,
    "Not_Enough_Degrees_Of_Freedom": -10,
    "Invalid_Problem_Definition": -11,
    "Invalid_Option": -12,
    "Invalid_Number_Detected": -13,
}
