"""The trust-region subproblem solved by truncated conjugate gradients (CG–Steihaug).

Approximately minimises the quadratic model

    m(p) = g·p + ½ p·B p   subject to ||p|| <= radius

following Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 7.2 (CG–Steihaug;
Steihaug 1983, Toint 1981). CG runs from p = 0 and stops when the residual is below a
tolerance, when an iterate leaves the trust region, or when a direction of non-positive
curvature appears; in the last two cases the step is extended to the boundary.

The loop is a ``lax.while_loop`` so the whole solve compiles to one XLA computation. The
operator B is passed as ``matvec(operand, v)`` with a pytree ``operand`` (a BCOO matrix for the
sparse back end, the current point x for the matrix-free back end): a jitted solve is then
reused across outer iterations, and only re-traced when the operand's structure changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

# Why the CG loop stopped (values of ``SteihaugStep.status``).
RUNNING = 0
CONVERGED = 1  # residual below tolerance: interior (inexact Newton) step
BOUNDARY = 2  # the next CG iterate would leave the trust region
NEGATIVE_CURVATURE = 3  # d·Bd <= 0: the model is unbounded along d
MAX_ITER = 4  # iteration limit reached inside the region

STATUS_NAMES = {
    CONVERGED: "converged",
    BOUNDARY: "boundary",
    NEGATIVE_CURVATURE: "negative curvature",
    MAX_ITER: "max iterations",
}


class SteihaugStep(NamedTuple):
    """Result of :func:`steihaug_cg`.

    Attributes:
        p: the step, shape (n,).
        predicted_reduction: m(0) - m(p) = -(g·p + ½ p·Bp) >= 0, accumulated during CG so no
            extra operator application is needed.
        iterations: CG iterations taken; each applies the operator exactly once.
        status: one of CONVERGED, BOUNDARY, NEGATIVE_CURVATURE, MAX_ITER.
        on_boundary: True when ||p|| = radius (the step was cut by the trust region).
    """

    p: jax.Array
    predicted_reduction: jax.Array
    iterations: jax.Array
    status: jax.Array
    on_boundary: jax.Array


class _State(NamedTuple):
    z: jax.Array  # current CG iterate (the step so far)
    r: jax.Array  # residual g + B z
    d: jax.Array  # search direction
    rr: jax.Array  # r·r
    dm: jax.Array  # m(z) - m(0), the model change so far (<= 0)
    j: jax.Array  # iterations taken
    status: jax.Array


def _boundary_roots(z: jax.Array, d: jax.Array, radius: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The two roots tau_neg <= 0 <= tau_pos of ||z + tau d|| = radius.

    With ||z|| <= radius the constant term c = z·z - radius² is <= 0, so the roots have opposite
    signs. The product form (q, c/q) avoids cancellation in the smaller root.
    """
    a = jnp.vdot(d, d)
    b = jnp.vdot(z, d)
    c = jnp.vdot(z, z) - radius**2
    disc = jnp.sqrt(jnp.maximum(b * b - a * c, 0.0))
    q = -(b + jnp.where(b >= 0, disc, -disc))
    # q == 0 only if b == 0 and c == 0 (z on the boundary, d tangent): both roots are 0.
    safe_q = jnp.where(q == 0, 1.0, q)
    t1 = jnp.where(q == 0, 0.0, q / a)
    t2 = jnp.where(q == 0, 0.0, c / safe_q)
    return jnp.minimum(t1, t2), jnp.maximum(t1, t2)


def steihaug_cg(
    matvec: Callable[[Any, jax.Array], jax.Array],
    operand: Any,
    g: jax.Array,
    radius: jax.Array | float,
    tol: jax.Array | float,
    max_iter: jax.Array | int,
) -> SteihaugStep:
    """Approximately solve min m(p) = g·p + ½ p·Bp, ||p|| <= radius (N&W Algorithm 7.2).

    Args:
        matvec: ``matvec(operand, v) -> B v`` for v of shape (n,); must be traceable.
        operand: pytree describing B (e.g. a BCOO (n, n) matrix, or the point x for an HVP).
        g: gradient, shape (n,).
        radius: trust-region radius Δ > 0.
        tol: stop once ||r|| < tol (N&W use tol = min(0.5, sqrt(||g||)) ||g||, eq. 7.3).
        max_iter: CG iteration limit (>= 1).

    Returns:
        A :class:`SteihaugStep`. Jit-compatible; wrap with ``jax.jit(functools.partial(
        steihaug_cg, matvec))`` to compile once per operand structure.
    """
    dtype = g.dtype
    radius = jnp.asarray(radius, dtype)
    tol = jnp.asarray(tol, dtype)
    zero = jnp.zeros((), dtype)

    rr0 = jnp.vdot(g, g)
    init = _State(
        z=jnp.zeros_like(g),
        r=g,
        d=-g,
        rr=rr0,
        dm=zero,
        j=jnp.zeros((), jnp.int32),
        # ||r0|| < tol: p = 0 is already acceptable (only when g is essentially zero).
        status=jnp.where(jnp.sqrt(rr0) < tol, CONVERGED, RUNNING).astype(jnp.int32),
    )

    def cond(s: _State) -> jax.Array:
        return s.status == RUNNING

    def body(s: _State) -> _State:
        bd = matvec(operand, s.d)
        dbd = jnp.vdot(s.d, bd)
        rd = jnp.vdot(s.r, s.d)

        def model_change(tau):
            # m(z + tau d) - m(z) = tau r·d + ½ tau² d·Bd, since r = g + Bz.
            return tau * rd + 0.5 * tau * tau * dbd

        tau_neg, tau_pos = _boundary_roots(s.z, s.d, radius)

        # Non-positive curvature: of the two boundary points along d take the lower model value.
        dm_neg, dm_pos = model_change(tau_neg), model_change(tau_pos)
        tau_curv = jnp.where(dm_neg < dm_pos, tau_neg, tau_pos)
        dm_curv = jnp.minimum(dm_neg, dm_pos)

        # Ordinary CG step.
        alpha = s.rr / jnp.where(dbd > 0, dbd, 1.0)
        z_cg = s.z + alpha * s.d
        leaves = jnp.vdot(z_cg, z_cg) >= radius**2
        r_cg = s.r + alpha * bd
        rr_cg = jnp.vdot(r_cg, r_cg)

        curv = dbd <= 0
        # Leaving the region: stop on the boundary along d (tau_pos >= 0, the forward root).
        tau_stop = jnp.where(curv, tau_curv, tau_pos)
        dm_stop = jnp.where(curv, dm_curv, model_change(tau_pos))
        stop_on_boundary = curv | leaves

        j = s.j + 1
        status = jnp.where(
            curv,
            NEGATIVE_CURVATURE,
            jnp.where(
                leaves,
                BOUNDARY,
                jnp.where(
                    jnp.sqrt(rr_cg) < tol, CONVERGED, jnp.where(j >= max_iter, MAX_ITER, RUNNING)
                ),
            ),
        ).astype(jnp.int32)

        beta = rr_cg / s.rr
        return _State(
            z=jnp.where(stop_on_boundary, s.z + tau_stop * s.d, z_cg),
            r=r_cg,
            d=-r_cg + beta * s.d,
            rr=rr_cg,
            dm=s.dm + jnp.where(stop_on_boundary, dm_stop, model_change(alpha)),
            j=j,
            status=status,
        )

    out = jax.lax.while_loop(cond, body, init)
    on_boundary = (out.status == BOUNDARY) | (out.status == NEGATIVE_CURVATURE)
    return SteihaugStep(
        p=out.z,
        predicted_reduction=-out.dm,
        iterations=out.j,
        status=out.status,
        on_boundary=on_boundary,
    )
