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

#: Nonzero masks already computed, per (derivative kind, f, input shape, points, seed): the
#: zoo's functions are compared with their numerical patterns in several test modules.
_MASKS: dict[tuple, np.ndarray] = {}


def _cached_union(
    kind: str, f: Callable, input_shape: tuple[int, ...], num_points: int, seed: int
) -> SparsityPattern:
    """:func:`_union_of_nonzeros` of ``jax.hessian(f)`` / ``jax.jacfwd(f)``, each mask
    computed once per ``f`` and arguments (a fresh pattern is returned every call)."""
    key = (kind, f, tuple(input_shape), num_points, seed)
    if key not in _MASKS:
        derivative = jax.hessian(f) if kind == "hessian" else jax.jacfwd(f)
        _MASKS[key] = _union_of_nonzeros(derivative, input_shape, num_points, seed).todense()
    return SparsityPattern.from_dense(_MASKS[key].copy())


def _union_of_nonzeros(
    derivative: Callable, input_shape: tuple[int, ...], num_points: int, seed: int
) -> SparsityPattern:
    """Evaluate ``derivative`` (jitted, vmapped over the points) and union the nonzeros."""
    input_shape = tuple(input_shape)
    n = int(np.prod(input_shape))
    rng = np.random.default_rng(seed)
    points = np.stack([rng.uniform(-1.5, 1.5, size=input_shape) for _ in range(num_points)])
    with jax.enable_x64(True):
        # One compiled, vmapped call instead of op-by-op dispatch per point: 3x faster.
        values = jax.jit(jax.vmap(derivative))(jnp.asarray(points, dtype=jnp.float64))
        values = np.asarray(values).reshape(num_points, -1, n)
    return SparsityPattern.from_dense((np.abs(values) > 0).any(axis=0))


def numerical_jacobian_pattern(
    f: Callable, input_shape: tuple[int, ...], num_points: int = 3, seed: int = 0
) -> SparsityPattern:
    """Union of nonzeros of ``jax.jacfwd(f)`` at ``num_points`` random float64 points.

    Args:
        f: function of one array of shape ``input_shape``.
        input_shape: shape of the input.
        num_points: how many random points (uniform in [-1.5, 1.5]) to union over.
        seed: numpy seed for the points.

    Returns:
        (m, n) pattern with m = output size, n = input size.
    """
    return _cached_union("jacobian", f, input_shape, num_points, seed)


def numerical_hessian_pattern(
    f: Callable, input_shape: tuple[int, ...], num_points: int = 3, seed: int = 0
) -> SparsityPattern:
    """Union of nonzeros of ``jax.hessian(f)`` at random float64 points, as an (n, n) pattern."""
    return _cached_union("hessian", f, input_shape, num_points, seed)


def assert_superset(detected: SparsityPattern, numerical: SparsityPattern) -> None:
    """Fail with the missing coordinates if ``detected`` misses a numerical nonzero."""
    assert detected.shape == numerical.shape, (detected.shape, numerical.shape)
    missing = numerical.todense() & ~detected.todense()
    if missing.any():
        coords = np.argwhere(missing)[:10].tolist()
        raise AssertionError(f"detection missed {int(missing.sum())} nonzeros, e.g. {coords}")
