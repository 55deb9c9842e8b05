"""asdex_pipe: fast automatic sparse Hessians and Jacobians for JAX.

detection (jaxpr → SparsityPattern) → coloring (→ ColoredPattern) → differentiation
(compressed HVPs / JVPs / VJPs → sparse matrix) → verification against plain JAX.
"""

from asdex_pipe._version import __version__
from asdex_pipe.coloring import (
    InvalidColoringError,
    check_coloring_bidirectional,
    check_coloring_cols,
    check_coloring_rows,
    check_coloring_symmetric,
    color_cols,
    color_rows,
    color_symmetric,
    hessian_coloring_from_sparsity,
    jacobian_coloring_from_sparsity,
)
from asdex_pipe.detection import DensePatternError
from asdex_pipe.estimate import hutchinson_diagonal

# The front door: one-array and pytree / argnums / has_aux forms (asdex_pipe.frontdoor).
from asdex_pipe.frontdoor import (
    ArgumentTypeError,
    PatternMismatchError,
    compressed_hessian,
    compressed_hessian_from_coloring,
    compressed_jacobian,
    compressed_jacobian_from_coloring,
    decompress,
    decompress_data,
    hessian,
    hessian_coloring,
    hessian_from_coloring,
    hessian_sparsity,
    hvp,
    jacobian,
    jacobian_coloring,
    jacobian_from_coloring,
    jacobian_sparsity,
    value_and_compressed_hessian,
    value_and_compressed_hessian_from_coloring,
    value_and_compressed_jacobian,
    value_and_compressed_jacobian_from_coloring,
    value_and_hessian,
    value_and_hessian_from_coloring,
    value_and_jacobian,
    value_and_jacobian_from_coloring,
)
from asdex_pipe.optimize import minimize_trust_ncg
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.store.formats import ArtifactError
from asdex_pipe.verify import (
    VerificationError,
    check_hessian_correctness,
    check_jacobian_correctness,
)

__all__ = [
    "ArgumentTypeError",
    "ArtifactError",
    "ColoredPattern",
    "DensePatternError",
    "InvalidColoringError",
    "PatternMismatchError",
    "SparsityPattern",
    "VerificationError",
    "__version__",
    "check_coloring_bidirectional",
    "check_coloring_cols",
    "check_coloring_rows",
    "check_coloring_symmetric",
    "check_hessian_correctness",
    "check_jacobian_correctness",
    "color_cols",
    "color_rows",
    "color_symmetric",
    "compressed_hessian",
    "compressed_hessian_from_coloring",
    "compressed_jacobian",
    "compressed_jacobian_from_coloring",
    "decompress",
    "decompress_data",
    "hessian",
    "hessian_coloring",
    "hessian_coloring_from_sparsity",
    "hessian_from_coloring",
    "hessian_sparsity",
    "hutchinson_diagonal",
    "hvp",
    "jacobian",
    "jacobian_coloring",
    "jacobian_coloring_from_sparsity",
    "jacobian_from_coloring",
    "jacobian_sparsity",
    "minimize_trust_ncg",
    "value_and_compressed_hessian",
    "value_and_compressed_hessian_from_coloring",
    "value_and_compressed_jacobian",
    "value_and_compressed_jacobian_from_coloring",
    "value_and_hessian",
    "value_and_hessian_from_coloring",
    "value_and_jacobian",
    "value_and_jacobian_from_coloring",
]
