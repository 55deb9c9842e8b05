"""Content-addressed keys for artifacts.

The sparsity key hashes what determines a detected pattern: the objective's
jaxpr (its text and every constant's bytes, nested jaxprs included), the input
shape and dtype, the versions of the detector, of asdex_pipe and of jax, and the JAX backend.
Editing the objective's code or constants changes the jaxpr and so the key.
The coloring key adds the coloring options to the sparsity key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from asdex_pipe._version import __version__

KEY_LENGTH = 16  # hex characters; 64 bits is plenty for a local store


def _iter_consts(jaxpr: Any) -> Iterator[Any]:
    """Yield the constants of a ClosedJaxpr and of every jaxpr nested in its equations."""
    yield from getattr(jaxpr, "consts", ())
    inner = getattr(jaxpr, "jaxpr", jaxpr)
    for eqn in getattr(inner, "eqns", ()):
        for param in eqn.params.values():
            for sub in param if isinstance(param, tuple | list) else (param,):
                if hasattr(sub, "eqns") or hasattr(sub, "consts"):
                    yield from _iter_consts(sub)


def jaxpr_fingerprint(f: Callable, input_shape: tuple[int, ...], dtype: Any) -> str:
    """SHA-256 of f's jaxpr text and constant values at (input_shape, dtype).

    Args:
        f: the objective, a function of one array.
        input_shape: the array's shape.
        dtype: the array's dtype.
    """
    import jax

    closed = jax.make_jaxpr(f)(jax.ShapeDtypeStruct(tuple(input_shape), dtype))
    h = hashlib.sha256(str(closed).encode())
    for const in _iter_consts(closed):
        arr = np.asarray(const)
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def digest(parts: dict[str, Any]) -> str:
    """Short hex key of a JSON-serialisable dict (keys sorted, so order does not matter)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:KEY_LENGTH]


def sparsity_key(
    f: Callable, input_shape: tuple[int, ...], dtype: Any, detector_version: str
) -> str:
    """Key of the Hessian sparsity artifact of ``f`` at (input_shape, dtype)."""
    import jax

    return digest(
        {
            "jaxpr": jaxpr_fingerprint(f, input_shape, dtype),
            "shape": list(input_shape),
            "dtype": str(np.dtype(dtype)),
            "detector": detector_version,
            "asdex_pipe": __version__,
            "jax": jax.__version__,
            # overwriting scatters with duplicate indices are exact only where the backend
            # writes in order (CPU), so a pattern detected on CPU is not reused elsewhere
            "backend": jax.default_backend(),
        }
    )


def coloring_key(sparsity_key_: str, algorithm: str, order: str, options: dict[str, Any]) -> str:
    """Key of a coloring artifact: the sparsity key plus the coloring algorithm and options."""
    return digest(
        {"sparsity": sparsity_key_, "algorithm": algorithm, "order": order, "options": options}
    )
