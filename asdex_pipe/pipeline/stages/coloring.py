"""Coloring stage: color the Hessian pattern, or reuse the stored coloring with the same key."""

from __future__ import annotations

from typing import Any

from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.stages.sparsity import require_sparsity


def color_hessian(
    sparsity: SparsityPattern, algorithm: str, order: str, postprocess: bool
) -> ColoredPattern:
    """Color a Hessian pattern for HVP evaluation with any of the four algorithms.

    Column and row colorings (structurally orthogonal groups) treat H as a general matrix;
    H is symmetric, so a row coloring's groups are column groups too. Either way the result is
    an ``HVP`` coloring recovered directly, column by column.
    """
    from asdex_pipe.coloring import hessian_coloring_from_sparsity, jacobian_coloring_from_sparsity

    if algorithm in ("star", "acyclic"):
        return hessian_coloring_from_sparsity(
            sparsity, algorithm=algorithm, order=order, postprocess=postprocess
        )
    side = "fwd" if algorithm == "column" else "rev"
    general = jacobian_coloring_from_sparsity(sparsity, mode=side, order=order)
    return ColoredPattern(
        sparsity, general.colors, "HVP", algorithm, general.order, provenance=general.provenance
    )


def run_coloring(ctx: RunContext) -> dict[str, Any]:
    """Color (or reuse) the pattern; sets ``ctx.coloring``.

    Returns:
        ``{"status": ..., "colors": k}``.
    """
    require_sparsity(ctx)
    key = ctx.coloring_key
    coloring = None if ctx.spec.force else ctx.store.load("coloring", key)
    status = "reused"
    if coloring is None:
        coloring = color_hessian(
            ctx.sparsity, ctx.spec.algorithm, ctx.spec.order, ctx.spec.postprocess
        )
        coloring.provenance.update(ctx.provenance(key=key, sparsity_key=ctx.sparsity_key))
        where = ctx.store.save("coloring", key, coloring)
        status = "computed"
    else:
        where = ctx.store.path("coloring", key)
    ctx.coloring = coloring
    ctx.artifacts["coloring"] = str(where)
    return {"status": status, "colors": coloring.num_colors}


def require_coloring(ctx: RunContext) -> None:
    """Make ``ctx.coloring`` available, reading it from the store when the stage did not run.

    Raises:
        PipelineError: naming the command that produces the missing artifact.
    """
    if ctx.coloring is not None:
        return
    key = ctx.coloring_key
    coloring = ctx.store.load("coloring", key)
    if coloring is None:
        raise PipelineError(
            f"no {ctx.spec.algorithm} coloring artifact (order {ctx.spec.order}) for objective "
            f"{ctx.spec.objective_name!r} with input_shape {list(ctx.spec.input_shape)} in "
            f"{ctx.store.root}; produce it with:\n  " + ctx.rerun_hint("sparsity,coloring")
        )
    ctx.coloring = coloring
    ctx.sparsity = coloring.sparsity
    ctx.artifacts["coloring"] = str(ctx.store.path("coloring", key))
