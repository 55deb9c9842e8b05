"""The builders' dense route: a dense derivative evaluated with one product per column.

When detection stops because a derivative is dense
(:class:`~asdex_pipe.detection.budget.DensePatternError`), nothing is gained by coloring:
``jax.hessian`` and ``jax.jacfwd`` / ``jax.jacrev`` spend one product per column (or
row), and so does the coloring in which every column has a color of its own. The builders
take that coloring of the full pattern (no detection, no search) when the matrix has at
most ``DENSE_ROUTE_MAX_ENTRIES`` entries, so the returned function keeps every format,
structure and option; above that they refuse with the detection's message, which names
the density, the memory and what to do instead.

Why 2^24 entries (a 4096 × 4096 Hessian): the full pattern, its decompression plan, the
one-hot seeds and the result cost tens of bytes per entry, as do the products run at once
(``chunk_size`` bounds them); measured at the limit, building and evaluating a 4096 × 4096
Hessian peaks at 1.7 GB (``bcoo``) to 2.0 GB (``dense``) resident, and 2^25 entries
(5625 × 5625) at 2.9 to 3.9 GB, for a matrix of 134 MB (268 MB) in float64.
"""

from __future__ import annotations

import warnings

import numpy as np

from asdex_pipe.detection.budget import DensePatternError, human_bytes
from asdex_pipe.indices import index_dtype
from asdex_pipe.pattern import ColoredPattern, SparsityPattern

#: The largest dense derivative (m · n entries) the builders evaluate densely.
DENSE_ROUTE_MAX_ENTRIES = 2**24


def full_pattern(shape: tuple[int, int]) -> SparsityPattern:
    """Every entry of an (m, n) matrix, as a pattern (row-major)."""
    m, n = shape
    dtype = index_dtype(max(m, n))
    rows = np.repeat(np.arange(m, dtype=dtype), n)
    cols = np.tile(np.arange(n, dtype=dtype), m)
    return SparsityPattern(rows, cols, (m, n), provenance={"dense": True}, _trusted=True)


def dense_coloring(
    err: DensePatternError, kind: str, shape: tuple[int, int], mode: str, what: str
) -> ColoredPattern:
    """The one-product-per-column (or row) coloring of a dense derivative, or the refusal.

    Args:
        err: what detection raised.
        kind: ``"hessian"`` or ``"jacobian"``.
        shape: (m, n) of the derivative.
        mode: for Jacobians the requested mode (``"fwd"``: one JVP per column, ``"rev"``:
            one VJP per row, else the fewer of the two); ignored for Hessians.
        what: the public builder's name, for messages.

    Returns:
        ``ColoredPattern`` of the full pattern: mode ``HVP`` with n colors, ``JVP`` with n
        or ``VJP`` with m.

    Raises:
        DensePatternError: the matrix has more than ``DENSE_ROUTE_MAX_ENTRIES`` entries.
    """
    m, n = shape
    name = "Hessian" if kind == "hessian" else "Jacobian"
    if float(m) * float(n) > DENSE_ROUTE_MAX_ENTRIES:
        raise DensePatternError(
            f"{what}: {err} (the dense route evaluates at most {DENSE_ROUTE_MAX_ENTRIES} "
            f"entries, {human_bytes(8.0 * DENSE_ROUTE_MAX_ENTRIES)} in float64)",
            elements=err.elements,
            inputs=err.inputs,
            dependencies=err.dependencies,
            kind=name,
            shape=(m, n),
        ) from None
    if kind == "hessian":
        side, count = "HVP", n
    elif mode == "fwd" or (mode != "rev" and n <= m):
        side, count = "JVP", n
    else:
        side, count = "VJP", m
    warnings.warn(
        f"{what}: the {name} of f ({m} × {n}) is dense or nearly so ({err.density:.0%} of an "
        f"intermediate's dependencies); it is evaluated densely with {count} {side}s, "
        f"as jax.{'hessian' if kind == 'hessian' else 'jacfwd'} would",
        UserWarning,
        stacklevel=6,  # dense_coloring < _build < build < _detecting < the public builder < caller
    )
    algorithm = {"HVP": "star", "JVP": "column", "VJP": "row"}[side]
    colors = np.arange(count, dtype=np.int32)
    return ColoredPattern(full_pattern((m, n)), colors, side, algorithm, "natural")
