"""Hutchinson's estimator of the Hessian diagonal from Rademacher probes.

For z with independent entries ±1 (probability ½ each), E[z ⊙ (H z)] = diag(H), since
(z ⊙ Hz)_i = H_ii + Σ_{j≠i} H_ij z_i z_j and E[z_i z_j] = 0 for i ≠ j. The mean over k probes
is unbiased with variance Var_i = Σ_{j≠i} H_ij² / k per entry (Bekas, Kokiopoulou & Saad
2007). Each probe costs one Hessian-vector product; the products are vmapped in batches to
bound memory at ``batch_size × n``.

Probe i is drawn from ``fold_in(key, i)`` alone, so with a fixed key the estimate for k probes
uses the first k probes of one sequence: estimates for growing k are nested running means,
independent of the batch size.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
from jax.experimental import sparse as jsparse

from asdex_pipe.differentiation.hvp import HVP_MODES, hvp_fn
from asdex_pipe.optimize.checks import as_float_array, check_positive_int, check_scalar_function

# Default batch: at most this many probe entries (batch_size × n) materialised at once.
_MAX_BATCH_ELEMENTS = 2**22


def _check_key(key: Any) -> jax.Array:
    """Accept a typed key (``jax.random.key``) or a raw uint32 key (``jax.random.PRNGKey``)."""
    try:
        arr = jnp.asarray(key)
    except Exception as exc:
        raise ValueError(f"key must be a JAX PRNG key, got {type(key).__name__}") from exc
    if jnp.issubdtype(arr.dtype, jax.dtypes.prng_key):
        if arr.shape != ():
            raise ValueError(f"key must be a single PRNG key, got a key array of shape {arr.shape}")
        return arr
    if arr.dtype != jnp.uint32 or arr.ndim != 1:
        raise ValueError(
            "key must be a JAX PRNG key (jax.random.key(seed) or jax.random.PRNGKey(seed)), "
            f"got an array of dtype {arr.dtype} and shape {arr.shape}"
        )
    return arr


class _ByIdentity:
    """Wrap an unhashable callable so it can be a static jit argument (hashed by identity)."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


def _hashable(f: Callable) -> Callable:
    try:
        hash(f)
    except TypeError:
        return _ByIdentity(f)
    return f


def _default_batch(num_samples: int, n: int) -> int:
    return max(1, min(num_samples, _MAX_BATCH_ELEMENTS // n))


def _probes(key: jax.Array, first: jax.Array, count: int, n: int, dtype: Any) -> jax.Array:
    """Probes first, first+1, ..., first+count-1 as a (count, n) array of ±1."""
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(first + jnp.arange(count))
    signs = jax.vmap(lambda k: jax.random.rademacher(k, (n,)))(keys)
    return signs.astype(dtype)


@functools.partial(jax.jit, static_argnames=("f", "shape", "mode", "num_samples", "batch_size"))
def _estimate(
    x: jax.Array,
    key: jax.Array,
    *,
    f: Callable,
    shape: tuple[int, ...],
    mode: str,
    num_samples: int,
    batch_size: int,
) -> jax.Array:
    n = x.size

    def f_flat(xf):
        return f(xf.reshape(shape))

    hvp = hvp_fn(f_flat, mode)

    def batch_sum(first: jax.Array, count: int) -> jax.Array:
        z = _probes(key, first, count, n, x.dtype)
        hz = jax.vmap(lambda v: hvp(x, v))(z)
        return jnp.sum(z * hz, axis=0)

    full, rest = divmod(num_samples, batch_size)
    total = jax.lax.fori_loop(
        0,
        full,
        lambda b, acc: acc + batch_sum(b * batch_size, batch_size),
        jnp.zeros(n, x.dtype),
    )
    if rest:  # a smaller last batch (its own static shape) rather than wasted masked probes
        total = total + batch_sum(jnp.asarray(full * batch_size), rest)
    return (total / num_samples).reshape(shape)


def _prepare(
    f: Callable, x: Any, num_samples: int, key: Any, batch_size: int | None
) -> tuple[np.ndarray, jax.Array, int]:
    check_positive_int(num_samples, "num_samples")
    check_positive_int(batch_size, "batch_size", allow_none=True)
    x = as_float_array(x, "x")
    key = _check_key(key)
    check_scalar_function(f, x)
    bs = _default_batch(num_samples, x.size) if batch_size is None else min(batch_size, num_samples)
    return x, key, bs


def _check_mode(f: Callable, x: np.ndarray, mode: str) -> None:
    """Reject an unknown mode before any work."""
    if mode not in HVP_MODES:
        raise ValueError(f"bad HVP mode {mode!r}: expected one of {', '.join(HVP_MODES)}")


def hutchinson_diagonal(
    f: Callable,
    x: Any,
    num_samples: int,
    key: Any,
    mode: str = "fwd_over_rev",
    batch_size: int | None = None,
) -> jax.Array:
    """Estimate diag(∇²f(x)) as the mean of z ⊙ (H z) over Rademacher probes z.

    Args:
        f: scalar function of one array of x's shape (traceable by JAX).
        x: point, any shape with n elements (e.g. (n,) or (N, M)).
        num_samples: number of probes k >= 1 (= number of HVPs).
        key: JAX PRNG key; probe i depends only on ``fold_in(key, i)``.
        mode: HVP composition, e.g. ``"fwd_over_rev"``.
        batch_size: probes per vmapped batch (memory batch_size × n); default keeps a batch at
            about 4M entries.

    Returns:
        The estimate, same shape as x. Its per-entry variance is Σ_{j≠i} H_ij² / k.

    Raises:
        ValueError: for num_samples/batch_size < 1, an empty or non-finite x, an f that is
            not scalar at x's shape, a bad key or an unknown mode; all before any HVP.
    """
    x, key, bs = _prepare(f, x, num_samples, key, batch_size)
    _check_mode(f, x, mode)
    return _estimate(
        jnp.asarray(x.reshape(-1)),
        key,
        f=_hashable(f),
        shape=x.shape,
        mode=mode,
        num_samples=num_samples,
        batch_size=bs,
    )


def hutchinson_curve(
    f: Callable,
    x: Any,
    probe_counts: Sequence[int],
    key: Any,
    mode: str = "fwd_over_rev",
    batch_size: int | None = None,
) -> list[tuple[int, jax.Array, float]]:
    """Hutchinson estimates for several probe counts, with the time each takes.

    With one key the estimates are nested (the k-probe estimate uses the first k probes), so
    the list traces the running mean of one probe sequence, as an error-vs-probes plot wants.

    Args:
        f, x, key, mode, batch_size: as for :func:`hutchinson_diagonal`.
        probe_counts: positive probe counts, e.g. (1, 4, 16, ..., 4096).

    Returns:
        ``[(k, estimate, seconds), ...]`` in the order of ``probe_counts``; ``estimate`` has
        x's shape and ``seconds`` is the wall time of one compiled evaluation with k probes
        (the first, compiling call is run beforehand and not counted).
    """
    counts = list(probe_counts)
    if not counts:
        raise ValueError("probe_counts is empty")
    for k in counts:
        check_positive_int(k, "every probe count")
    x, key, _ = _prepare(f, x, max(counts), key, batch_size)
    _check_mode(f, x, mode)
    xf = jnp.asarray(x.reshape(-1))
    f_static = _hashable(f)
    out = []
    for k in counts:
        bs = _default_batch(k, x.size) if batch_size is None else min(batch_size, k)
        run = functools.partial(
            _estimate, f=f_static, shape=x.shape, mode=mode, num_samples=k, batch_size=bs
        )
        jax.block_until_ready(run(xf, key))  # compile outside the timing
        t0 = time.perf_counter()
        est = jax.block_until_ready(run(xf, key))
        out.append((k, est, time.perf_counter() - t0))
    return out


def _to_bcoo(h: Any) -> Any:
    return h.to_bcoo() if isinstance(h, jsparse.BCSR) else h


def sparse_diagonal(h: Any) -> jax.Array:
    """The diagonal of a square BCOO/BCSR matrix (duplicates summed) or dense array, shape (n,).

    Used for the exact reference against which Hutchinson's estimate is measured.
    """
    h = _to_bcoo(h)
    shape = getattr(h, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"expected a square matrix, got shape {shape}")
    if hasattr(h, "indices") and hasattr(h, "data"):  # BCOO
        rows, cols = h.indices[:, 0], h.indices[:, 1]
        on_diag = jnp.where(rows == cols, h.data, 0)
        return jnp.zeros(shape[0], h.dtype).at[rows].add(on_diag)
    return jnp.diagonal(jnp.asarray(h))


def offdiagonal_sq_norm(h: Any) -> float:
    """||H - diag(H)||_F², the numerator of Hutchinson's variance, for BCOO/BCSR or dense H."""
    h = _to_bcoo(h)
    if hasattr(h, "indices") and hasattr(h, "data"):  # BCOO
        n = h.shape[0]
        rows, cols = np.asarray(h.indices[:, 0]), np.asarray(h.indices[:, 1])
        keep = (rows != cols) & (rows < n) & (cols < n)  # off-diagonal, not padding
        # CSR conversion sums duplicate entries before they are squared.
        m = scipy.sparse.csr_array((np.asarray(h.data)[keep], (rows[keep], cols[keep])), (n, n))
        return float(np.sum(m.data**2))
    dense = np.asarray(h)
    return float(np.sum(dense**2) - np.sum(np.diagonal(dense) ** 2))


def relative_error(estimate: Any, exact: Any) -> float:
    """||estimate - exact||_2 / ||exact||_2 over all entries (flattened)."""
    est = np.asarray(estimate, dtype=float).reshape(-1)
    ref = np.asarray(exact, dtype=float).reshape(-1)
    if est.shape != ref.shape:
        raise ValueError(f"shape mismatch: estimate {est.shape} vs exact {ref.shape}")
    denom = np.linalg.norm(ref)
    return float(np.linalg.norm(est - ref) / (denom if denom > 0 else 1.0))


def expected_relative_error(h_offdiag_fro2: float, diag_norm: float, num_samples: int) -> float:
    """sqrt(E ||estimate - diag||²) / ||diag|| = sqrt(||H - diag(H)||_F² / k) / ||diag||."""
    return math.sqrt(h_offdiag_fro2 / num_samples) / diag_norm
