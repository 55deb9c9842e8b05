"""Evaluate stage: what the sparse Hessian costs next to the gradient, one HVP and dense."""

from __future__ import annotations

import json
import logging
from typing import Any

import jax
import jax.numpy as jnp

from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.progress import Progress
from asdex_pipe.pipeline.stages.coloring import require_coloring
from asdex_pipe.timing import time_call

log = logging.getLogger(__name__)


def run_evaluate(ctx: RunContext) -> dict[str, Any]:
    """Time the jitted sparse Hessian, the jitted gradient, one jitted HVP and dense jax.hessian.

    Times are medians over ``evaluate.repeats`` calls after warm-up; the first call (trace +
    compile, or a load from the persistent compilation cache, and from n = 10^4 on the
    choice of seed variant) is reported separately. Dense
    is skipped above ``evaluate.dense_max_n`` and the result says so.

    Returns:
        The figures (seconds and ratios), also stored in ``ctx.figures["evaluate"]``.
    """
    from asdex_pipe.frontdoor import hessian_from_coloring, hvp

    require_coloring(ctx)
    ecfg = ctx.cfg.evaluate
    repeats = max(1, int(ecfg.repeats))
    f, mode, n = ctx.fn, ctx.spec.mode, ctx.spec.n
    x = jnp.asarray(ctx.x0)
    v = jnp.ones_like(x)

    # Progress with an ETA over the stage's steps (a log line every few seconds when slow).
    steps = 3 + (n <= ecfg.dense_max_n) + bool(ecfg.hutchinson_probes)
    steps += ecfg.optimizer != "none"
    progress = Progress("evaluate")
    log.info(
        "  timing the sparse Hessian (%d colors, %d repeats)...", ctx.coloring.num_colors, repeats
    )
    # Called as returned (it is jitted inside): its first call may also pick the faster
    # seed variant (seeds="auto"), which a caller's jax.jit would rule out.
    hess = hessian_from_coloring(f, ctx.coloring, mode=mode)
    t_hess = time_call(hess, x, repeats=repeats)
    progress.advance(1, steps, "sparse Hessian timed")
    t_grad = time_call(jax.jit(jax.grad(f)), x, repeats=repeats)
    progress.advance(2, steps, "gradient timed")
    t_hvp = time_call(jax.jit(lambda x, v: hvp(f, x, v, mode=mode)), x, v, repeats=repeats)
    progress.advance(3, steps, "one HVP timed")
    done = 3
    figures: dict[str, Any] = {
        "n": n,
        "colors": ctx.coloring.num_colors,
        "hvps_used": ctx.coloring.num_colors,
        "hvps_dense": n,
        "sparse_hessian_s": t_hess.median,
        "sparse_hessian_compile_s": t_hess.first_call,
        "seeds": hess.seeds,
        "gradient_s": t_grad.median,
        "hvp_s": t_hvp.median,
        "sparse_over_gradient": t_hess.median / t_grad.median,
        "sparse_over_hvp": t_hess.median / t_hvp.median,
    }
    if n <= ecfg.dense_max_n:
        log.info("  timing dense jax.hessian (n=%d)...", n)
        t_dense = time_call(jax.jit(jax.hessian(f)), x, repeats=repeats)
        figures.update(
            dense_hessian_s=t_dense.median,
            dense_hessian_compile_s=t_dense.first_call,
            dense_over_sparse=t_dense.median / t_hess.median,
            dense_skipped=None,
        )
        done += 1
        progress.advance(done, steps, "dense jax.hessian timed")
    else:
        figures.update(
            dense_hessian_s=None,
            dense_skipped=f"n={n} > evaluate.dense_max_n={ecfg.dense_max_n}",
        )
    _constraint_violation(ctx, figures)
    if ecfg.hutchinson_probes:
        _hutchinson(ctx, hess(x), figures)
        done += 1
        progress.advance(done, steps, "Hutchinson study")
    if ecfg.optimizer == "trust_ncg":
        _optimizers(ctx, figures)
    elif ecfg.optimizer == "ipopt":
        from asdex_pipe.pipeline.optimizer_study import ipopt_study

        log.info("  IPOPT with the exact sparse Hessian (tol=%g)...", ecfg.gtol)
        figures["optimizers"] = {"ipopt": ipopt_study(ctx, ecfg.gtol, ecfg.max_iter)}
    progress.clear()
    ctx.figures["evaluate"] = figures
    return {"status": "computed"}


def _constraint_violation(ctx: RunContext, figures: dict[str, Any]) -> None:
    """For a constrained built-in objective: how far x0 is from feasible (the largest bound
    or constraint violation, 0 when feasible) and the number of constraints. The Hessian the
    stage times is then the unit-multiplier Lagrangian's, ``f + Σ c_i``."""
    import numpy as np

    from asdex_pipe.objectives import get_objective

    if ctx.spec.fn_spec:
        return
    builtin = get_objective(ctx.spec.objective_name)
    if getattr(builtin, "problem", None) is None:
        return
    p = builtin.problem(ctx.spec.input_shape)
    x0 = np.asarray(ctx.x0, dtype=np.float64).reshape(p.x0.shape)
    c = np.asarray(p.constraints(x0), dtype=np.float64).ravel()
    gaps = [p.cl - c, c - p.cu, p.lb - x0.ravel(), x0.ravel() - p.ub, np.zeros(1)]
    figures["constraints"] = int(c.size)
    figures["constraint_violation_x0"] = float(max(np.max(g) for g in gaps if g.size))


def _hutchinson(ctx: RunContext, h_at_x: Any, figures: dict[str, Any]) -> None:
    from asdex_pipe.pipeline.hutchinson_study import compare_hutchinson
    from asdex_pipe.pipeline.plots import plot_hutchinson

    probes = sorted(int(k) for k in ctx.cfg.evaluate.hutchinson_probes)
    log.info("  Hutchinson diagonal with %s probes...", probes)
    points = compare_hutchinson(ctx.fn, ctx.x0, h_at_x, probes, ctx.spec.mode)
    figures["hutchinson"] = points
    if not ctx.cfg.get("plots", True):
        return
    figures["hutchinson_png"] = str(
        plot_hutchinson(
            points,
            figures["sparse_hessian_s"],
            ctx.coloring.num_colors,
            ctx.out_dir / "hutchinson.png",
            f"Hutchinson vs exact sparse diagonal: {ctx.spec.objective_name}, n={ctx.spec.n}",
        )
    )


def _optimizers(ctx: RunContext, figures: dict[str, Any]) -> None:
    from asdex_pipe.pipeline.optimizer_study import compare_optimizers
    from asdex_pipe.pipeline.plots import plot_convergence

    ecfg = ctx.cfg.evaluate
    log.info("  optimizers from x0 (gtol=%g, max_iter=%d)...", ecfg.gtol, ecfg.max_iter)
    runs = compare_optimizers(
        ctx.fn, ctx.x0, ctx.coloring, ctx.spec.mode, float(ecfg.gtol), int(ecfg.max_iter)
    )
    if ctx.cfg.get("plots", True):
        figures["convergence_png"] = str(
            plot_convergence(
                runs,
                ctx.out_dir / "convergence.png",
                f"Convergence from x0: {ctx.spec.objective_name}, n={ctx.spec.n}",
            )
        )
    (ctx.out_dir / "convergence.json").write_text(
        json.dumps({k: r["history"] for k, r in runs.items()})
    )
    figures["optimizers"] = {
        k: {key: v for key, v in r.items() if key != "history"} for k, r in runs.items()
    }
