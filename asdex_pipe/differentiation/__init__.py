"""Compressed AD: batched products per color, then decompression into a sparse matrix.

Modules: :mod:`.hvp` (the three HVP modes), :mod:`.compress` (seeds and batched
products), :mod:`.decompress` (direct plans: star, column, row), :mod:`.substitution`
(acyclic colorings), :mod:`.plans` (plan cache and the in-jit gathers), :mod:`.blocks`
(jax.hessian-like block layouts for pytree inputs), :mod:`.builder` (the one builder and
the :class:`SparseDerivative` it returns), :mod:`.reuse` (a detected coloring used with a
function: is it that function's?), :mod:`.api` (public functions).
"""

from asdex_pipe.differentiation.api import (
    FORMATS,
    JACOBIAN_MODES,
    SparseDerivative,
    hessian,
    hessian_from_coloring,
    jacobian,
    jacobian_from_coloring,
    value_and_hessian,
    value_and_hessian_from_coloring,
    value_and_jacobian,
    value_and_jacobian_from_coloring,
)
from asdex_pipe.differentiation.decompress import DecompressionError
from asdex_pipe.differentiation.hvp import HVP_MODES, hvp
from asdex_pipe.differentiation.reuse import PatternMismatchError

__all__ = [
    "FORMATS",
    "HVP_MODES",
    "JACOBIAN_MODES",
    "DecompressionError",
    "PatternMismatchError",
    "SparseDerivative",
    "hessian",
    "hessian_from_coloring",
    "hvp",
    "jacobian",
    "jacobian_from_coloring",
    "value_and_hessian",
    "value_and_hessian_from_coloring",
    "value_and_jacobian",
    "value_and_jacobian_from_coloring",
]
