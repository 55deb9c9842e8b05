"""Stochastic estimators built on Hessian-vector products.

``hutchinson_diagonal(f, x, num_samples, key)`` estimates diag(∇²f(x)) from Rademacher probes;
``hutchinson_curve`` gives the estimates and timings for a list of probe counts, and the helpers
measure them against the exact diagonal of a sparse Hessian.
"""

from asdex_pipe.estimate.hutchinson import (
    expected_relative_error,
    hutchinson_curve,
    hutchinson_diagonal,
    offdiagonal_sq_norm,
    relative_error,
    sparse_diagonal,
)

__all__ = [
    "expected_relative_error",
    "hutchinson_curve",
    "hutchinson_diagonal",
    "offdiagonal_sq_norm",
    "relative_error",
    "sparse_diagonal",
]
