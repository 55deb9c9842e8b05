"""Content keys of functions: what determines a detected pattern, hashed.

The sparsity key hashes the objective's jaxpr (its text and every constant's bytes, nested
jaxprs included), the input shape and dtype, the versions of the detector, of asdex_pipe
and of jax, and the JAX backend. Editing the objective's code or constants changes the
jaxpr and so the key. Equal keys mean equal detected patterns.

Two users: the artifact store names its sparsity artifacts by this key
(:mod:`asdex_pipe.store.keys` re-exports it), and the front door records it in every
detected pattern's ``provenance["function"]``, so that a coloring reused with a function
(``hessian_from_coloring(g, coloring)``) can tell whether ``g`` is the function it was
detected for. It is a base module (no package imports beyond ``_version``) because both
sides of the layering need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from asdex_pipe._version import __version__

__all__ = ["KEY_LENGTH", "digest", "jaxpr_fingerprint", "sparsity_key", "traced_key"]

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


def _staged() -> Any:
    """A context in which operations on constants are staged into the jaxpr as usual.

    Under ``jax.ensure_compile_time_eval`` (the builders run detection in it, so that it
    works inside a caller's ``jax.jit``) JAX folds them instead, which changes the jaxpr
    text and so the key of the same function. The switch is JAX's internal
    ``eager_constant_folding`` state (what ``ensure_compile_time_eval`` sets, in every
    supported version); without it, keys just may differ inside that context, which only
    costs a detection where they are compared.
    """
    try:
        from jax._src.config import eager_constant_folding
    except ImportError:  # pragma: no cover - a JAX without the internal state
        return contextlib.nullcontext()
    return eager_constant_folding(False)


def jaxpr_fingerprint(f: Callable, input_shape: tuple[int, ...], dtype: Any) -> str:
    """SHA-256 of f's jaxpr text and constant values at (input_shape, dtype).

    Args:
        f: the objective, a function of one array.
        input_shape: the array's shape.
        dtype: the array's dtype.
    """
    import jax

    with _staged():
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
    """Key of the sparsity pattern of ``f`` at (input_shape, dtype), traced in the current
    64-bit mode."""
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


def traced_key(
    f: Callable, input_shape: tuple[int, ...], dtype: Any, detector_version: str
) -> tuple[str, np.dtype]:
    """:func:`sparsity_key` of ``f`` traced as detection traces it; also the dtype used.

    Detection traces at ``dtype`` (64-bit mode on for 64-bit dtypes), or without one at
    float64 where ``f`` allows it, else float32; the key follows the same rule so that it
    is reproducible from the dtype it returns.

    Args:
        f: function of one array.
        input_shape: the array's shape.
        dtype: the dtype detection was asked for, or None.
        detector_version: the detector's version (patterns change with it).

    Returns:
        ``(key, dtype)``: the key and the dtype it was traced at.
    """
    import jax

    if dtype is None:
        try:
            with jax.enable_x64(True):
                return sparsity_key(f, input_shape, np.float64, detector_version), np.dtype(
                    np.float64
                )
        except Exception:  # f insists on float32 (as in detection's fallback)
            dtype = np.float32
    dtype = np.dtype(dtype)
    with jax.enable_x64(dtype.itemsize >= 8 or bool(jax.config.jax_enable_x64)):
        return sparsity_key(f, input_shape, dtype, detector_version), dtype
