"""Sparsity detection: global Jacobian and Hessian patterns read from the jaxpr.

Public API: :func:`jacobian_sparsity`, :func:`hessian_sparsity`, :data:`DETECTOR_VERSION`.
"""

from asdex_pipe.detection.api import DETECTOR_VERSION, hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection.registry import RULES, UnknownPrimitiveWarning

__all__ = [
    "DETECTOR_VERSION",
    "RULES",
    "UnknownPrimitiveWarning",
    "hessian_sparsity",
    "jacobian_sparsity",
]
