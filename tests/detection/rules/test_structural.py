"""Structural rules (``rules/structural.py``): reshape, transpose, slice, pad, concatenate,
broadcast, squeeze, rev."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from tests.detection.rules.helpers import exact


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x.reshape(3, 4).T.ravel(),
        lambda x: jnp.flip(x.reshape(3, 4), 1)[1:, ::2].ravel(),
        lambda x: jnp.pad(x, (2, 1)),
        lambda x: jax.lax.pad(x, jnp.zeros((), x.dtype), [(-1, 2, 1)]),
        lambda x: jnp.concatenate([x[5:], x[:3], x[::4]]),
        lambda x: jnp.broadcast_to(x[:4], (3, 4)).ravel(),
        lambda x: jnp.stack(jnp.split(x, 3)[::-1]).ravel(),
        lambda x: jnp.expand_dims(x, (0, 2)).squeeze().reshape(4, 3).ravel(),
    ],
)
def test_structural_ops_are_exact(f):
    exact(f, 12)
