"""Constrained test problems: ``min f(x)  s.t.  cl <= c(x) <= cu,  lb <= x <= ub``.

* ``hs071``: Hock & Schittkowski problem 71, the IPOPT documentation's example (n = 4,
  one inequality and one equality constraint, f* = 17.0140173).
* ``optimal_control``: a discretized optimal-control problem whose size is set by ``n``:
  steer the bistable state ``y' = y - y³ + u`` from the well ``y = -1`` along a target
  trajectory with a bounded control ``|u| <= 1``; implicit-midpoint steps give one
  nonlinear equality constraint per step. Its Lagrangian Hessian is tridiagonal in the
  states plus a diagonal in the controls, whatever ``n``.

For the pipeline, whose stages work on one scalar function, a constrained problem is
represented by its Lagrangian with unit multipliers, ``f(x) + Σ_i c_i(x)``: detection adds
patterns and never cancels them, so its Hessian pattern is the union of the objective's and
every constraint's, i.e. the pattern valid for every multiplier that
:func:`asdex_pipe.optimize.lagrangian.lagrangian_sparsity` finds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class ConstrainedProblem:
    """One instance of a constrained problem, ready for ``minimize_ipopt``.

    Attributes:
        fun: scalar objective of x, shape (n,).
        constraints: ``x -> (m,)`` constraint values.
        cl, cu: (m,) constraint bounds (``cl == cu`` for equalities, ±inf for none).
        lb, ub: (n,) variable bounds (±inf for none).
        x0: (n,) float64 starting point.
        f_star: known optimal value, or None.
    """

    fun: Callable
    constraints: Callable
    cl: np.ndarray
    cu: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    x0: np.ndarray
    f_star: float | None = None


def unit_lagrangian(fun: Callable, constraints: Callable) -> Callable:
    """``x -> fun(x) + sum(constraints(x))``: the Lagrangian at unit multipliers, whose
    Hessian pattern is the one valid for every multiplier (see the module docstring)."""

    def lagrangian(x):
        return fun(x) + jnp.sum(constraints(x))

    return lagrangian


# ------------------------------------------------------------------ HS071
def hs071(x):
    """HS071 objective ``x0 x3 (x0 + x1 + x2) + x2``; x of shape (4,)."""
    return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]


def hs071_constraints(x):
    """``[x0 x1 x2 x3, x0² + x1² + x2² + x3²]``; the first >= 25, the second = 40."""
    return jnp.stack([x[0] * x[1] * x[2] * x[3], jnp.sum(x**2)])


hs071_lagrangian = unit_lagrangian(hs071, hs071_constraints)
HS071_F_STAR = 17.0140172891563


def hs071_problem(shape: tuple[int, ...] = (4,)) -> ConstrainedProblem:
    """HS071 with its classical start (1, 5, 5, 1) and bounds 1 <= x <= 5."""
    if tuple(shape) != (4,):
        raise ValueError(f"hs071 has exactly 4 variables, got input_shape {list(shape)}")
    return ConstrainedProblem(
        fun=hs071,
        constraints=hs071_constraints,
        cl=np.array([25.0, 40.0]),
        cu=np.array([np.inf, 40.0]),
        lb=np.full(4, 1.0),
        ub=np.full(4, 5.0),
        x0=np.array([1.0, 5.0, 5.0, 1.0]),
        f_star=HS071_F_STAR,
    )


def hs071_x0(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """HS071's classical start (1, 5, 5, 1)."""
    return hs071_problem(shape).x0.astype(dtype)


# ------------------------------------------------------------------ optimal control
OC_ALPHA = 1e-3  # control cost
OC_Y0 = -1.0  # initial state, a stable equilibrium
OC_U_MAX = 1.0


def _oc_split(x):
    if x.shape[0] % 2:
        raise ValueError(
            f"optimal_control needs an even n (n/2 states, n/2 controls), got n={x.shape[0]}"
        )
    steps = x.shape[0] // 2
    return x[:steps], x[steps:], 1.0 / steps


def _oc_target(steps: int) -> np.ndarray:
    t = np.arange(1, steps + 1) / steps
    # From the well at -1 over the barrier towards +1 and partly back.
    return -np.cos(1.5 * np.pi * t)


def optimal_control(x):
    """Tracking cost ``h/2 Σ (y_i - y_d(t_i))² + α h/2 Σ u_i²``; x = (y_1..y_N, u_0..u_{N-1})."""
    y, u, h = _oc_split(x)
    target = jnp.asarray(_oc_target(y.shape[0]), dtype=x.dtype)
    return 0.5 * h * jnp.sum((y - target) ** 2) + 0.5 * OC_ALPHA * h * jnp.sum(u**2)


def optimal_control_constraints(x):
    """Implicit-midpoint steps of ``y' = y - y³ + u`` from ``y_0 = -1``, (N,) values = 0."""
    y, u, h = _oc_split(x)
    prev = jnp.concatenate([jnp.full((1,), OC_Y0, x.dtype), y[:-1]])
    mid = 0.5 * (prev + y)
    return y - prev - h * (mid - mid**3 + u)


optimal_control_lagrangian = unit_lagrangian(optimal_control, optimal_control_constraints)


def optimal_control_problem(shape: tuple[int, ...]) -> ConstrainedProblem:
    """The optimal-control problem with ``n = shape[0]`` variables (n even): states free,
    controls in [-1, 1], starting at rest in the well (y = -1, u = 0; feasible)."""
    (n,) = shape
    if n % 2 or n < 2:
        raise ValueError(f"optimal_control needs an even n >= 2, got n={n}")
    steps = n // 2
    lb = np.concatenate([np.full(steps, -np.inf), np.full(steps, -OC_U_MAX)])
    ub = np.concatenate([np.full(steps, np.inf), np.full(steps, OC_U_MAX)])
    return ConstrainedProblem(
        fun=optimal_control,
        constraints=optimal_control_constraints,
        cl=np.zeros(steps),
        cu=np.zeros(steps),
        lb=lb,
        ub=ub,
        x0=optimal_control_x0(shape, np.float64),
    )


def optimal_control_x0(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """At rest in the well: states -1, controls 0."""
    (n,) = shape
    steps = n // 2
    return np.concatenate([np.full(steps, OC_Y0), np.zeros(n - steps)]).astype(dtype)


PROBLEMS: dict[str, Callable[[tuple[int, ...]], ConstrainedProblem]] = {
    "hs071": hs071_problem,
    "optimal_control": optimal_control_problem,
}
