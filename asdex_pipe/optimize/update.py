"""One trust-region iteration as a single jittable function (N&W Algorithm 4.1, one pass).

Solving the subproblem, evaluating f at the trial point, the acceptance test, the radius update
and (only on acceptance) the new gradient all happen in one XLA call. The Python driver then
pays one dispatch and one small read-back per iteration, which matters on problems such as the
chained Rosenbrock where tens of thousands of cheap iterations are needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from asdex_pipe.optimize.steihaug import steihaug_cg


class StepOutcome(NamedTuple):
    """New iterate and statistics of one trust-region iteration.

    Attributes:
        x: iterate after the step, shape (n,) (unchanged when rejected).
        f: f(x).
        g: gradient at x, shape (n,).
        grad_norm: ||g||.
        radius: the updated trust-region radius.
        accepted: whether the trial point was accepted.
        cg_iterations: CG iterations (= operator applications) spent on the subproblem.
        rho: actual / predicted reduction.
        stalled: True when the new radius is at round-off level relative to ||x||.
    """

    x: jax.Array
    f: jax.Array
    g: jax.Array
    grad_norm: jax.Array
    radius: jax.Array
    accepted: jax.Array
    cg_iterations: jax.Array
    rho: jax.Array
    stalled: jax.Array


def reduction_ratio(actual: jax.Array, predicted: jax.Array, f: jax.Array) -> jax.Array:
    """rho = actual / predicted reduction, robust to round-off near the solution.

    Close to a minimiser both reductions fall to the level of round-off in f, where their ratio
    is noise and could reject good steps indefinitely. When they agree to within that round-off
    the model is as good as f can tell, so the step counts as fully successful (rho = 1).
    A non-finite trial value gives rho = -inf (reject and shrink).
    """
    eps = jnp.finfo(f.dtype).eps
    close = jnp.abs(actual - predicted) <= 10 * eps * jnp.maximum(1.0, jnp.abs(f))
    safe = jnp.where(predicted > 0, predicted, 1.0)
    rho = jnp.where(close, 1.0, jnp.where(predicted > 0, actual / safe, -jnp.inf))
    return jnp.where(jnp.isfinite(actual), rho, -jnp.inf).astype(f.dtype)


def trust_region_step(
    matvec: Callable[[Any, jax.Array], jax.Array],
    value: Callable[[jax.Array], jax.Array],
    grad: Callable[[jax.Array], jax.Array],
    operand: Any,
    x: jax.Array,
    f: jax.Array,
    g: jax.Array,
    radius: jax.Array,
    cg_max_iter: jax.Array,
    eta: jax.Array,
    max_radius: jax.Array,
) -> StepOutcome:
    """One iteration of Nocedal & Wright Algorithm 4.1 with a CG–Steihaug subproblem.

    Args:
        matvec: ``matvec(operand, v) -> B v`` (static under jit).
        value: ``value(x) -> f(x)`` on flat vectors (static).
        grad: ``grad(x) -> grad f(x)`` on flat vectors (static).
        operand: pytree for B (sparse Hessian at x, or x itself for HVPs).
        x, f, g: current point (n,), its value and gradient (n,).
        radius: current radius Δ_k.
        cg_max_iter: CG iteration limit.
        eta: acceptance threshold in [0, 1/4).
        max_radius: Δ_max.

    Returns:
        A :class:`StepOutcome`.
    """
    gnorm = jnp.linalg.norm(g)
    # Forcing sequence of N&W eq. (7.3): superlinear local convergence of the inexact Newton step.
    tol = jnp.minimum(0.5, jnp.sqrt(gnorm)) * gnorm
    step = steihaug_cg(matvec, operand, g, radius, tol, cg_max_iter)
    x_trial = x + step.p
    f_trial = value(x_trial)
    rho = reduction_ratio(f - f_trial, step.predicted_reduction, f)

    # Radius update of Algorithm 4.1. On a poor model we shrink relative to the step actually
    # taken (a common variant): an interior step much shorter than the radius would otherwise
    # cost several rejected iterations before the radius became the active constraint.
    p_norm = jnp.linalg.norm(step.p)
    radius_new = jnp.where(
        rho < 0.25,
        0.25 * jnp.minimum(radius, p_norm),
        jnp.where((rho > 0.75) & step.on_boundary, jnp.minimum(2 * radius, max_radius), radius),
    )
    accepted = rho > eta
    x_new = jnp.where(accepted, x_trial, x)
    f_new = jnp.where(accepted, f_trial, f)
    # Only an accepted point needs a gradient; cond skips the reverse pass otherwise.
    g_new = jax.lax.cond(accepted, grad, lambda _: g, x_new)
    eps = jnp.finfo(f.dtype).eps
    stalled = radius_new <= eps * jnp.maximum(1.0, jnp.linalg.norm(x_new))
    return StepOutcome(
        x=x_new,
        f=f_new,
        g=g_new,
        grad_norm=jnp.linalg.norm(g_new),
        radius=radius_new,
        accepted=accepted,
        cg_iterations=step.iterations,
        rho=rho,
        stalled=stalled,
    )
