"""Helpers of the rule-family tests: detected patterns against hand-known or numerical ones."""

from __future__ import annotations

import numpy as np

from asdex_pipe import jacobian_sparsity
from tests.numerical import numerical_jacobian_pattern


def dense(f, shape):
    """The detected Jacobian pattern of ``f`` as a dense bool array."""
    return jacobian_sparsity(f, shape).todense()


def exact(f, shape):
    """Detected Jacobian pattern equals the numerical one."""
    shape = (shape,) if isinstance(shape, int) else shape
    assert jacobian_sparsity(f, shape) == numerical_jacobian_pattern(f, shape)


def block_diagonal(blocks: int, size: int) -> np.ndarray:
    """``blocks`` dense ``size`` x ``size`` blocks on the diagonal."""
    return np.kron(np.eye(blocks, dtype=bool), np.ones((size, size), dtype=bool))
