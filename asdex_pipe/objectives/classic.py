"""Classic unconstrained test problems (Moré–Garbow–Hillstrom, CUTEst) on 1-D inputs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def rosenbrock(x):
    """Chained Rosenbrock, sum_i (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2; x shape (n,), n >= 2."""
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def rosenbrock_x0(shape, dtype):
    """The classic start (-1.2, 1, -1.2, 1, ...)."""
    x = np.ones(shape, dtype=dtype)
    x[..., ::2] = -1.2
    return x


def extended_rosenbrock(x):
    """Rosenbrock on disjoint pairs: sum_k (1 - x_{2k})^2 + 100 (x_{2k+1} - x_{2k}^2)^2.

    An odd trailing element enters only through a quadratic term, so every size works.
    """
    n = x.shape[0]
    a, b = x[0 : n - 1 : 2], x[1:n:2]
    tail = (x[-1] - 1.0) ** 2 if n % 2 else 0.0
    return jnp.sum((1 - a) ** 2 + 100 * (b - a**2) ** 2) + tail


def chained_wood(x):
    """Chained Wood function over overlapping blocks (x_j, x_{j+1}, x_{j+2}, x_{j+3}), j even.

    x shape (n,), n >= 4.
    """
    n = x.shape[0]
    j = np.arange(0, n - 3, 2)
    x1, x2, x3, x4 = x[j], x[j + 1], x[j + 2], x[j + 3]
    return jnp.sum(
        100 * (x1**2 - x2) ** 2
        + (x1 - 1) ** 2
        + 90 * (x3**2 - x4) ** 2
        + (x3 - 1) ** 2
        + 10.1 * ((x2 - 1) ** 2 + (x4 - 1) ** 2)
        + 19.8 * (x2 - 1) * (x4 - 1)
    )


def wood_x0(shape, dtype):
    """The classic Wood start (-3, -1, -3, -1, ...)."""
    x = np.full(shape, -1.0, dtype=dtype)
    x[..., ::2] = -3.0
    return x


def broyden_tridiagonal(x):
    """Broyden tridiagonal as least squares: sum_i ((3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1)^2.

    x_0 = x_{n+1} = 0 outside the vector; x shape (n,).
    """
    padded = jnp.pad(x, 1)
    r = (3 - 2 * x) * x - padded[:-2] - 2 * padded[2:] + 1
    return jnp.sum(r**2)


def arrowhead(x):
    """CUTEst ARWHEAD: sum_{i<n} (x_i^2 + x_n^2)^2 - 4 x_i + 3; x shape (n,), n >= 2."""
    head, last = x[:-1], x[-1]
    return jnp.sum((head**2 + last**2) ** 2 - 4 * head + 3)
