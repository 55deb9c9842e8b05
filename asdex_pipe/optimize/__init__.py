"""Optimizers built on the Hessian action: trust-region Newton-CG (Steihaug–Toint).

``minimize_trust_ncg(f, x0, hessian="sparse" | "hvp")`` minimises a scalar JAX function with
either the colored sparse Hessian (one evaluation per accepted point, sparse products in CG)
or matrix-free Hessian-vector products (one per CG step).
"""

from asdex_pipe.optimize.steihaug import STATUS_NAMES, SteihaugStep, steihaug_cg
from asdex_pipe.optimize.trust_region import BACKENDS, TrustRegionResult, minimize_trust_ncg

__all__ = [
    "BACKENDS",
    "STATUS_NAMES",
    "SteihaugStep",
    "TrustRegionResult",
    "minimize_trust_ncg",
    "steihaug_cg",
]
