"""Objectives with pytree parameters and data arguments, flattened for the pipeline.

The pipeline's stages work on one flat vector. An objective ``f(*args, **kwargs)`` with a
dict of parameters and data arguments enters them through the front door
(:mod:`asdex_pipe.frontdoor`): :func:`flat_objective` ravels the differentiated arguments
into ``x0`` and fixes the data at the sample values for evaluation;
:func:`hessian_detector` gives the sparsity stage a detector that treats the data as
unknowns (the stored pattern holds for every data value and records the input structure).

Built-in: :func:`graph_energy`, a graph-Laplacian energy with per-node values ``u`` and
per-edge log-stiffnesses ``k`` (a dict of parameters) and a data argument with the nodal
load and a regularisation weight.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.frontdoor.bind import bind_data
from asdex_pipe.frontdoor.inputs import InputSpec, input_spec

__all__ = ["flat_objective", "graph_energy", "graph_inputs", "hessian_detector", "load_inputs"]

#: Each node i is joined to i + 1 and i + 3 (mod N): a ring with chords.
_OFFSETS = (1, 3)


def graph_edges(num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(src, dst)`` of the built-in graph on ``num_nodes`` nodes, 2 edges per node."""
    nodes = np.arange(num_nodes)
    src = np.concatenate([nodes for _ in _OFFSETS])
    dst = np.concatenate([(nodes + o) % num_nodes for o in _OFFSETS])
    return src, dst


def graph_energy(params: dict[str, Any], data: dict[str, Any]) -> jax.Array:
    """Graph-Laplacian energy with edge stiffnesses ``exp(k)``.

    ``E = ½ Σ_e exp(k_e) (u_src − u_dst)² + ¼ Σ_i u_i⁴ − Σ_i load_i u_i + ½ reg Σ_e k_e²``

    Args:
        params: ``{"u": (N,) node values, "k": (2N,) edge log-stiffnesses}``.
        data: ``{"load": (N,) nodal load, "reg": () weight}`` (not differentiated).

    The Hessian couples neighbouring nodes, each edge with its two nodes, and each edge
    with itself: sparse for any N.
    """
    u, k = params["u"], params["k"]
    src, dst = graph_edges(u.shape[0])  # fixed by the shape: constants, not data
    du = u[src] - u[dst]
    return (
        0.5 * jnp.sum(jnp.exp(k) * du**2)
        + 0.25 * jnp.sum(u**4)
        - jnp.sum(data["load"] * u)
        + 0.5 * data["reg"] * jnp.sum(k**2)
    )


def graph_inputs(shape: tuple[int, ...]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Sample ``(args, kwargs)`` of :func:`graph_energy` for ``N = prod(shape)`` nodes; the
    parameters are the starting point of the optimizer studies."""
    n = int(np.prod(shape))
    nodes = np.arange(n)
    params = {"u": 0.1 * np.cos(nodes), "k": np.zeros(len(_OFFSETS) * n)}
    data = {"load": np.sin(nodes), "reg": np.asarray(1.0)}
    return (params, data), {}


def load_inputs(spec: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Call the factory ``"package.module:function"`` (no arguments) for ``(args, kwargs)``.

    Raises:
        ImportError: when the factory cannot be imported.
        ValueError: malformed spec, or the factory does not return ``(args, kwargs)``.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"objective.inputs must look like 'package.module:function', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"cannot import objective.inputs {spec!r}: {exc}") from exc
    out = factory()
    if not (isinstance(out, tuple | list) and len(out) == 2 and isinstance(out[1], dict)):
        raise ValueError(
            f"objective.inputs {spec!r} must return (args, kwargs): a tuple of positional "
            f"arguments and a dict, got {type(out).__name__}"
        )
    args = out[0] if isinstance(out[0], tuple | list) else (out[0],)
    return tuple(args), dict(out[1])


def _at_dtype(tree: Any, dtype: Any) -> Any:
    """Floating leaves at the job's dtype (integer leaves unchanged)."""

    def cast(leaf: Any) -> Any:
        arr = np.asarray(leaf)
        return arr.astype(dtype) if np.issubdtype(arr.dtype, np.floating) else arr

    return jax.tree.map(cast, tree)


def flat_objective(
    f: Callable,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    argnums: Any,
    has_aux: bool,
    dtype: Any,
) -> tuple[Callable, np.ndarray, InputSpec]:
    """``(fn, x0, spec)``: ``fn(x)`` over the raveled differentiated arguments with the data
    fixed at the sample, the sample's differentiated leaves as ``x0`` (at ``dtype``).

    Detect the pattern with :func:`hessian_detector` ``(f, spec)``, not on ``fn``, whose
    data are constants.
    """
    args, kwargs = _at_dtype(tuple(args), dtype), _at_dtype(dict(kwargs), dtype)
    spec = input_spec(args, kwargs, argnums, has_aux)
    x, data = spec.split(args, kwargs)
    fn = bind_data(f, spec, data)
    return fn, np.asarray(x), spec


def hessian_detector(f: Callable, spec: InputSpec) -> Callable[[Any], Any]:
    """``detect(dtype)``: the Hessian pattern of ``f`` over the differentiated arguments of
    ``spec`` (see :func:`flat_objective`) with the data as unknowns, so the pattern holds
    for every data value and records the input structure."""
    from asdex_pipe.frontdoor.detect import pattern_for

    return lambda dtype: pattern_for("hessian", f, spec, dtype)


def as_argnums(value: Any) -> int | tuple[int, ...]:
    """A config's ``argnums`` (int or list) as jax.hessian takes it."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"objective.argnums must be an int or a list of ints, got {value!r}"
        ) from None
