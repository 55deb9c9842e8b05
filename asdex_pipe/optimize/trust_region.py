"""Trust-region Newton-CG (Steihaug–Toint) with a sparse-Hessian or a matrix-free back end.

The outer loop is Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 4.1 (trust
region); each subproblem is solved by CG–Steihaug (Algorithm 7.2, :mod:`.steihaug`) to the
forcing tolerance min(0.5, sqrt(||g||)) ||g|| (N&W eq. 7.3), which gives local superlinear
convergence. The loop runs in Python; each iteration is one jitted call (:mod:`.update`: the
CG solve, the trial value, the acceptance test, the radius update and, on acceptance, the new
gradient) plus one small read-back, and for ``"sparse"`` one ``hess_fn`` call per accepted
point. The chained Rosenbrock function, which needs about 4n cheap iterations from its
classic start, is what makes the per-iteration overhead matter.

Back ends for the Hessian action B v in CG:

* ``"sparse"``: ``hess_fn(x)`` returns the Hessian as a sparse (n, n) matrix, evaluated once
  per accepted point and then applied as a sparse matrix-vector product in every CG step.
* ``"hvp"``: matrix-free, one Hessian-vector product (forward-over-reverse by default) per CG
  step, computed by automatic differentiation without forming H (Pearlmutter 1994).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
from jax.experimental import sparse as jsparse

from asdex_pipe.differentiation.hvp import HVP_MODES, hvp_fn
from asdex_pipe.optimize.checks import (
    as_float_array,
    check_positive_int,
    check_positive_real,
    check_scalar_function,
)
from asdex_pipe.optimize.update import trust_region_step

BACKENDS = ("sparse", "hvp")


@dataclass
class TrustRegionResult:
    """Outcome of :func:`minimize_trust_ncg`.

    Attributes:
        x: final point, same shape as ``x0`` (numpy).
        fun: f(x).
        grad_norm: Euclidean norm of the gradient at x.
        iterations: outer iterations (subproblems solved, accepted or rejected).
        nfev: function evaluations (start, then one per trial point).
        ngev: gradient evaluations (start, then one per accepted point).
        nhev: ``"sparse"``: Hessian evaluations (one per accepted point that needs a step,
            x0 included; a rejected step reuses the matrix); ``"hvp"``: Hessian-vector
            products (one per CG iteration).
        cg_iterations: CG iterations summed over all subproblems.
        success: True when ``grad_norm <= gtol``.
        message: why the iteration stopped.
        wall_time: seconds for the whole call, including jit compilation on a first call.
        history: one ``(elapsed_seconds, grad_norm, f)`` per iterate, starting with x0.
        backend: ``"sparse"`` or ``"hvp"``.
    """

    x: np.ndarray
    fun: float
    grad_norm: float
    iterations: int
    nfev: int
    ngev: int
    nhev: int
    cg_iterations: int
    success: bool
    message: str
    wall_time: float
    history: list[tuple[float, float, float]] = field(repr=False)
    backend: str = "sparse"


@dataclass(frozen=True)
class _Compiled:
    """Jitted pieces for one (f, shape, mode); all act on flattened vectors of size n."""

    value_and_grad: Callable
    sparse_step: Callable  # (H, x, f, g, radius, cg_max_iter, eta, max_radius) -> StepOutcome
    hvp_step: Callable  # (x, x, f, g, ...): the operand is the point itself


def _matmul(h: Any, v: jax.Array) -> jax.Array:
    """H @ v; a plain 2-D BCOO goes through a gather and a segment sum instead.

    On CPU that is about twice as fast as BCOO's general ``dot_general`` lowering (measured in
    a compiled loop at n = 10^4, 3·10^4 nonzeros), and it runs several times per Hessian.
    Duplicate entries add up; padding entries (out-of-range row ids) are dropped.
    """
    if isinstance(h, jsparse.BCOO) and h.n_batch == 0 and h.n_dense == 0:
        rows, cols = h.indices[:, 0], h.indices[:, 1]
        # BCOO pads with out-of-range indices: gather 0 for them, and segment_sum drops them.
        vals = h.data * jnp.take(jnp.asarray(v), cols, mode="fill", fill_value=0)
        return jax.ops.segment_sum(
            vals, rows, num_segments=h.shape[0], indices_are_sorted=h.indices_sorted
        )
    return h @ v


def _build(f: Callable, shape: tuple[int, ...], mode: str) -> _Compiled:
    def f_flat(xf):
        return f(xf.reshape(shape)).reshape(())  # any size-1 output is a scalar

    grad = jax.grad(f_flat)
    hvp = hvp_fn(f_flat, mode)
    return _Compiled(
        value_and_grad=jax.jit(jax.value_and_grad(f_flat)),
        # Re-traced only for a new operand structure (shape, nse, dtype) of the sparse Hessian.
        sparse_step=jax.jit(functools.partial(trust_region_step, _matmul, f_flat, grad)),
        # One HVP per CG step inside the compiled loop.
        hvp_step=jax.jit(functools.partial(trust_region_step, hvp, f_flat, grad)),
    )


# Repeated calls with the same objective (benchmarks, sweeps) reuse compiled code.
_build_cached = functools.lru_cache(maxsize=16)(_build)


def _compiled(f: Callable, shape: tuple[int, ...], mode: str) -> _Compiled:
    try:
        return _build_cached(f, shape, mode)
    except TypeError:  # unhashable callable object: compile per call
        return _build(f, shape, mode)


def _as_operator(h: Any, n: int) -> Any:
    """Coerce ``hess_fn``'s output to a pytree usable inside jit and check it is (n, n)."""
    if scipy.sparse.issparse(h):
        h = jsparse.BCOO.from_scipy_sparse(h)
    elif isinstance(h, np.ndarray):
        h = jnp.asarray(h)
    shape = getattr(h, "shape", None)
    if shape is None or tuple(shape) != (n, n):
        raise ValueError(f"hess_fn must return an ({n}, {n}) matrix for x of size {n}, got {shape}")
    leaves = jax.tree_util.tree_leaves(h)
    if not leaves or not all(isinstance(leaf, jax.Array) for leaf in leaves):
        raise ValueError(
            "hess_fn must return a JAX array, a jax.experimental.sparse matrix (BCOO/BCSR), "
            f"a numpy array or a scipy.sparse matrix; got {type(h).__name__}"
        )
    return h


def _default_hess_fn(f: Callable, shape: tuple[int, ...], mode: str) -> Callable:
    try:
        from asdex_pipe.frontdoor import hessian as sparse_hessian
    except ImportError as exc:
        raise ImportError(
            "hessian='sparse' without hess_fn needs asdex_pipe.differentiation.hessian; "
            "pass hess_fn=... (x -> (n, n) sparse matrix) or use hessian='hvp'"
        ) from exc
    return sparse_hessian(f, shape, mode=mode, algorithm="star", format="bcoo")


def _check_options(
    hessian: str,
    hess_fn: Callable | None,
    gtol: float,
    max_iter: int,
    initial_radius: float,
    max_radius: float,
    eta: float,
    cg_max_iter: int | None,
    callback: Callable | None,
    progress: Callable | None,
) -> None:
    if hessian not in BACKENDS:
        raise ValueError(f"unknown Hessian back end {hessian!r}; expected one of {BACKENDS}")
    if hess_fn is not None and hessian != "sparse":
        raise ValueError("hess_fn is only used by hessian='sparse'")
    for name, fn in (("hess_fn", hess_fn), ("callback", callback), ("progress", progress)):
        if fn is not None and not callable(fn):
            raise ValueError(f"{name} must be callable or None, got {type(fn).__name__}")
    check_positive_real(gtol, "gtol")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}")
    check_positive_real(initial_radius, "initial_radius")
    check_positive_real(max_radius, "max_radius")
    if initial_radius > max_radius:
        raise ValueError(f"initial_radius {initial_radius} exceeds max_radius {max_radius}")
    if isinstance(eta, bool) or not (isinstance(eta, int | float) and 0 <= eta < 0.25):
        raise ValueError(f"eta must be in [0, 0.25) (N&W Algorithm 4.1), got {eta!r}")
    check_positive_int(cg_max_iter, "cg_max_iter", allow_none=True)


def minimize_trust_ncg(
    f: Callable,
    x0: Any,
    *,
    hessian: str = "sparse",
    hess_fn: Callable | None = None,
    mode: str = "fwd_over_rev",
    gtol: float = 1e-6,
    max_iter: int = 200,
    initial_radius: float = 1.0,
    max_radius: float = 1e4,
    eta: float = 0.15,
    cg_max_iter: int | None = None,
    callback: Callable[[np.ndarray], Any] | None = None,
    progress: Callable[[int, float, float], Any] | None = None,
) -> TrustRegionResult:
    """Minimise a scalar JAX function by trust-region Newton-CG (Steihaug–Toint).

    Nocedal & Wright, *Numerical Optimization*, 2nd ed.: Algorithm 4.1 for the radius update
    (shrink to a quarter of min(radius, ||p||) when rho < 1/4, double up to ``max_radius``
    when rho > 3/4 and the step is on the boundary, accept when rho > eta) and Algorithm 7.2
    for the subproblem.

    Args:
        f: scalar function of one array of ``x0``'s shape; must be traceable by JAX.
        x0: starting point, any shape (e.g. (n,) or (N, M)); computations use the flattened
            vector of size n = x0.size. Its dtype is kept (float32 stays float32; float64
            needs ``jax_enable_x64``).
        hessian: ``"sparse"`` or ``"hvp"`` (see the module docstring).
        hess_fn: for ``"sparse"``: ``hess_fn(x) -> H`` with x of ``x0``'s shape and H an (n, n)
            BCOO/BCSR/dense JAX array (numpy and scipy.sparse are converted). For jit reuse
            across iterations H should keep one structure (same nse), as a colored sparse
            Hessian does. Default: ``asdex_pipe.differentiation.hessian(f, x0.shape,
            mode=mode, algorithm="star", format="bcoo")``.
        mode: AD composition for Hessian-vector products, e.g. ``"fwd_over_rev"``.
        gtol: stop when ||grad f(x)||_2 <= gtol.
        max_iter: limit on outer iterations.
        initial_radius: Δ_0.
        max_radius: Δ_max, the largest radius allowed.
        eta: acceptance threshold on rho, in [0, 1/4).
        cg_max_iter: CG iteration limit per subproblem (default n).
        callback: ``callback(x)`` after every iteration with x in ``x0``'s shape; return True
            to stop.
        progress: ``progress(iteration, f, grad_norm)`` after every iteration (for progress
            bars and logs).

    Returns:
        A :class:`TrustRegionResult`.

    Raises:
        ValueError: for an unknown back end, bad options, a non-finite or empty x0, an f that
            does not return a scalar at x0's shape, or a hess_fn result that is not (n, n).
            Everything but the last is checked before any evaluation.
    """
    start = time.perf_counter()
    _check_options(
        hessian,
        hess_fn,
        gtol,
        max_iter,
        initial_radius,
        max_radius,
        eta,
        cg_max_iter,
        callback,
        progress,
    )
    x0 = as_float_array(x0, "x0")
    check_scalar_function(f, x0)
    shape, n = x0.shape, x0.size
    if mode not in HVP_MODES:
        raise ValueError(f"bad HVP mode {mode!r}: expected one of {', '.join(HVP_MODES)}")
    compiled = _compiled(f, shape, mode)
    if hessian == "sparse" and hess_fn is None:
        hess_fn = _default_hess_fn(f, shape, mode)

    dtype = x0.dtype
    cg_limit = jnp.asarray(n if cg_max_iter is None else cg_max_iter, jnp.int32)
    eta_a, max_radius_a = jnp.asarray(eta, dtype), jnp.asarray(max_radius, dtype)
    x = jnp.asarray(x0.reshape(-1))
    f_arr, g = compiled.value_and_grad(x)
    radius = jnp.asarray(initial_radius, dtype)
    fx, gnorm = float(f_arr), float(jnp.linalg.norm(g))
    nfev = ngev = 1
    nhev = cg_total = iterations = 0
    history = [(time.perf_counter() - start, gnorm, fx)]
    operand = None  # the sparse Hessian at x, kept while steps are rejected

    message = f"maximum number of iterations ({max_iter}) reached"
    while True:
        if gnorm <= gtol:
            message = f"converged: ||g|| = {gnorm:.3g} <= gtol = {gtol:g}"
            break
        if not (math.isfinite(fx) and math.isfinite(gnorm)):
            message = "stopped: non-finite f or gradient"
            break
        if iterations >= max_iter:
            break
        if hessian == "sparse":
            if operand is None:
                operand = _as_operator(hess_fn(x.reshape(shape)), n)
                nhev += 1
            out = compiled.sparse_step(operand, x, f_arr, g, radius, cg_limit, eta_a, max_radius_a)
        else:
            out = compiled.hvp_step(x, x, f_arr, g, radius, cg_limit, eta_a, max_radius_a)
        x, f_arr, g, radius = out.x, out.f, out.g, out.radius
        # The one host synchronisation of the iteration.
        fx, gnorm, accepted, k_cg, stalled = jax.device_get(
            (out.f, out.grad_norm, out.accepted, out.cg_iterations, out.stalled)
        )
        fx, gnorm, k_cg = float(fx), float(gnorm), int(k_cg)
        iterations += 1
        nfev += 1
        cg_total += k_cg
        if hessian == "hvp":
            nhev += k_cg  # exactly one operator application per CG iteration
        if accepted:
            ngev += 1
            operand = None

        history.append((time.perf_counter() - start, gnorm, fx))
        if progress is not None:
            progress(iterations, fx, gnorm)
        if callback is not None and callback(np.asarray(x).reshape(shape)):
            message = "stopped by callback"
            break
        if stalled and gnorm > gtol:
            # Steps this small cannot change x in floating point: stop rather than spin.
            message = f"stopped: trust-region radius {float(radius):.3g} fell to round-off level"
            break

    return TrustRegionResult(
        x=np.asarray(x).reshape(shape),
        fun=fx,
        grad_norm=gnorm,
        iterations=iterations,
        nfev=nfev,
        ngev=ngev,
        nhev=nhev,
        cg_iterations=cg_total,
        success=gnorm <= gtol,
        message=message,
        wall_time=time.perf_counter() - start,
        history=history,
        backend=hessian,
    )
