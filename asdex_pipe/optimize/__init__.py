"""Optimizers built on the Hessian action: trust-region Newton-CG (Steihaug–Toint).

``minimize_trust_ncg(f, x0, hessian="sparse" | "hvp")`` minimises a scalar JAX function with
either the colored sparse Hessian (one evaluation per accepted point, sparse products in CG)
or matrix-free Hessian-vector products (one per CG step).

``minimize_ipopt(fun, x0, constraints=c, cl=..., cu=..., lb=..., ub=...)`` hands constrained
problems to IPOPT (optional extra ``ipopt``) with the exact sparse Lagrangian Hessian of
``lagrangian_hessian`` (one pattern for every multiplier, fixed lower triangle) and the
constraint Jacobian of ``constraint_jacobian``; ``IpoptProblem`` builds such a problem once
and solves it many times with new data arguments (CasADi's Ipopt when casadi is installed).
"""

from asdex_pipe.optimize.ipopt import IpoptProblem, IpoptResult, minimize_ipopt
from asdex_pipe.optimize.lagrangian import (
    ConstraintJacobian,
    LagrangianHessian,
    constraint_jacobian,
    lagrangian_hessian,
    lagrangian_hessian_from_coloring,
    lagrangian_sparsity,
)
from asdex_pipe.optimize.steihaug import STATUS_NAMES, SteihaugStep, steihaug_cg
from asdex_pipe.optimize.trust_region import BACKENDS, TrustRegionResult, minimize_trust_ncg

__all__ = [
    "BACKENDS",
    "STATUS_NAMES",
    "ConstraintJacobian",
    "IpoptProblem",
    "IpoptResult",
    "LagrangianHessian",
    "SteihaugStep",
    "TrustRegionResult",
    "constraint_jacobian",
    "lagrangian_hessian",
    "lagrangian_hessian_from_coloring",
    "lagrangian_sparsity",
    "minimize_ipopt",
    "minimize_trust_ncg",
    "steihaug_cg",
]
