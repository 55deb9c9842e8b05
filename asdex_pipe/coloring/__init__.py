"""Graph colorings of sparsity patterns: one AD product per color recovers every nonzero.

Column / row colorings (structurally orthogonal groups) and bidirectional colorings (some
rows by VJPs, the rest by JVPs: :mod:`.bicoloring`) serve Jacobians; star (direct
recovery) and acyclic (recovery by substitution) colorings serve symmetric Hessians.

Every coloring the public functions return has passed the independent checker of its kind
(:mod:`.check`, O(nnz) array work); a coloring that fails raises
:class:`InvalidColoringError` (an internal bug) instead of being returned.

``ALGORITHMS`` is the algorithm table (:mod:`.algorithms`): name → kernel, checker,
decompression plan, mode. Adding an algorithm means adding an entry there (see its
docstring).
"""

from asdex_pipe.coloring.algorithms import ALGORITHMS, Algorithm
from asdex_pipe.coloring.api import (
    color_cols,
    color_rows,
    color_symmetric,
    hessian_coloring_from_sparsity,
    jacobian_coloring_from_sparsity,
)
from asdex_pipe.coloring.check import (
    InvalidColoringError,
    check_coloring_bidirectional,
    check_coloring_cols,
    check_coloring_rows,
    check_coloring_symmetric,
)
from asdex_pipe.coloring.orders import ORDERS

__all__ = [
    "ALGORITHMS",
    "ORDERS",
    "Algorithm",
    "InvalidColoringError",
    "check_coloring_bidirectional",
    "check_coloring_cols",
    "check_coloring_rows",
    "check_coloring_symmetric",
    "color_cols",
    "color_rows",
    "color_symmetric",
    "hessian_coloring_from_sparsity",
    "jacobian_coloring_from_sparsity",
]
