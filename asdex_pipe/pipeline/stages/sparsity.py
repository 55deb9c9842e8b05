"""Sparsity stage: detect the Hessian pattern, or reuse the stored one with the same key."""

from __future__ import annotations

from typing import Any

import numpy as np

from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.errors import PipelineError


def run_sparsity(ctx: RunContext) -> dict[str, Any]:
    """Detect (or reuse) the Hessian sparsity pattern; sets ``ctx.sparsity``.

    Returns:
        ``{"status": "computed" | "reused", "nnz": ...}``.
    """
    from asdex_pipe.detection import DETECTOR_VERSION, detect_hessian

    key = ctx.sparsity_key
    pattern = None if ctx.spec.force else ctx.store.load("sparsity", key)
    status = "reused"
    if pattern is None:
        # Pytree objectives detect with their data arguments as unknowns (front door).
        front_door = getattr(ctx.fn, "front_door", None)
        if front_door is not None:
            pattern = front_door(np.dtype(ctx.spec.dtype))
        else:
            shape = tuple(int(d) for d in ctx.spec.input_shape)
            pattern = detect_hessian(ctx.fn, shape, np.dtype(ctx.spec.dtype))
        pattern.provenance.update(ctx.provenance(key=key, detector=DETECTOR_VERSION))
        where = ctx.store.save("sparsity", key, pattern)
        status = "computed"
    else:
        where = ctx.store.path("sparsity", key)
    ctx.sparsity = pattern
    ctx.artifacts["sparsity"] = str(where)
    return {"status": status, "nnz": pattern.nnz}


def require_sparsity(ctx: RunContext) -> None:
    """Make ``ctx.sparsity`` available, reading it from the store when the stage did not run.

    Raises:
        PipelineError: naming the command that produces the missing artifact.
    """
    if ctx.sparsity is not None:
        return
    key = ctx.sparsity_key
    pattern = ctx.store.load("sparsity", key)
    if pattern is None:
        raise PipelineError(
            f"no sparsity artifact for objective {ctx.spec.objective_name!r} with input_shape "
            f"{list(ctx.spec.input_shape)} in {ctx.store.root}; produce it with:\n  "
            + ctx.rerun_hint("sparsity")
        )
    ctx.sparsity = pattern
    ctx.artifacts["sparsity"] = str(ctx.store.path("sparsity", key))
