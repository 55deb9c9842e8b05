"""The objective record, the registry of built-ins, and import of user objectives."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from asdex_pipe.objectives import classic, constrained, pde, pytree, quadratic
from asdex_pipe.objectives.constrained import ConstrainedProblem


@dataclass(frozen=True)
class Objective:
    """A named scalar objective.

    Attributes:
        name: registry key, e.g. ``"rosenbrock"``.
        fn: ``fn(x) -> scalar``; x has shape ``input_shape``.
        default_shape: input shape used when the config does not set one.
        description: one line, shown in listings.
        x0: ``x0(shape, dtype) -> np.ndarray``, the deterministic starting point.
        min_size: smallest number of elements the objective is defined for.
        ndim: required number of input dimensions (None = any).
        problem: for constrained objectives, ``problem(shape) -> ConstrainedProblem`` (the
            objective, constraints, bounds and start IPOPT needs); ``fn`` is then the
            Lagrangian at unit multipliers, whose Hessian pattern holds for every
            multiplier, so the pipeline's stages detect, color and store that pattern.
    """

    name: str
    fn: Callable
    default_shape: tuple[int, ...]
    description: str
    x0: Callable[[tuple[int, ...], type], np.ndarray] = field(repr=False)
    min_size: int = 1
    ndim: int | None = 1
    problem: Callable[[tuple[int, ...]], ConstrainedProblem] | None = field(
        default=None, repr=False
    )
    # Pytree objectives (asdex_pipe.objectives.pytree): ``inputs(shape) -> (args, kwargs)``
    # gives sample arguments of ``fn(*args, **kwargs)``; argument 0 is differentiated.
    inputs: Callable[[tuple[int, ...]], tuple] | None = field(default=None, repr=False)


def _const(value: float) -> Callable[[tuple[int, ...], type], np.ndarray]:
    return lambda shape, dtype: np.full(shape, value, dtype=dtype)


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in [
        Objective(
            "rosenbrock",
            classic.rosenbrock,
            (100,),
            "Chained Rosenbrock, sum (1-x_i)^2 + 100 (x_{i+1}-x_i^2)^2; tridiagonal Hessian",
            classic.rosenbrock_x0,
            min_size=2,
        ),
        Objective(
            "extended_rosenbrock",
            classic.extended_rosenbrock,
            (100,),
            "Extended Rosenbrock on disjoint pairs (x_2i, x_2i+1); 2x2 block-diagonal Hessian",
            classic.rosenbrock_x0,
            min_size=2,
        ),
        Objective(
            "chained_wood",
            classic.chained_wood,
            (100,),
            "Chained Wood function (overlapping blocks of 4); banded Hessian",
            classic.wood_x0,
            min_size=4,
        ),
        Objective(
            "broyden_tridiagonal",
            classic.broyden_tridiagonal,
            (100,),
            "Broyden tridiagonal least squares, sum ((3-2x_i)x_i - x_{i-1} - 2x_{i+1} + 1)^2",
            _const(-1.0),
            min_size=1,
        ),
        Objective(
            "arrowhead",
            classic.arrowhead,
            (100,),
            "ARWHEAD, sum (x_i^2 + x_n^2)^2 - 4 x_i + 3; arrowhead Hessian",
            _const(1.0),
            min_size=2,
        ),
        Objective(
            "minimal_surface",
            pde.minimal_surface,
            (32, 32),
            "2-D minimal surface energy on an N×M interior grid (finite elements on triangles)",
            _const(0.0),
            min_size=1,
            ndim=2,
        ),
        Objective(
            "sparse_quadratic",
            quadratic.sparse_quadratic,
            (100,),
            "0.5 x'Ax - b'x with a seeded random sparse SPD matrix A (about 5 nonzeros a row)",
            _const(0.0),
            min_size=1,
        ),
        Objective(
            "conv_loss",
            pde.conv_loss,
            (16, 16),
            "Small convolutional loss: sum of softplus(conv3x3(x) - target) on a 2-D image",
            pde.conv_x0,
            min_size=1,
            ndim=2,
        ),
        Objective(
            "hs071",
            constrained.hs071_lagrangian,
            (4,),
            "HS071 (constrained, n=4): x0 x3 (x0+x1+x2) + x2, prod >= 25, |x|^2 = 40, 1<=x<=5",
            constrained.hs071_x0,
            min_size=4,
            problem=constrained.hs071_problem,
        ),
        Objective(
            "optimal_control",
            constrained.optimal_control_lagrangian,
            (1000,),
            "Optimal control (constrained, n even): y' = y - y^3 + u, |u| <= 1, n/2 steps",
            constrained.optimal_control_x0,
            min_size=2,
            problem=constrained.optimal_control_problem,
        ),
        Objective(
            "graph_energy",
            pytree.graph_energy,
            (100,),
            "Graph-Laplacian energy, params {u: per node, k: per edge} + data {load, reg}",
            _const(0.0),
            min_size=4,
            inputs=pytree.graph_inputs,
        ),
    ]
}


def get_objective(name: str) -> Objective:
    """Look up a built-in objective by name.

    Raises:
        KeyError: with the list of available names.
    """
    try:
        return OBJECTIVES[name]
    except KeyError:
        available = ", ".join(sorted(OBJECTIVES))
        raise KeyError(f"unknown objective {name!r}; available: {available}") from None


def load_user_function(spec: str) -> Callable:
    """Import ``"package.module:function"`` and return the function.

    Raises:
        ImportError: when the module or attribute cannot be imported, with the reason.
        ValueError: when ``spec`` is not of the form ``module:function`` or not callable.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"objective.fn must look like 'package.module:function', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImportError(f"cannot import module {module_name!r} for objective.fn: {exc}") from exc
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ImportError(f"module {module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"objective.fn {spec!r} is not callable")
    return target
