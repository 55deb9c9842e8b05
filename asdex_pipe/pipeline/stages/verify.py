"""Verify stage: check the sparse Hessian at x0 against plain JAX."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.stages.coloring import require_coloring


def run_verify(ctx: RunContext) -> dict[str, Any]:
    """Run ``check_hessian_correctness`` at the objective's x0.

    ``verify.method=auto`` uses the dense comparison up to ``verify.dense_max_n`` and
    randomised matrix-vector probes above.

    Raises:
        PipelineError: when the check fails (the message is the VerificationError's).
    """
    from asdex_pipe.verify import VerificationError, check_hessian_correctness

    require_coloring(ctx)
    vcfg = ctx.cfg.verify
    method = vcfg.method
    if method == "auto":
        method = "dense" if ctx.spec.n <= vcfg.dense_max_n else "matvec"
    try:
        check_hessian_correctness(
            ctx.fn,
            jnp.asarray(ctx.x0),
            ctx.coloring,
            method=method,
            num_probes=vcfg.num_probes,
            mode=ctx.spec.mode,
        )
    except VerificationError as exc:
        ctx.figures["verify"] = {"passed": False, "method": method, "error": str(exc)}
        raise PipelineError(f"verification failed ({method}): {exc}") from None
    ctx.figures["verify"] = {"passed": True, "method": method}
    return {"status": "passed", "method": method}
