"""Hutchinson's stochastic diagonal against the exact diagonal of the sparse Hessian."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np


def compare_hutchinson(
    f: Callable,
    x: Any,
    hessian_at_x: Any,
    probe_counts: Sequence[int],
    mode: str,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Relative error and time of Hutchinson's estimate for each probe count.

    Args:
        f: scalar JAX function.
        x: the point, any shape.
        hessian_at_x: the sparse Hessian at x (BCOO), whose diagonal is the reference.
        probe_counts: increasing probe counts.
        mode: HVP mode for the probes.
        seed: PRNG seed (one key: the estimates are nested running means).

    Returns:
        ``[{"probes": k, "relative_error": e, "seconds": t}, ...]``.
    """
    from asdex_pipe.estimate import hutchinson_curve, relative_error, sparse_diagonal

    exact = np.asarray(sparse_diagonal(hessian_at_x))
    curve = hutchinson_curve(f, x, list(probe_counts), jax.random.PRNGKey(seed), mode=mode)
    return [
        {
            "probes": int(k),
            "relative_error": relative_error(np.asarray(est).reshape(-1), exact),
            "seconds": float(t),
        }
        for k, est, t in curve
    ]
