"""Verify stage: check the sparse Hessian at x0 against plain JAX."""

from __future__ import annotations

import logging
import time
from typing import Any

import jax.numpy as jnp

from asdex_pipe.pipeline.context import RunContext
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.progress import format_duration
from asdex_pipe.pipeline.stages.coloring import require_coloring

log = logging.getLogger("asdex_pipe")


def run_verify(ctx: RunContext) -> dict[str, Any]:
    """Run ``check_hessian_correctness`` at the objective's x0.

    ``verify.method=auto`` uses the dense comparison up to ``verify.dense_max_n`` and
    randomised matrix-vector probes above; ``dense`` above ``verify.dense_max_n`` falls back
    to matvec with a logged note (the dense check costs n HVPs and n² memory).

    Raises:
        PipelineError: when the check fails (the message is the VerificationError's).
    """
    from asdex_pipe.verify import VerificationError, check_hessian_correctness

    require_coloring(ctx)
    vcfg = ctx.cfg.verify
    method = vcfg.method
    n = ctx.spec.n
    if method == "auto":
        method = "dense" if n <= vcfg.dense_max_n else "matvec"
    elif method == "dense" and n > vcfg.dense_max_n:
        log.info(
            "  note: verify.method=dense at n=%d > verify.dense_max_n=%d would build the n×n "
            "Hessian; checking with %d matvec probes instead (raise verify.dense_max_n to "
            "insist on dense)",
            n,
            vcfg.dense_max_n,
            vcfg.num_probes,
        )
        method = "matvec"
    log.info(
        "  checking the sparse Hessian against %s...",
        "dense jax.hessian" if method == "dense" else f"{vcfg.num_probes} random HVP probes",
    )
    t0 = time.perf_counter()
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
    log.debug("  verify took %s", format_duration(time.perf_counter() - t0))
    return {"status": "passed", "method": method}
