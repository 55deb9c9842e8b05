"""Sparsity stage: detect the Hessian pattern, or reuse the stored one with the same key."""

from __future__ import annotations

from typing import Any

from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.stages.artifacts import load_or_compute, load_required


def run_sparsity(ctx: RunContext) -> dict[str, Any]:
    """Detect (or reuse) the Hessian sparsity pattern; sets ``ctx.sparsity``.

    Returns:
        ``{"status": "computed" | "reused", "nnz": ...}``.
    """
    from asdex_pipe.detection import DETECTOR_VERSION

    pattern, status = load_or_compute(
        ctx,
        "sparsity",
        ctx.sparsity_key,
        # Pytree objectives detect with their data arguments as unknowns (their detector).
        lambda: ctx.objective.hessian_sparsity(ctx.spec.input_shape, ctx.spec.dtype),
        detector=DETECTOR_VERSION,
    )
    ctx.sparsity = pattern
    return {"status": status, "nnz": pattern.nnz}


def require_sparsity(ctx: RunContext) -> None:
    """Make ``ctx.sparsity`` available, reading it from the store when the stage did not run.

    Raises:
        PipelineError: naming the command that produces the missing artifact.
    """
    if ctx.sparsity is not None:
        return
    ctx.sparsity = load_required(
        ctx,
        "sparsity",
        ctx.sparsity_key,
        lambda: (
            f"no sparsity artifact for objective {ctx.spec.objective_name!r} with input_shape "
            f"{list(ctx.spec.input_shape)} in {ctx.store.root}; produce it with:\n  "
            + ctx.rerun_hint("sparsity")
        ),
        rebuild="sparsity",
    )
