"""The three constrained families of ``bench_casadi``, written once for JAX and once for CasADi.

* ``pendulum``: swing-up of a pendulum, states (θ, ω) and control u on N+1 grid points,
  trapezoidal defects ``θ_{k+1} - θ_k - h/2 (ω_k + ω_{k+1}) = 0`` and
  ``ω_{k+1} - ω_k - h/2 (a_k + a_{k+1}) = 0`` with ``a = -sin θ + u``, boundary
  conditions ``(θ_0, ω_0, θ_N, ω_N) = bc`` (a data argument), ``|u| <= 2``, objective
  ``h Σ u²`` (trapezoid). n = 3(N+1).
* ``luksan``: Lukšan–Vlček chained Rosenbrock with the trigonometric-exponential
  equality constraints (n - 2 of them), x0 = (-1.2, 1, -1.2, 1, ...).
* ``coupling``: a sparse (tridiagonal) least-squares objective with two dense coupling
  constraints ``Σ x = 1`` and ``Σ x² <= 2``.

Each returns ``(fun, constraints, x0, cl, cu, lb, ub, data)``; ``fun(x, *data)``.
"""

from __future__ import annotations

import numpy as np

FAMILIES = ("pendulum", "luksan", "coupling")
T_FINAL = 3.0
U_MAX = 2.0


def _pendulum_shape(n: int) -> int:
    return max(n // 3, 2)  # grid points N+1


def _pendulum_data(k: int):
    t = np.linspace(0.0, 1.0, k)
    x0 = np.concatenate([np.pi * t, np.full(k, np.pi / T_FINAL), np.zeros(k)])
    m = 2 * (k - 1) + 4
    lb = np.concatenate([np.full(2 * k, -1e20), np.full(k, -U_MAX)])
    ub = np.concatenate([np.full(2 * k, 1e20), np.full(k, U_MAX)])
    return x0, np.zeros(m), np.zeros(m), lb, ub, np.array([0.0, 0.0, np.pi, 0.0])


def jax_family(name: str, n: int):
    """The JAX version of family ``name`` at size about ``n``."""
    import jax.numpy as jnp

    if name == "pendulum":
        k = _pendulum_shape(n)
        h = T_FINAL / (k - 1)

        def fun(x, bc):
            u = x[2 * k :]
            return h * (jnp.sum(u**2) - 0.5 * (u[0] ** 2 + u[-1] ** 2))

        def constraints(x, bc):
            th, om, u = x[:k], x[k : 2 * k], x[2 * k :]
            a = -jnp.sin(th) + u
            d_th = th[1:] - th[:-1] - 0.5 * h * (om[1:] + om[:-1])
            d_om = om[1:] - om[:-1] - 0.5 * h * (a[1:] + a[:-1])
            ends = jnp.stack([th[0], om[0], th[-1], om[-1]]) - bc
            return jnp.concatenate([d_th, d_om, ends])

        x0, cl, cu, lb, ub, bc = _pendulum_data(k)
        return fun, constraints, x0, cl, cu, lb, ub, (bc,)
    if name == "luksan":

        def fun(x):
            return jnp.sum(100.0 * (x[:-1] ** 2 - x[1:]) ** 2 + (x[:-1] - 1.0) ** 2)

        def constraints(x):
            a, b, c = x[:-2], x[1:-1], x[2:]
            return (
                3.0 * b**3
                + 2.0 * c
                - 5.0
                + jnp.sin(b - c) * jnp.sin(b + c)
                + 4.0 * b
                - a * jnp.exp(a - b)
                - 3.0
            )

        x0 = np.where(np.arange(n) % 2 == 0, -1.2, 1.0)
        return fun, constraints, x0, np.zeros(n - 2), np.zeros(n - 2), None, None, ()
    if name == "coupling":
        target = np.linspace(-1.0, 1.0, n)

        def fun(x):
            return jnp.sum((x - target) ** 2) + jnp.sum((x[1:] - x[:-1]) ** 2)

        def constraints(x):
            return jnp.stack([jnp.sum(x), jnp.sum(x**2)])

        x0 = np.full(n, 1.0 / n)
        return fun, constraints, x0, np.array([1.0, -1e20]), np.array([1.0, 2.0]), None, None, ()
    raise ValueError(name)


def casadi_family(name: str, n: int):
    """The CasADi (MX) version: ``(x, p, f, g, x0, p0, cl, cu, lb, ub)``."""
    import casadi as ca

    if name == "pendulum":
        k = _pendulum_shape(n)
        h = T_FINAL / (k - 1)
        x = ca.MX.sym("x", 3 * k)
        bc = ca.MX.sym("bc", 4)
        th, om, u = x[:k], x[k : 2 * k], x[2 * k :]
        f = h * (ca.sumsqr(u) - 0.5 * (u[0] ** 2 + u[k - 1] ** 2))
        a = -ca.sin(th) + u
        d_th = th[1:] - th[: k - 1] - 0.5 * h * (om[1:] + om[: k - 1])
        d_om = om[1:] - om[: k - 1] - 0.5 * h * (a[1:] + a[: k - 1])
        ends = ca.vertcat(th[0], om[0], th[k - 1], om[k - 1]) - bc
        g = ca.vertcat(d_th, d_om, ends)
        x0, cl, cu, lb, ub, bc0 = _pendulum_data(k)
        return x, bc, f, g, x0, bc0, cl, cu, lb, ub
    if name == "luksan":
        x = ca.MX.sym("x", n)
        f = ca.sum1(100.0 * (x[: n - 1] ** 2 - x[1:]) ** 2 + (x[: n - 1] - 1.0) ** 2)
        a, b, c = x[: n - 2], x[1 : n - 1], x[2:]
        g = (
            3.0 * b**3
            + 2.0 * c
            - 5.0
            + ca.sin(b - c) * ca.sin(b + c)
            + 4.0 * b
            - a * ca.exp(a - b)
            - 3.0
        )
        x0 = np.where(np.arange(n) % 2 == 0, -1.2, 1.0)
        return x, ca.MX(0, 1), f, g, x0, np.zeros(0), np.zeros(n - 2), np.zeros(n - 2), None, None
    if name == "coupling":
        target = np.linspace(-1.0, 1.0, n)
        x = ca.MX.sym("x", n)
        f = ca.sumsqr(x - target) + ca.sumsqr(x[1:] - x[: n - 1])
        g = ca.vertcat(ca.sum1(x), ca.sumsqr(x))
        x0 = np.full(n, 1.0 / n)
        return (
            x, ca.MX(0, 1), f, g, x0, np.zeros(0), np.array([1.0, -1e20]), np.array([1.0, 2.0]),
            None, None,
        )  # fmt: skip
    raise ValueError(name)
