"""Sparsity detection: global Jacobian and Hessian patterns read from the jaxpr.

Entry points on one array of a given shape (the front door, :mod:`asdex_pipe.frontdoor`,
calls them): :func:`detect_jacobian`, :func:`detect_hessian`; :data:`DETECTOR_VERSION`,
:class:`DensePatternError` (a dense pattern, see :mod:`.budget`).
"""

from asdex_pipe.detection.budget import DensePatternError
from asdex_pipe.detection.detect import DETECTOR_VERSION, detect_hessian, detect_jacobian
from asdex_pipe.detection.registry import RULES, UnknownPrimitiveWarning

__all__ = [
    "DETECTOR_VERSION",
    "RULES",
    "DensePatternError",
    "UnknownPrimitiveWarning",
    "detect_hessian",
    "detect_jacobian",
]
