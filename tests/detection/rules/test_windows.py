"""Window rules (``rules/windows.py``): convolutions and reduce_window."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from tests.detection.rules.helpers import exact


def test_conv_and_reduce_window_are_exact():
    k = jnp.asarray([[0.0, 1.0], [2.0, 0.0]])

    def conv(x):
        img = x.reshape(1, 1, 4, 4)
        return jax.lax.conv_general_dilated(
            img, k[None, None].astype(x.dtype), (1, 1), "SAME"
        ).ravel()

    exact(conv, 16)
    pool = lambda x: jax.lax.reduce_window(  # noqa: E731
        x.reshape(4, 4), 0.0, jax.lax.add, (2, 2), (2, 1), [(0, 0), (1, 0)]
    ).ravel()
    exact(pool, 16)
