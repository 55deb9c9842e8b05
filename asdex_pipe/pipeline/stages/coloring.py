"""Coloring stage: color the Hessian pattern, or reuse the stored coloring with the same key."""

from __future__ import annotations

from typing import Any

from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.stages.artifacts import load_or_compute, load_required
from asdex_pipe.pipeline.stages.sparsity import require_sparsity


def run_coloring(ctx: RunContext) -> dict[str, Any]:
    """Color (or reuse) the pattern with the job's algorithm (any entry of the algorithm
    table that colors Hessians, see :func:`asdex_pipe.coloring.api.color_for_hvps`); sets
    ``ctx.coloring``.

    Returns:
        ``{"status": ..., "colors": k}``.
    """
    from asdex_pipe.coloring.api import color_for_hvps

    require_sparsity(ctx)
    spec = ctx.spec
    coloring, status = load_or_compute(
        ctx,
        "coloring",
        ctx.coloring_key,
        lambda: color_for_hvps(ctx.sparsity, spec.algorithm, spec.order, spec.postprocess),
        sparsity_key=ctx.sparsity_key,
    )
    ctx.coloring = coloring
    return {"status": status, "colors": coloring.num_colors}


def require_coloring(ctx: RunContext) -> None:
    """Make ``ctx.coloring`` available, reading it from the store when the stage did not run.

    Raises:
        PipelineError: naming the command that produces the missing artifact.
    """
    if ctx.coloring is not None:
        return
    ctx.coloring = load_required(
        ctx,
        "coloring",
        ctx.coloring_key,
        lambda: (
            f"no {ctx.spec.algorithm} coloring artifact (order {ctx.spec.order}) for objective "
            f"{ctx.spec.objective_name!r} with input_shape {list(ctx.spec.input_shape)} in "
            f"{ctx.store.root}; produce it with:\n  " + ctx.rerun_hint("sparsity,coloring")
        ),
        rebuild="sparsity,coloring",
    )
    ctx.sparsity = ctx.coloring.sparsity
