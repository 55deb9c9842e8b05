"""What the sparse Hessian buys an optimizer: trust-region Newton-CG with the sparse Hessian
against the matrix-free HVP variant and scipy's L-BFGS-B, from the same starting point."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from asdex_pipe.pattern import ColoredPattern
from asdex_pipe.pipeline.progress import Progress


def run_lbfgs(
    f: Callable, x0: np.ndarray, gtol: float, max_iter: int, progress: Progress
) -> dict[str, Any]:
    """scipy L-BFGS-B with a jitted value-and-gradient; history of (seconds, |g|, f).

    Args:
        f: scalar JAX function of an array of ``x0``'s shape.
        x0: starting point.
        gtol: stop when the gradient's max-norm (scipy's projected gradient) <= gtol.
        max_iter: iteration limit.
        progress: progress reporter.
    """
    shape, dtype = x0.shape, x0.dtype
    vg = jax.jit(jax.value_and_grad(f))
    counts = {"nfev": 0}

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        counts["nfev"] += 1
        v, g = vg(jnp.asarray(z.reshape(shape), dtype))
        return float(v), np.asarray(g, dtype=np.float64).reshape(-1)

    history: list[tuple[float, float, float]] = []
    vg(jnp.asarray(x0, dtype))  # compile outside the timed run, as for trust-NCG
    t0 = time.perf_counter()
    v0, g0 = fun(x0.reshape(-1).astype(np.float64))
    history.append((0.0, float(np.linalg.norm(g0)), v0))

    def callback(intermediate_result: Any) -> None:
        z = intermediate_result.x
        v, g = vg(jnp.asarray(z.reshape(shape), dtype))
        gn = float(jnp.linalg.norm(g))
        history.append((time.perf_counter() - t0, gn, float(v)))
        progress.update(len(history) - 1, float(v), gn)

    res = scipy.optimize.minimize(
        fun,
        x0.reshape(-1).astype(np.float64),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        # scipy stops on the gradient's max-norm; gtol/sqrt(n) keeps it from stopping before
        # the 2-norm criterion the trust-region runs use could hold.
        options={"maxiter": max_iter, "gtol": gtol / np.sqrt(x0.size), "ftol": 0.0, "maxcor": 20},
    )
    wall = time.perf_counter() - t0
    v, g = vg(jnp.asarray(res.x.reshape(shape), dtype))
    gn = float(jnp.linalg.norm(g))
    return {
        "iterations": int(res.nit),
        "nfev": counts["nfev"],
        "ngev": counts["nfev"],
        "nhev": 0,
        "f": float(v),
        "grad_norm": gn,
        "wall_s": wall,
        "success": gn <= gtol,
        "message": str(res.message),
        "history": history,
    }


def compare_optimizers(
    f: Callable,
    x0: np.ndarray,
    coloring: ColoredPattern,
    mode: str,
    gtol: float,
    max_iter: int,
) -> dict[str, dict[str, Any]]:
    """Run trust-NCG (sparse and hvp back ends) and L-BFGS-B from ``x0``.

    Returns:
        ``{"trust_ncg_sparse": {...}, "trust_ncg_hvp": {...}, "lbfgs": {...}}``, each with
        iterations, nfev, ngev, nhev, f, grad_norm, wall_s, success and the history.
    """
    from asdex_pipe.frontdoor import hessian_from_coloring
    from asdex_pipe.optimize import minimize_trust_ncg

    out: dict[str, dict[str, Any]] = {}
    hess_fn = jax.jit(hessian_from_coloring(f, coloring, mode=mode))
    for backend in ("sparse", "hvp"):
        label = f"trust_ncg_{backend}"
        progress = Progress(f"trust_ncg[{backend}]")
        options = {
            "hessian": backend,
            "hess_fn": hess_fn if backend == "sparse" else None,
            "mode": mode,
            "gtol": gtol,
        }
        # One iteration first: it compiles what the run reuses, so the timed run (and the
        # convergence plot) compare iterations, not compilers.
        warm = time.perf_counter()
        minimize_trust_ncg(f, x0, max_iter=1, **options)
        compile_s = time.perf_counter() - warm
        res = minimize_trust_ncg(f, x0, max_iter=max_iter, progress=progress.update, **options)
        out[label] = {
            "iterations": res.iterations,
            "nfev": res.nfev,
            "ngev": res.ngev,
            "nhev": res.nhev,
            "cg_iterations": res.cg_iterations,
            "f": float(res.fun),
            "grad_norm": float(res.grad_norm),
            "wall_s": res.wall_time,
            "warmup_s": compile_s,
            "success": bool(res.success),
            "message": res.message,
            "history": [tuple(map(float, h)) for h in res.history],
        }
        progress.close(_summary(out[label]))
    progress = Progress("L-BFGS-B")
    out["lbfgs"] = run_lbfgs(f, x0, gtol, max_iter, progress)
    progress.close(_summary(out["lbfgs"]))
    return out


def _summary(r: dict[str, Any]) -> str:
    return (
        f"{r['iterations']} iterations, f={r['f']:.6g}, |g|={r['grad_norm']:.2e}, "
        f"{r['wall_s']:.2f} s ({'converged' if r['success'] else 'not converged'})"
    )


def ipopt_study(ctx: Any, tol: float, max_iter: int) -> dict[str, Any]:
    """Solve the job's problem with IPOPT and the exact sparse Lagrangian Hessian.

    A constrained built-in objective (one with ``problem``) is solved with its constraints,
    bounds and start; anything else is minimised unconstrained from ``ctx.x0``. The job's
    stored ``HVP`` coloring (of the unit-multiplier Lagrangian for constrained objectives,
    which is the pattern for every multiplier) is reused, so IPOPT needs no detection of its
    own; column/row colorings cannot serve a Hessian and IPOPT then colors the pattern itself.

    Args:
        ctx: the job's :class:`~asdex_pipe.pipeline.context.RunContext`.
        tol: IPOPT's ``tol`` (evaluate.gtol).
        max_iter: IPOPT's ``max_iter`` (evaluate.max_iter).

    Returns:
        iterations, f (objective), grad_norm (IPOPT's final dual infeasibility), wall_s
        (time inside IPOPT), success, message, status, constraint_violation, setup_s,
        callbacks_s, hessian_call_s (median), hessian_nnz, hessian_colors, constraints (m)
        and f_star where known.
    """
    from asdex_pipe.objectives import get_objective
    from asdex_pipe.optimize.ipopt import minimize_ipopt

    problem = None if ctx.spec.fn_spec else get_objective(ctx.spec.objective_name).problem
    coloring = ctx.coloring if ctx.coloring is not None and ctx.coloring.mode == "HVP" else None
    options = {"tol": float(tol), "max_iter": int(max_iter)}
    kwargs: dict[str, Any] = {"coloring": coloring, "mode": ctx.spec.mode, "options": options}
    if ctx.spec.algorithm in ("star", "acyclic"):
        kwargs["algorithm"] = ctx.spec.algorithm
    f_star = None
    if problem is not None:
        p = problem(ctx.spec.input_shape)
        f_star = p.f_star
        res = minimize_ipopt(
            p.fun,
            np.asarray(ctx.x0, dtype=np.float64).reshape(p.x0.shape),
            constraints=p.constraints,
            cl=p.cl,
            cu=p.cu,
            lb=p.lb,
            ub=p.ub,
            **kwargs,
        )
    else:
        res = minimize_ipopt(ctx.fn, np.asarray(ctx.x0, dtype=np.float64), **kwargs)
    t = res.timings
    return {
        "iterations": res.iterations,
        "f": res.fun,
        "grad_norm": res.history[-1][3] if res.history else float("nan"),
        "wall_s": t["solve_s"],
        "success": res.success,
        "message": res.message,
        "status": res.status,
        "constraint_violation": res.constraint_violation,
        "constraints": int(res.constraints.size),
        "setup_s": t["setup_s"],
        "callbacks_s": t["callbacks_s"],
        "hessian_call_s": t["callbacks"]["hessian"]["median_s"],
        "hessian_nnz": res.hessian_nnz,
        "hessian_colors": res.hessian_colors,
        "f_star": f_star,
    }
