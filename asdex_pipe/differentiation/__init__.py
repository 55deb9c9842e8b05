"""Compressed AD on flat vectors: batched products per color, then decompression.

Modules: :mod:`.hvp` (the three HVP modes), :mod:`.compress` (seeds and batched
products), :mod:`.decompress` (direct plans: star, column, row, bidirectional),
:mod:`.substitution` (acyclic colorings), :mod:`.plans` (plan cache and the in-jit
gathers), :mod:`.program` (the one evaluation engine: jitted products + decompression, seed
variants), :mod:`.formats` (the output format table), :mod:`.blocks` (jax.hessian-like
block layouts for pytree inputs). The public builders are in :mod:`asdex_pipe.frontdoor`.
"""

from asdex_pipe.differentiation.decompress import DecompressionError
from asdex_pipe.differentiation.hvp import HVP_MODES

__all__ = ["HVP_MODES", "DecompressionError"]
