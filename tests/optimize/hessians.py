"""Sparse Hessian functions for the optimizer and estimator tests.

``sparse_hessian_fn`` goes through the package's own pipeline,
``asdex_pipe.differentiation.hessian`` (detect -> color -> compressed HVPs -> BCOO). The
hand-written Rosenbrock Hessian is an independent reference for the exact diagonal.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
from jax.experimental import sparse as jsparse

from asdex_pipe import hessian


def sparse_hessian_fn(f: Callable, shape: tuple[int, ...]) -> Callable:
    """``x -> BCOO (n, n)`` from the colored sparse Hessian (star coloring, fwd-over-rev)."""
    return hessian(f, shape, mode="fwd_over_rev", algorithm="star", format="bcoo")


def rosenbrock_hessian(x: jnp.ndarray) -> jsparse.BCOO:
    """Tridiagonal Hessian of the chained Rosenbrock function at x (n,), written by hand.

    d²f/dx_i² = 2 + 1200 x_i² - 400 x_{i+1} (i < n-1) + 200 (i > 0); d²f/dx_i dx_{i+1} = -400 x_i.
    """
    n = x.shape[0]
    diag = jnp.zeros(n, x.dtype).at[:-1].add(2 + 1200 * x[:-1] ** 2 - 400 * x[1:]).at[1:].add(200)
    off = -400 * x[:-1]
    i, j = jnp.arange(n), jnp.arange(n - 1)
    rows = jnp.concatenate([i, j, j + 1])
    cols = jnp.concatenate([i, j + 1, j])
    data = jnp.concatenate([diag, off, off])
    return jsparse.BCOO((data, jnp.stack([rows, cols], axis=1)), shape=(n, n))
