"""Result layouts (``differentiation/blocks.py``): the flat sparse matrix cut into the
``jax.hessian`` / ``jax.jacobian`` block structure of the arguments, in every format."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import hessian, jacobian
from tests.differentiation.helpers import to_dense

PARAMS = {"a": jnp.asarray([0.3, -1.2]), "b": jnp.asarray([[0.7, 2.0, -0.4], [0.1, 0.5, 1.1]])}


def loss(p):
    a, b = p["a"], p["b"]
    return jnp.sum(a**3) + jnp.sum(a[:, None] * jnp.sin(b)) + jnp.sum(b[:, 1:] * b[:, :-1])


def resid(p):
    return jnp.concatenate([p["a"] ** 2, (p["b"][0] * p["b"][1])])


def _check_blocks(ours, ref):
    leaves, tree = jax.tree.flatten(ours, is_leaf=lambda a: hasattr(a, "todense"))
    ref_leaves, ref_tree = jax.tree.flatten(ref)
    assert tree == ref_tree
    for a, r in zip(leaves, ref_leaves, strict=True):
        assert tuple(a.shape) == tuple(r.shape)  # e.g. H["a"]["b"]: (2, 2, 3)
        np.testing.assert_allclose(to_dense(a), np.asarray(r), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("format", ["bcoo", "dense"])
def test_hessian_blocks_have_jax_hessians_structure(format):
    ours = hessian(loss, args=(PARAMS,), format=format)(PARAMS)
    _check_blocks(ours, jax.jit(jax.hessian(loss))(PARAMS))


@pytest.mark.parametrize("format", ["bcoo", "dense"])
def test_jacobian_blocks_have_jax_jacobians_structure(format):
    ours = jacobian(resid, args=(PARAMS,), format=format)(PARAMS)
    _check_blocks(ours, jax.jit(jax.jacfwd(resid))(PARAMS))
