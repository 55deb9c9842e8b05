"""Sparsity detection: global Jacobian and Hessian patterns read from the jaxpr.

Public API: :func:`jacobian_sparsity`, :func:`hessian_sparsity`, :data:`DETECTOR_VERSION`,
:class:`DensePatternError` (a dense pattern, see :mod:`.budget`).
"""

from asdex_pipe.detection.api import DETECTOR_VERSION, hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection.budget import DensePatternError
from asdex_pipe.detection.registry import RULES, UnknownPrimitiveWarning

__all__ = [
    "DETECTOR_VERSION",
    "RULES",
    "DensePatternError",
    "UnknownPrimitiveWarning",
    "hessian_sparsity",
    "jacobian_sparsity",
]
