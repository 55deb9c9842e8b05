"""Detection on one array: :func:`detect_jacobian` and :func:`detect_hessian`.

They take a function of one array, a normalized shape and dtype; the front door
(:mod:`asdex_pipe.frontdoor`) turns every calling convention into that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp

from asdex_pipe.detection import deps as D
from asdex_pipe.detection import rules as _rules  # noqa: F401  (registers every rule)
from asdex_pipe.detection.budget import DensePatternError, dense_message
from asdex_pipe.detection.interpreter import eval_closed_jaxpr
from asdex_pipe.detection.registry import Context
from asdex_pipe.pattern import SparsityPattern
from asdex_pipe.vocabulary import check_scalar_output

# Bump whenever a rule change can change a detected pattern (artifact keys depend on it).
DETECTOR_VERSION = "0.3.1"


def _trace(f: Callable, shape: tuple[int, ...], dtype: Any) -> tuple[Any, Any, bool]:
    """``f``'s closed jaxpr at ``dtype``; without one, at float64 when ``f`` allows it.

    Returns (closed jaxpr, the dtype it was traced at, whether 64-bit mode was on).

    Tracing at float64 keeps constants such as ``1e-50`` or ``exp(-200)`` from
    underflowing to zero, which would erase entries that are nonzero for a float64 user.
    Code that insists on float32 (``lax`` ops mixing the input with float32 constants)
    fails to trace at float64 and is traced at float32 instead.
    """
    if dtype is None:
        try:
            with jax.enable_x64(True):
                x = jax.ShapeDtypeStruct(shape, np.float64)
                return jax.make_jaxpr(f)(x), np.dtype(np.float64), True
        except Exception:
            dtype = np.dtype(np.float32)
    x64 = dtype.itemsize >= 8 or jax.config.jax_enable_x64
    with jax.enable_x64(x64):
        return jax.make_jaxpr(f)(jax.ShapeDtypeStruct(shape, dtype)), dtype, x64


def _detect(f: Callable, shape: tuple[int, ...], dtype: Any, kind: str = "Jacobian") -> D.Deps:
    """Trace ``f`` and propagate; returns the output Deps stacked (flat).

    Raises:
        DensePatternError: the ``kind`` (``"Jacobian"`` of ``f``, or ``"Hessian"`` when
            ``f`` is a gradient) is dense or nearly so (see :mod:`.budget`).
    """
    n = int(np.prod(shape))
    closed, _, x64 = _trace(f, shape, dtype)
    ctx = Context()
    # Concrete evaluation binds primitives on the jaxpr's constants: same precision mode.
    try:
        with jax.enable_x64(x64):
            outs = eval_closed_jaxpr(closed, [D.identity(shape, n)], ctx)
    except DensePatternError as err:
        m = n if kind == "Hessian" else sum(int(np.prod(a.shape)) for a in closed.out_avals)
        raise DensePatternError(
            dense_message(err, kind, (m, n)),
            elements=err.elements,
            inputs=err.inputs,
            dependencies=err.dependencies,
            kind=kind,
            shape=(m, n),
        ) from None
    outs = [o.with_ncols(n).without_value() for o in outs]
    return outs[0] if len(outs) == 1 else D.stack(outs)


def _to_pattern(d: D.Deps, n: int, kind: str) -> SparsityPattern:
    return SparsityPattern(
        d.rows(),
        d.indices,
        (d.size, n),
        provenance={"detector": DETECTOR_VERSION, "kind": kind},
        _trusted=True,
    )


def detect_jacobian(
    f: Callable, shape: tuple[int, ...], dtype: np.dtype | None = None
) -> SparsityPattern:
    """Global sparsity pattern of the Jacobian of ``f``, valid for every input value.

    Args:
        f: function of one array of shape ``input_shape``. Its output may be any pytree
            of arrays; the leaves are flattened (row-major) and concatenated in
            ``jax.tree_util`` order.
        shape: the input's shape (non-negative ints, checked by the front door).
        dtype: input dtype for tracing (default: float64 where ``f`` traces at float64,
            else float32). The pattern holds for that dtype's arithmetic; tracing at
            float32 can drop entries whose constants underflow there (``1e-50 * x**2``).

    Returns:
        (m, n) :class:`SparsityPattern`, n = prod(shape), m = total output size
        (1 for a scalar output). It may contain extra entries but never misses a nonzero.

    Raises:
        DensePatternError: (a ValueError) the Jacobian is dense or nearly so and too large
            to be worth detecting (see :mod:`asdex_pipe.detection.budget`); the message
            names the density, the memory the matrix needs and what to do instead.
    """
    n = int(np.prod(shape))
    return _to_pattern(_detect(f, shape, dtype), n, "jacobian")


def detect_hessian(
    f: Callable, shape: tuple[int, ...], dtype: np.dtype | None = None
) -> SparsityPattern:
    """Global, symmetric sparsity pattern of the Hessian of a scalar-valued ``f``.

    Computed as the Jacobian pattern of ``jax.grad(f)``, symmetrised.

    Args:
        f: scalar-valued function of one array of shape ``shape``.
        shape: the input's shape.
        dtype: a floating input dtype for tracing (default as in :func:`detect_jacobian`).

    Returns:
        (n, n) symmetric :class:`SparsityPattern`.

    Raises:
        ValueError: if ``f`` is not scalar-valued (the message shows the output shape) or
            ``dtype`` is not floating.
        DensePatternError: (a ValueError) the Hessian is dense or nearly so and too large
            to be worth detecting (see :mod:`asdex_pipe.detection.budget`).
    """
    if dtype is not None and not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"hessian_sparsity needs a floating dtype, got {dtype}")
    closed_f, dtype, _ = _trace(f, shape, dtype)
    check_scalar_output(closed_f.out_avals, "f")  # the one definition: any size-1 output
    n = int(np.prod(shape))

    def grad_f(x):
        return jax.grad(lambda y: jax.numpy.reshape(f(y), ()))(x)

    d = _detect(grad_f, shape, dtype, "Hessian")
    d = _symmetrize(d, n)
    return _to_pattern(d, n, "hessian")


def _symmetrize(d: D.Deps, n: int) -> D.Deps:
    """Union of the pattern with its transpose (a no-op when already symmetric)."""
    if d.is_empty:
        return D.Deps((n,), n)
    data = np.ones(d.nnz, dtype=np.int8)
    a = sp.csr_array((data, d.indices, d.indptr), shape=(n, n))
    t = a.T.tocsr()  # linear-time transpose; its indices come out sorted
    t_indptr = t.indptr.astype(np.int64)
    t_indices = t.indices.astype(np.int64)
    if np.array_equal(t_indptr, d.indptr) and np.array_equal(t_indices, d.indices):
        return d
    return D.union([d, D.Deps((n,), n, t_indptr, t_indices)], (n,))
