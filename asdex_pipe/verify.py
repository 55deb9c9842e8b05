"""Check a sparse Hessian or Jacobian against plain JAX.

Two methods:

* ``"matvec"`` (default, cheap): for ``num_probes`` random vectors ``v`` compare the sparse
  matrix times ``v`` with an AD product (an HVP in the requested mode for Hessians, a JVP
  or VJP matching the coloring for Jacobians).
* ``"dense"`` (exact, expensive): materialize ``jax.hessian`` / ``jax.jacfwd`` and compare
  entry by entry, listing nonzeros the pattern misses and values that disagree.

Default tolerance (``rtol=None, atol=None``). Entry ``i`` of a product may differ by::

    rtol * (s_i + sqrt(k) * max_j s_j),   rtol = 128 * eps(dtype)  [* (1 + sqrt(t))]

``s_i`` is the entry-wise scale: ``(|A| @ |v|)_i + |ref_i|`` for the matvec method; for the
dense method ``|ref_ij|`` plus the absolute row sums of both matrices in row ``i`` (a
compressed product mixes a whole row). ``max_j s_j`` is its infinity norm (per probe;
over the whole matrix for the dense method), ``k`` the largest number of pattern entries
in one row of the product, and ``t`` half the largest tree of a substitution (acyclic)
decompression, whose rounding accumulates along tree paths.

Why the norm-wise term: an AD product's rounding error is not bounded row by row by
``|A| @ |v|`` but by the magnitudes of the intermediate values inside ``f`` that reach
that row, which cancellation can make far larger than the result (self-attention, layer
norms, scatter-adds: an entry of 1e-3 in a product whose other entries are ~10 differs by
1e-14 even between ``jax.hessian(f) @ v`` and the HVP, so a purely entry-wise tolerance
raises on correct Hessians). Those intermediates are bounded in practice by the scale of
the whole product, and a row gathers at most ~``k`` such contributions whose errors add
like a random walk, hence ``sqrt(k)``. On a zoo of 60 float64 models (MLPs, CNNs,
attention, FEM, PDEs, control; ~2,600 checks over all HVP modes, star and acyclic, both
methods) the largest difference was about 50 eps times the norm, and no check used more
than 4% of its allowance (float32: 5%).

What it still catches: a missing nonzero ``A_ij`` changes row ``i`` by ``|A_ij v_j|``
(dense: entry ``(i, j)`` by ``|A_ij|``), so it is reported once ``|A_ij|`` exceeds about
``128 * (1 + sqrt(k)) * eps`` times the largest absolute row sum of ``A``: ~1e-13 of it in
float64 and ~1e-4 in float32 for a few entries per row, ``sqrt(k)`` times more for ``k``
entries per row (tests check 1e-6 and 1e-10 relative entries in float64 with both
methods). An explicit ``atol`` replaces the norm-wise term: ``atol + rtol * s_i``.

Non-finite values: an entry fails when it is finite on one side and not on the other
(NaN or inf in the sparse result where the reference is finite, or the reverse); both
non-finite at the same place is agreement. Norms are taken over finite entries only.

Both return ``None`` on success and raise :class:`VerificationError` otherwise; the message
names the probe or entries, the size of the disagreement, and the likely cause (the
sparsity pattern is missing nonzeros).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.differentiation.hvp import check_mode, value_and_hvp_fn
from asdex_pipe.frontdoor import hessian_from_coloring, jacobian_from_coloring
from asdex_pipe.frontdoor.bind import bind_data
from asdex_pipe.frontdoor.inputs import input_spec
from asdex_pipe.frontdoor.outputs import flatten_output
from asdex_pipe.pattern import ColoredPattern

METHODS = ("matvec", "dense")
_SAFETY = 128.0  # multiples of eps that products and gathers may legitimately differ by
_SHOW = 5  # entries listed per category in messages


class VerificationError(AssertionError):
    """The sparse result disagrees with plain JAX beyond rounding."""


def _default_rtol(coloring: ColoredPattern, dtype: Any) -> float:
    eps = float(jnp.finfo(dtype).eps)
    return _SAFETY * eps * (1.0 + math.sqrt(coloring.substitution_depth))


def _check_inputs(
    x: Any,
    coloring: Any,
    method: str,
    num_probes: Any,
    rtol: Any,
    atol: Any,
    what: str,
) -> tuple[jax.Array, float | None, float | None]:
    """Validate the cheap arguments before any tracing or AD work."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if (
        isinstance(num_probes, bool)
        or not isinstance(num_probes, int | np.integer)
        or num_probes < 1
    ):
        raise ValueError(f"num_probes must be a positive integer, got {num_probes!r}")
    rtol = _check_tolerance("rtol", rtol)
    atol = _check_tolerance("atol", atol)
    if not isinstance(coloring, ColoredPattern):
        raise ValueError(f"{what} expects a ColoredPattern, got {type(coloring).__name__}")
    return jnp.asarray(x), rtol, atol


def _front_door(
    f: Callable,
    x: Any,
    coloring: Any,
    args: Any,
    kwargs: Any,
    argnums: Any,
    has_aux: bool,
    what: str,
) -> tuple[Callable, Any, tuple[int, ...] | None]:
    """``(f, x, None)`` for one array; for pytree / several arguments the flat problem
    ``(y -> f(..y..), x_flat, (n,))`` with the data fixed at the given values, after
    checking the arguments against the coloring's recorded input structure."""
    plain = args is None and kwargs is None and argnums == 0 and not has_aux
    if plain and jax.tree_util.treedef_is_leaf(jax.tree.structure(x)):
        return f, x, None
    spec = input_spec(args if args is not None else (x,), kwargs, argnums, has_aux)
    if isinstance(coloring, ColoredPattern):
        spec.check_recorded(coloring.sparsity, what)
    x_flat, data = spec.split(tuple(args if args is not None else (x,)), kwargs or {})
    return bind_data(f, spec, data), x_flat, (spec.n,)


def _check_tolerance(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0 or None, got {value!r}") from None
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"{name} must be a finite number >= 0 or None, got {value!r}")
    return out


def _max_row_count(rows: np.ndarray, num_rows: int) -> int:
    """Largest number of pattern entries in one row (at least 1)."""
    if rows.size == 0:
        return 1
    return max(1, int(np.bincount(rows, minlength=num_rows).max()))


def _finite_abs(a: np.ndarray) -> np.ndarray:
    """``|a|`` with non-finite entries as 0 (they are judged by finiteness, not size)."""
    out = np.abs(a)
    out[~np.isfinite(out)] = 0.0
    return out


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _sparse_matvec(rows, cols, vals, probes, num_rows):
    """``A @ p`` for each probe row p, and ``|A| @ |p|``; shape (P, num_rows).

    float64, or complex128 when ``vals`` or the probes are complex. ``|A| @ |p|`` skips
    non-finite products (they are judged by finiteness, not size).
    """
    prod = probes[:, cols] * vals
    out = np.zeros((probes.shape[0], num_rows), dtype=prod.dtype)
    mag = np.zeros((probes.shape[0], num_rows))
    np.add.at(out.T, rows, prod.T)
    np.add.at(mag.T, rows, _finite_abs(prod).T)
    return out, mag


def _disagreement(ours, ref, scale, norm, k, rtol, atol):
    """``(bad, diff, allowed)`` for arrays of equal shape; ``norm`` broadcasts to them."""
    if atol is None:
        allowed = rtol * (scale + math.sqrt(k) * norm)
    else:
        allowed = atol + rtol * scale
    finite_ours, finite_ref = np.isfinite(ours), np.isfinite(ref)
    both = finite_ours & finite_ref
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(ours - ref)
    bad = (finite_ours != finite_ref) | (both & (diff > allowed))
    return bad, np.where(both, diff, np.inf), allowed


def _compare_matvec(ours, ref, mag, k, rtol, atol, what_product, matrix, pattern_hint):
    if ours.size == 0:
        return
    scale = mag + _finite_abs(ref)
    norm = scale.max(axis=1, keepdims=True)
    bad, diff, allowed = _disagreement(ours, ref, scale, norm, k, rtol, atol)
    if not bad.any():
        return
    probe = int(np.argmax(bad.any(axis=1)))
    rows_bad = np.flatnonzero(bad[probe])
    excess = diff[probe, rows_bad] / np.maximum(allowed[probe, rows_bad], 1e-300)
    worst = int(rows_bad[np.argmax(excess)])
    nonfinite = bad & (np.isfinite(ours) != np.isfinite(ref))
    where = f"{pattern_hint} {rows_bad[:_SHOW].tolist()}"
    if nonfinite[probe, worst]:
        detail = (
            f"finite on one side only: sparse {matrix} @ v = {_fmt(ours[probe, worst])}, "
            f"{what_product} = {_fmt(ref[probe, worst])} ({int(nonfinite.sum())} such entries "
            f"over all probes). Either a NaN/inf product was mixed by the coloring into "
            f"entries the reference keeps finite, or the sparsity pattern is missing nonzeros "
            f"({where}); run method='dense' to list the entries."
        )
    else:
        detail = (
            f"sparse {matrix} @ v = {_fmt(ours[probe, worst])}, {what_product} = "
            f"{_fmt(ref[probe, worst])}, |difference| = {_fmt(diff[probe, worst])} > allowed "
            f"{_fmt(allowed[probe, worst])}. The sparsity pattern is probably missing "
            f"nonzeros ({where}); run method='dense' to list them."
        )
    raise VerificationError(
        f"matvec check failed: probe {probe} disagrees in {rows_bad.size} of {ours.shape[1]} "
        f"entries ({int(bad.any(axis=1).sum())} of {ours.shape[0]} probes fail). Worst at "
        f"index {worst}: {detail}"
    )


def _compare_dense(ours_vals, rows, cols, ref, k, rtol, atol, matrix):
    """Entry-wise comparison of pattern values with a dense reference.

    ``ref`` is float64 or complex128; the scale of entry (i, j) is ``|ref_ij|`` plus the
    absolute row sums of both matrices (a compressed product mixes a whole row's colors).
    """
    if ref.size == 0:
        return
    ours = np.zeros(ref.shape, dtype=np.result_type(ours_vals, ref))
    ours[rows, cols] = ours_vals
    in_pattern = np.zeros(ref.shape, dtype=bool)
    in_pattern[rows, cols] = True
    ref_abs = _finite_abs(ref)
    row_scale = ref_abs.sum(axis=1, keepdims=True) + _finite_abs(ours).sum(axis=1, keepdims=True)
    scale = ref_abs + row_scale
    bad, diff, _ = _disagreement(ours, ref, scale, row_scale.max(), k, rtol, atol)
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
    one_sided = bad & (np.isfinite(ours) != np.isfinite(ref))
    if one_sided.any():
        parts.append(
            f"{int(one_sided.sum())} of them are finite on one side only (NaN/inf in the "
            f"sparse result where the reference is finite, or the reverse; a non-finite "
            f"product mixed into other entries by the coloring does this)."
        )
        if (one_sided & ~in_pattern).any():
            parts.append(
                "Non-finite reference values outside the pattern can also be AD's 0 * inf "
                "next to an infinite derivative rather than real nonzeros; method='matvec' "
                "compares whole rows and accepts them when the sparse row is non-finite too."
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
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> None:
    """Verify the sparse Hessian of ``f`` at ``x`` built from ``coloring``.

    Args:
        f: scalar function of one array.
        x: point of n = coloring.shape[0] elements (float32 or float64).
        coloring: ``HVP`` ColoredPattern.
        method: ``"matvec"`` (random probes vs HVPs) or ``"dense"`` (vs ``jax.hessian``).
        num_probes: number of random probe vectors (matvec).
        seed: numpy seed for the probes.
        rtol: relative tolerance, finite and >= 0; default ``128 * eps`` of ``x``'s dtype
            (more for substitution decompression). See the module doc for the scales.
        atol: absolute tolerance, finite and >= 0; when given, entry ``i`` may differ by
            ``atol + rtol * s_i``. Default none: a norm-wise term
            ``rtol * sqrt(k) * max(s)`` instead (see the module doc).
        mode: HVP mode used for the sparse Hessian and the reference (default
            ``"fwd_over_rev"``).
        args, kwargs, argnums, has_aux: the general form (as in ``hessian``): ``f`` takes
            ``*args, **kwargs`` (``x`` is then None, or a pytree standing for ``args[0]``);
            the check runs on the raveled differentiated arguments with the data at the
            given values, after checking them against the coloring's recorded structure.

    Returns silently when there is nothing to compare (n = 0). Non-finite values count:
    an entry that is finite on one side only fails; NaN/inf on both sides agrees.

    Raises:
        VerificationError: when the sparse Hessian disagrees with the reference.
        ValueError: for bad arguments (an unknown method or mode, ``num_probes < 1``, a
            negative or non-finite tolerance: all before any AD work), and as
            ``hessian_from_coloring`` does for a bad ``x``.
    """
    mode = check_mode(mode or "fwd_over_rev")
    f, x, shape = _front_door(
        f, x, coloring, args, kwargs, argnums, has_aux, "check_hessian_correctness"
    )
    x, rtol, atol = _check_inputs(
        x, coloring, method, num_probes, rtol, atol, "check_hessian_correctness"
    )
    s = coloring.sparsity
    n = s.shape[0]
    if n == 0 and x.size == 0:
        return  # nothing to verify
    h = hessian_from_coloring(f, coloring, mode=mode, format="bcoo", input_shape=shape)(x)
    vals = np.asarray(h.data, dtype=np.float64)
    rtol = _default_rtol(coloring, x.dtype) if rtol is None else rtol
    k = _max_row_count(s.rows, n)
    if method == "dense":
        # Jitted: one compilation instead of op-by-op dispatch (each op compiled on its own).
        ref = np.asarray(jax.jit(jax.hessian(f))(x), dtype=np.float64).reshape(n, n)
        _compare_dense(vals, s.rows, s.cols, ref, k, rtol, atol, "the Hessian")
        return
    probes = np.random.default_rng(seed).standard_normal((num_probes, n)).astype(x.dtype)
    product = value_and_hvp_fn(f, mode)
    batched = jax.jit(jax.vmap(lambda v: product(x, v.reshape(x.shape))[1].reshape(-1)))
    ref = np.asarray(batched(jnp.asarray(probes)), dtype=np.float64)
    ours, mag = _sparse_matvec(s.rows, s.cols, vals, probes.astype(np.float64), n)
    _compare_matvec(ours, ref, mag, k, rtol, atol, f"HVP ({mode})", "H", "rows")


def check_jacobian_correctness(
    f: Callable,
    x: Any,
    coloring: ColoredPattern,
    method: str = "matvec",
    num_probes: int = 25,
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    *,
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    argnums: Any = 0,
    has_aux: bool = False,
) -> None:
    """Verify the sparse Jacobian of ``f`` at ``x`` built from ``coloring``.

    A ``JVP`` coloring is checked with ``J @ v`` against ``jax.jvp``; a ``VJP`` coloring
    with ``u @ J`` against ``jax.vjp``. ``method="dense"`` compares with ``jax.jacfwd``.
    Complex Jacobians (complex outputs, JVP colorings) are compared as complex numbers.
    Arguments (including the pytree forms ``args``, ``kwargs``, ``argnums``,
    ``has_aux``) and errors as in :func:`check_hessian_correctness`; returns silently when
    m = 0 or n = 0.
    """
    f, x, shape = _front_door(
        f, x, coloring, args, kwargs, argnums, has_aux, "check_jacobian_correctness"
    )
    x, rtol, atol = _check_inputs(
        x, coloring, method, num_probes, rtol, atol, "check_jacobian_correctness"
    )
    s = coloring.sparsity
    m, n = s.shape
    if x.size == n:
        f_flat, _, size = flatten_output(f, x)
        if n == 0 or size == m == 0:
            return  # nothing to verify (an output size mismatch is reported below)
    # Raises for an x of the wrong size, so f_flat exists past this line.
    jac = jacobian_from_coloring(f, coloring, format="bcoo", input_shape=shape)(x)
    y = jax.eval_shape(f_flat, x)
    # complex outputs (or inputs) are compared as complex numbers, never just real parts
    dtype = np.result_type(np.float64, jac.data.dtype, y.dtype, x.dtype)
    dtype = np.complex128 if np.issubdtype(dtype, np.complexfloating) else np.float64
    vals = np.asarray(jac.data, dtype=dtype)
    rtol = _default_rtol(coloring, x.dtype) if rtol is None else rtol
    if method == "dense":
        ref = np.asarray(jax.jit(jax.jacfwd(f_flat))(x), dtype=dtype).reshape(m, n)
        k = _max_row_count(s.rows, m)
        _compare_dense(vals, s.rows, s.cols, ref, k, rtol, atol, "the Jacobian")
        return
    rng = np.random.default_rng(seed)
    if coloring.mode == "VJP":
        probes = rng.standard_normal((num_probes, m)).astype(y.dtype)
        _, pullback = jax.vjp(f_flat, x)
        ref = np.asarray(
            jax.jit(jax.vmap(lambda u: pullback(u)[0].reshape(-1)))(jnp.asarray(probes)),
            dtype=dtype,
        )
        ours, mag = _sparse_matvec(s.cols, s.rows, vals, probes.astype(dtype), n)
        k = _max_row_count(s.cols, n)
        _compare_matvec(ours, ref, mag, k, rtol, atol, "VJP", "J^T", "columns")
        return
    probes = rng.standard_normal((num_probes, n)).astype(x.dtype)
    batched = jax.jit(jax.vmap(lambda v: jax.jvp(f_flat, (x,), (v.reshape(x.shape),))[1]))
    ref = np.asarray(batched(jnp.asarray(probes)), dtype=dtype)
    ours, mag = _sparse_matvec(s.rows, s.cols, vals, probes.astype(dtype), m)
    k = _max_row_count(s.rows, m)
    _compare_matvec(ours, ref, mag, k, rtol, atol, "JVP", "J", "rows")
