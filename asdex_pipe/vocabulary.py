"""The names users choose among, and the argument checks every entry point shares.

The library's builders and the pipeline's config schema both import their choices from
here, so a mode, algorithm, order or format exists in exactly one place. The checks raise
``ValueError`` with one sentence naming the argument, the value and the allowed values;
they run before any tracing, detection or compilation.

**Scalar output.** A Hessian needs a scalar-valued function. Here "scalar" means *any
output of size 1*: shape ``()``, ``(1,)``, ``(1, 1)``, ... A reduction written with
``keepdims=True`` has a perfectly defined Hessian, detection and the HVPs always accepted
it, and rejecting it in some places only (the optimizer, the pipeline) made the same
function valid for ``hessian`` and invalid for ``minimize_trust_ncg``. Code that needs a
true ``()`` output (``jax.grad``) wraps the function with :func:`scalar_function`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral
from typing import Any

#: Hessian-vector product compositions (see :mod:`asdex_pipe.differentiation.hvp`).
HVP_MODES = ("fwd_over_rev", "rev_over_fwd", "rev_over_rev")
#: Jacobian product direction: column coloring + JVPs, row coloring + VJPs, both (a
#: bidirectional coloring: VJPs for some rows, JVPs for the rest), or the cheapest.
JACOBIAN_MODES = ("auto", "fwd", "rev", "bidirectional")
#: Symmetric (Hessian) coloring algorithms: what the library's Hessian functions offer.
SYMMETRIC_ALGORITHMS = ("star", "acyclic")
#: The colorings a pipeline job can choose (``coloring=...``): the symmetric ones, and the
#: one-sided Jacobian colorings applied to the (symmetric) Hessian.
ALGORITHMS = (*SYMMETRIC_ALGORITHMS, "column", "row")
#: Every algorithm name a coloring made by the library carries, so every name an artifact
#: may store: also the bidirectional Jacobian coloring. These are the keys of the algorithm
#: table, :data:`asdex_pipe.coloring.algorithms.ALGORITHMS` (``tests/test_vocabulary.py``).
COLORING_ALGORITHMS = (*ALGORITHMS, "bicoloring")
#: Vertex orders of the greedy colorings (``"best"`` tries several).
ORDERS = (
    "natural",
    "largest_first",
    "random",
    "smallest_last",
    "incidence_degree",
    "dynamic_largest_first",
    "best",
)
#: Output formats of the sparse Hessian / Jacobian functions. ``"values"`` is the (nnz,)
#: vector of nonzero values in the coloring's pattern order (row-major sorted).
FORMATS = (
    "bcoo",
    "dense",
    "scipy",
    "values",
    # asdex 0.5's names, for code written for it: a numpy array and scipy's three layouts
    "numpy_dense",
    "scipy_csr",
    "scipy_coo",
    "scipy_csc",
)
#: How seed vectors enter the compiled program (see ``differentiation/api.py``).
SEEDS = ("auto", "constant", "indexed")
#: Result layouts for pytree inputs: jax.hessian-like nested blocks, or one flat matrix.
STRUCTURES = ("tree", "flat")


def check_one_of(value: Any, allowed: tuple[str, ...], name: str) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``.

    Args:
        value: the user's choice.
        allowed: the valid names.
        name: the argument's name, used in the message.
    """
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"unknown {name} {value!r}; {name} must be one of: {', '.join(allowed)} (got {value!r})"
        )
    return value


def check_positive_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int >= 1 (or None when allowed), else raise ``ValueError``.

    Booleans are refused although they are integers: ``chunk_size=True`` is a mistake.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer (>= 1){extra}, got {value!r}")
    return int(value)


def output_shape(out: Any) -> Any:
    """The shape(s) of an output pytree, for messages: one tuple, or a list of tuples."""
    import jax

    leaves = jax.tree.leaves(out)
    shapes = [tuple(getattr(leaf, "shape", ())) for leaf in leaves]
    return shapes[0] if len(shapes) == 1 else shapes


def is_scalar_output(out: Any) -> bool:
    """True when ``out`` (a value, an abstract value or a pytree of them) is one array of
    size 1: the single definition of "scalar output" (see the module doc)."""
    import jax

    leaves = jax.tree.leaves(out)
    if len(leaves) != 1 or not hasattr(leaves[0], "shape"):
        return False
    return math.prod(leaves[0].shape) == 1


def check_scalar_output(out: Any, who: str = "f") -> None:
    """Raise ``ValueError`` naming the output shape unless :func:`is_scalar_output`.

    Args:
        out: the (abstract) output of the function, e.g. from ``jax.eval_shape``.
        who: the function's name in the message.
    """
    if not is_scalar_output(out):
        raise ValueError(
            f"Hessians need a scalar-valued {who}, but {who} returns output of shape "
            f"{output_shape(out)}; {who} must return a scalar (shape () or any shape of "
            "size 1). Use jacobian for vector-valued functions"
        )


def scalar_function(f: Callable, who: str = "f") -> Callable:
    """``f`` with its size-1 output reshaped to ``()`` (what ``jax.grad`` needs); any other
    output raises the :func:`check_scalar_output` error at trace time."""
    import jax
    import jax.numpy as jnp

    def g(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        check_scalar_output(out, who)
        return jnp.reshape(jax.tree.leaves(out)[0], ())

    return g
