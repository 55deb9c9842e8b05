"""A sparse quadratic with a seeded random sparse SPD matrix."""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

_OFFDIAG_PER_ROW = 2  # each row draws 2 partners; symmetrised that is about 5 nonzeros a row


@functools.lru_cache(maxsize=8)
def quadratic_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The COO entries (rows, cols, vals) of a sparse SPD matrix A (n, n) and a vector b (n,).

    A is symmetric with off-diagonal entries in [-1, 1] and a diagonal that makes it strictly
    diagonally dominant, hence positive definite.
    """
    rng = np.random.default_rng(seed)
    if n > 1:
        r = np.repeat(np.arange(n), _OFFDIAG_PER_ROW)
        c = (r + rng.integers(1, n, size=r.size)) % n
        v = rng.uniform(-1, 1, size=r.size)
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    rows = np.concatenate([r, c])
    cols = np.concatenate([c, r])
    vals = np.concatenate([v, v]) * 0.5
    diag = np.bincount(rows, weights=np.abs(vals), minlength=n) + 1.0
    rows = np.concatenate([rows, np.arange(n)])
    cols = np.concatenate([cols, np.arange(n)])
    vals = np.concatenate([vals, diag])
    b = rng.normal(size=n)
    return rows, cols, vals, b


def sparse_quadratic(x):
    """0.5 x'Ax - b'x for the seeded sparse SPD matrix of size x.size (x of shape (n,))."""
    rows, cols, vals, b = quadratic_data(int(x.size))
    xf = x.reshape(-1)
    quad = jnp.sum(jnp.asarray(vals, x.dtype) * xf[rows] * xf[cols])
    return 0.5 * quad - jnp.dot(jnp.asarray(b, x.dtype), xf)
