"""Objectives on 2-D grids: a PDE energy and a small convolutional loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def minimal_surface(u):
    """Minimal surface area of a graph over the unit square, interior values u of shape (N, M).

    The boundary carries the saddle z = x^2 - y^2 (so the minimiser is non-trivial). Each grid
    square is split into two triangles; the area of each is (h_x h_y / 2) sqrt(1 + |grad u|^2)
    with the gradient from the triangle's two legs. The energy is convex; its Hessian couples
    each node with its 4 neighbours and two diagonal ones (a 7-point stencil).
    """
    n, m = u.shape
    hx, hy = 1.0 / (n + 1), 1.0 / (m + 1)
    gx = np.linspace(0.0, 1.0, n + 2)[:, None]
    gy = np.linspace(0.0, 1.0, m + 2)[None, :]
    boundary = (gx - 0.5) ** 2 - (gy - 0.5) ** 2
    full = jnp.asarray(boundary, dtype=u.dtype).at[1:-1, 1:-1].set(u)
    dx_lo = (full[1:, :-1] - full[:-1, :-1]) / hx
    dy_lo = (full[:-1, 1:] - full[:-1, :-1]) / hy
    dx_hi = (full[1:, 1:] - full[:-1, 1:]) / hx
    dy_hi = (full[1:, 1:] - full[1:, :-1]) / hy
    area = jnp.sqrt(1 + dx_lo**2 + dy_lo**2) + jnp.sqrt(1 + dx_hi**2 + dy_hi**2)
    return 0.5 * hx * hy * jnp.sum(area)


_KERNEL = np.array([[0.05, 0.2, 0.05], [0.2, -1.0, 0.2], [0.05, 0.2, 0.05]])


def conv_loss(x):
    """Smooth loss of a 3×3 convolution of the image x (shape (H, W)) against a fixed target.

    loss = sum softplus(conv(x, K) - t) + 0.5 * 1e-2 |x|^2, with a seeded target t; the
    Hessian couples pixels up to two apart (a 5×5 stencil).
    """
    h, w = x.shape
    target = np.random.default_rng(0).normal(size=(h, w)) * 0.1
    y = jax.lax.conv_general_dilated(
        x[None, None], jnp.asarray(_KERNEL, dtype=x.dtype)[None, None], (1, 1), "SAME"
    )[0, 0]
    return jnp.sum(jax.nn.softplus(y - target)) + 0.5e-2 * jnp.sum(x**2)


def conv_x0(shape, dtype):
    """A smooth deterministic image: sin(x) cos(y) on the grid."""
    gx = np.linspace(0, np.pi, shape[0])[:, None]
    gy = np.linspace(0, np.pi, shape[1])[None, :]
    return (np.sin(gx) * np.cos(gy)).astype(dtype)
