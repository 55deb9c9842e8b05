"""Check a sparse Hessian or Jacobian against plain JAX.

Two methods:

* ``"matvec"`` (default, cheap): for ``num_probes`` random vectors ``v`` compare the sparse
  matrix times ``v`` with an AD product (an HVP in the requested mode for Hessians, a JVP
  or VJP matching the coloring for Jacobians). The tolerance is scaled row by row by the
  magnitudes that enter the product, ``(|A| @ |v|)_i + |ref_i|``, and by the machine
  epsilon of ``x``'s dtype, so float32 rounding never raises; substitution (acyclic)
  decompression gets extra room growing with the square root of its largest tree, since
  its rounding accumulates along tree paths.
* ``"dense"`` (exact, expensive): materialize ``jax.hessian`` / ``jax.jacfwd`` and compare
  entry by entry, listing nonzeros the pattern misses and values that disagree.

Both return ``None`` on success and raise :class:`VerificationError` otherwise; the message
names the probe or entries, the size of the disagreement, and the likely cause (the
sparsity pattern is missing nonzeros).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.differentiation.api import (
    flatten_output,
    hessian_from_coloring,
    jacobian_from_coloring,
)
from asdex_pipe.differentiation.hvp import check_mode, value_and_hvp_fn
from asdex_pipe.differentiation.plans import host_plan
from asdex_pipe.differentiation.substitution import SubstitutionPlan
from asdex_pipe.pattern import ColoredPattern

METHODS = ("matvec", "dense")
_SAFETY = 128.0  # multiples of eps that products and gathers may legitimately differ by
_FLOOR = 1e-3  # fraction of the largest row scale added to every row's scale
_SHOW = 5  # entries listed per category in messages


class VerificationError(AssertionError):
    """The sparse result disagrees with plain JAX beyond rounding."""


def _default_rtol(coloring: ColoredPattern, dtype: Any) -> float:
    eps = float(jnp.finfo(dtype).eps)
    rtol = _SAFETY * eps
    plan = host_plan(coloring)
    if isinstance(plan, SubstitutionPlan) and plan.num_edges:
        largest_subtree = int(np.max(plan.edge_hi - plan.edge_lo + 1)) // 2
        rtol *= 1.0 + math.sqrt(largest_subtree)
    return rtol


def _check_inputs(x: Any, coloring: Any, method: str, num_probes: int, what: str) -> jax.Array:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(num_probes, int) or num_probes < 1:
        raise ValueError(f"num_probes must be a positive integer, got {num_probes!r}")
    if not isinstance(coloring, ColoredPattern):
        raise ValueError(f"{what} expects a ColoredPattern, got {type(coloring).__name__}")
    return jnp.asarray(x)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _sparse_matvec(rows, cols, vals, probes, num_rows):
    """``A @ p`` for each probe row p, and ``|A| @ |p|``; float64, shape (P, num_rows)."""
    prod = probes[:, cols] * vals
    out = np.zeros((probes.shape[0], num_rows))
    mag = np.zeros((probes.shape[0], num_rows))
    np.add.at(out.T, rows, prod.T)
    np.add.at(mag.T, rows, np.abs(prod).T)
    return out, mag


def _compare_matvec(ours, ref, mag, rtol, atol, what_product, matrix, pattern_hint):
    scale = mag + np.abs(ref)
    if atol is None:
        allowed = rtol * (scale + _FLOOR * scale.max(axis=1, keepdims=True))
    else:
        allowed = atol + rtol * scale
    diff = np.abs(ours - ref)
    bad = diff > allowed
    if not bad.any():
        return
    probe = int(np.argmax(bad.any(axis=1)))
    rows_bad = np.flatnonzero(bad[probe])
    excess = diff[probe, rows_bad] / np.maximum(allowed[probe, rows_bad], 1e-300)
    worst = int(rows_bad[np.argmax(excess)])
    raise VerificationError(
        f"matvec check failed: probe {probe} disagrees in {rows_bad.size} of {ours.shape[1]} "
        f"entries ({int(bad.any(axis=1).sum())} of {ours.shape[0]} probes fail). Worst at "
        f"index {worst}: sparse {matrix} @ v = {_fmt(ours[probe, worst])}, {what_product} = "
        f"{_fmt(ref[probe, worst])}, |difference| = {_fmt(diff[probe, worst])} > allowed "
        f"{_fmt(allowed[probe, worst])}. The sparsity pattern is probably missing nonzeros "
        f"({pattern_hint} {rows_bad[:_SHOW].tolist()}); run method='dense' to list them."
    )


def _compare_dense(ours_vals, rows, cols, ref, rtol, atol, matrix):
    """Entry-wise comparison of pattern values with a dense reference (float64 arrays)."""
    ours = np.zeros_like(ref)
    ours[rows, cols] = ours_vals
    in_pattern = np.zeros(ref.shape, dtype=bool)
    in_pattern[rows, cols] = True
    row_scale = np.abs(ref).sum(axis=1, keepdims=True) + np.abs(ours).sum(axis=1, keepdims=True)
    if atol is None:
        allowed = rtol * (np.abs(ref) + row_scale + _FLOOR * row_scale.max(initial=0.0))
    else:
        allowed = atol + rtol * (np.abs(ref) + row_scale)
    diff = np.abs(ours - ref)
    bad = diff > allowed
    if not bad.any():
        return
    missing = np.argwhere(bad & ~in_pattern)
    wrong = np.argwhere(bad & in_pattern)
    extra = np.argwhere(in_pattern & (ref == 0))
    parts = [f"dense check failed: {int(bad.sum())} entries of {matrix} disagree."]
    if missing.size:
        shown = ", ".join(f"({i}, {j}) = {_fmt(ref[i, j])}" for i, j in missing[:_SHOW].tolist())
        parts.append(
            f"{len(missing)} nonzeros are missing from the sparsity pattern: {shown}"
            + (" ..." if len(missing) > _SHOW else "")
            + "."
        )
    if wrong.size:
        shown = ", ".join(
            f"({i}, {j}): sparse {_fmt(ours[i, j])} vs {_fmt(ref[i, j])}"
            for i, j in wrong[:_SHOW].tolist()
        )
        parts.append(
            f"{len(wrong)} pattern entries have wrong values (largest |difference| "
            f"{_fmt(diff[bad & in_pattern].max())}): {shown}"
            + (" ..." if len(wrong) > _SHOW else "")
            + ". Wrong values usually mean the pattern misses nonzeros that the coloring "
            "then mixed into these entries."
        )
    if extra.size:
        parts.append(
            f"{len(extra)} pattern entries are structural zeros here (harmless "
            f"over-approximation), e.g. {[tuple(e) for e in extra[:_SHOW].tolist()]}."
        )
    raise VerificationError(" ".join(parts))


def check_hessian_correctness(
    f: Callable,
    x: Any,
    coloring: ColoredPattern,
    method: str = "matvec",
    num_probes: int = 25,
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    mode: str | None = None,
) -> None:
    """Verify the sparse Hessian of ``f`` at ``x`` built from ``coloring``.

    Args:
        f: scalar function of one array.
        x: point of n = coloring.shape[0] elements (float32 or float64).
        coloring: ``HVP`` ColoredPattern.
        method: ``"matvec"`` (random probes vs HVPs) or ``"dense"`` (vs ``jax.hessian``).
        num_probes: number of random probe vectors (matvec).
        seed: numpy seed for the probes.
        rtol: relative tolerance; default a dtype-aware multiple of eps (see module doc).
        atol: absolute tolerance added to ``rtol × scale``; default none, with a small
            floor relative to the largest row instead.
        mode: HVP mode used for the sparse Hessian and the reference (default
            ``"fwd_over_rev"``).

    Raises:
        VerificationError: when the sparse Hessian disagrees with the reference.
        ValueError: for bad arguments (as ``hessian_from_coloring`` does for a bad ``x``).
    """
    x = _check_inputs(x, coloring, method, num_probes, "check_hessian_correctness")
    mode = check_mode(mode or "fwd_over_rev")
    h = hessian_from_coloring(f, coloring, mode=mode, format="bcoo")(x)
    s = coloring.sparsity
    vals = np.asarray(h.data, dtype=np.float64)
    rtol = _default_rtol(coloring, x.dtype) if rtol is None else float(rtol)
    n = s.shape[0]
    if method == "dense":
        ref = np.asarray(jax.hessian(f)(x), dtype=np.float64).reshape(n, n)
        _compare_dense(vals, s.rows, s.cols, ref, rtol, atol, "the Hessian")
        return
    probes = np.random.default_rng(seed).standard_normal((num_probes, n)).astype(x.dtype)
    product = value_and_hvp_fn(f, mode)
    batched = jax.jit(jax.vmap(lambda v: product(x, v.reshape(x.shape))[1].reshape(-1)))
    ref = np.asarray(batched(jnp.asarray(probes)), dtype=np.float64)
    ours, mag = _sparse_matvec(s.rows, s.cols, vals, probes.astype(np.float64), n)
    _compare_matvec(ours, ref, mag, rtol, atol, f"HVP ({mode})", "H", "rows")


def check_jacobian_correctness(
    f: Callable,
    x: Any,
    coloring: ColoredPattern,
    method: str = "matvec",
    num_probes: int = 25,
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Verify the sparse Jacobian of ``f`` at ``x`` built from ``coloring``.

    A ``JVP`` coloring is checked with ``J @ v`` against ``jax.jvp``; a ``VJP`` coloring
    with ``u @ J`` against ``jax.vjp``. ``method="dense"`` compares with ``jax.jacfwd``.
    Arguments and errors as in :func:`check_hessian_correctness`.
    """
    x = _check_inputs(x, coloring, method, num_probes, "check_jacobian_correctness")
    jac = jacobian_from_coloring(f, coloring, format="bcoo")(x)
    s = coloring.sparsity
    m, n = s.shape
    vals = np.asarray(jac.data, dtype=np.float64)
    f_flat, _, _ = flatten_output(f, x)
    rtol = _default_rtol(coloring, x.dtype) if rtol is None else float(rtol)
    if method == "dense":
        ref = np.asarray(jax.jacfwd(f_flat)(x), dtype=np.float64).reshape(m, n)
        _compare_dense(vals, s.rows, s.cols, ref, rtol, atol, "the Jacobian")
        return
    rng = np.random.default_rng(seed)
    if coloring.mode == "VJP":
        y = jax.eval_shape(f_flat, x)
        probes = rng.standard_normal((num_probes, m)).astype(y.dtype)
        _, pullback = jax.vjp(f_flat, x)
        ref = np.asarray(
            jax.jit(jax.vmap(lambda u: pullback(u)[0].reshape(-1)))(jnp.asarray(probes)),
            dtype=np.float64,
        )
        ours, mag = _sparse_matvec(s.cols, s.rows, vals, probes.astype(np.float64), n)
        _compare_matvec(ours, ref, mag, rtol, atol, "VJP", "J^T", "columns")
        return
    probes = rng.standard_normal((num_probes, n)).astype(x.dtype)
    batched = jax.jit(jax.vmap(lambda v: jax.jvp(f_flat, (x,), (v.reshape(x.shape),))[1]))
    ref = np.asarray(batched(jnp.asarray(probes)), dtype=np.float64)
    ours, mag = _sparse_matvec(s.rows, s.cols, vals, probes.astype(np.float64), m)
    _compare_matvec(ours, ref, mag, rtol, atol, "JVP", "J", "rows")
