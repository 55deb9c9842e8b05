"""Content-addressed keys for artifacts.

The sparsity key hashes what determines a detected pattern: the objective's
jaxpr (its text and every constant's bytes, nested jaxprs included), the input
shape and dtype, the versions of the detector, of asdex_pipe and of jax, and the JAX backend.
Editing the objective's code or constants changes the jaxpr and so the key.
The coloring key adds the coloring options to the sparsity key.

The sparsity key itself lives in :mod:`asdex_pipe.fingerprint` (re-exported here): the
library records it in detected patterns too, and the library may not import the store.
"""

from __future__ import annotations

from typing import Any

from asdex_pipe.fingerprint import KEY_LENGTH, digest, jaxpr_fingerprint, sparsity_key

__all__ = ["KEY_LENGTH", "coloring_key", "digest", "jaxpr_fingerprint", "sparsity_key"]


def coloring_key(sparsity_key_: str, algorithm: str, order: str, options: dict[str, Any]) -> str:
    """Key of a coloring artifact: the sparsity key plus the coloring algorithm and options."""
    return digest(
        {"sparsity": sparsity_key_, "algorithm": algorithm, "order": order, "options": options}
    )
