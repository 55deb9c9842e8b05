"""Numerical sparsity patterns from plain JAX, the ground truth detection is tested against.

Detected patterns must contain every entry that is nonzero at some point; these
helpers take the union of nonzeros of ``jax.hessian`` / ``jax.jacfwd`` over a
few random float64 points.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.pattern import SparsityPattern


def _points(input_shape: tuple[int, ...], num_points: int, seed: int) -> list[jax.Array]:
    rng = np.random.default_rng(seed)
    return [jnp.asarray(rng.uniform(-1.5, 1.5, size=input_shape)) for _ in range(num_points)]


def numerical_jacobian_pattern(
    f: Callable, input_shape: tuple[int, ...], num_points: int = 3, seed: int = 0
) -> SparsityPattern:
    """Union of nonzeros of ``jax.jacfwd(f)`` at ``num_points`` random float64 points.

    Args:
        f: function of one array of shape ``input_shape``.
        input_shape: shape of the input.
        num_points: how many random points to union over.
        seed: numpy seed for the points.

    Returns:
        (m, n) pattern with m = output size, n = input size.
    """
    input_shape = tuple(input_shape)
    n = int(np.prod(input_shape))
    with jax.enable_x64(True):
        acc = None
        for x in _points(input_shape, num_points, seed):
            jac = np.asarray(jax.jacfwd(f)(x)).reshape(-1, n)
            nz = np.abs(jac) > 0
            acc = nz if acc is None else acc | nz
    return SparsityPattern.from_dense(acc)


def numerical_hessian_pattern(
    f: Callable, input_shape: tuple[int, ...], num_points: int = 3, seed: int = 0
) -> SparsityPattern:
    """Union of nonzeros of ``jax.hessian(f)`` at random float64 points, as an (n, n) pattern."""
    input_shape = tuple(input_shape)
    n = int(np.prod(input_shape))
    with jax.enable_x64(True):
        acc = None
        for x in _points(input_shape, num_points, seed):
            hess = np.asarray(jax.hessian(f)(x)).reshape(n, n)
            nz = np.abs(hess) > 0
            acc = nz if acc is None else acc | nz
    return SparsityPattern.from_dense(acc)


def assert_superset(detected: SparsityPattern, numerical: SparsityPattern) -> None:
    """Fail with the missing coordinates if ``detected`` misses a numerical nonzero."""
    assert detected.shape == numerical.shape, (detected.shape, numerical.shape)
    missing = numerical.todense() & ~detected.todense()
    if missing.any():
        coords = np.argwhere(missing)[:10].tolist()
        raise AssertionError(f"detection missed {int(missing.sum())} nonzeros, e.g. {coords}")
