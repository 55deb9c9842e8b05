"""Input checks shared by the optimizer and the estimators, run before any real work.

Each raises ``ValueError`` with a message naming the argument, so a bad configuration fails
in milliseconds instead of after a compile or halfway through a run.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import jax
import numpy as np

from asdex_pipe.vocabulary import check_positive_int as _positive_int
from asdex_pipe.vocabulary import check_scalar_output


def as_float_array(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a non-empty, finite, real floating numpy array (integers are promoted).

    Args:
        x: array-like of any shape.
        name: argument name used in error messages.

    Raises:
        ValueError: if x is empty, not real numeric, or holds NaN/inf.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one element")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(jax.dtypes.canonicalize_dtype(float))
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} has {bad} non-finite entries (NaN or inf)")
    return arr


def check_scalar_function(f: Callable, x: np.ndarray, name: str = "f") -> None:
    """Check by abstract evaluation (no FLOPs) that ``f(x)`` is a scalar: any size-1
    output, the one definition of :mod:`asdex_pipe.vocabulary` (callers that need ``()``
    wrap ``f`` with :func:`asdex_pipe.vocabulary.scalar_function`).

    Raises:
        ValueError: if f is not callable, fails to trace at x's shape/dtype (e.g. a 2-D
            objective given a 1-D point), or does not return a scalar.
    """
    if not callable(f):
        raise ValueError(f"{name} must be callable, got {type(f).__name__}")
    spec = jax.ShapeDtypeStruct(x.shape, x.dtype)
    try:
        out = jax.eval_shape(f, spec)
    except Exception as exc:
        raise ValueError(
            f"{name} cannot be evaluated at an input of shape {x.shape} and dtype {x.dtype}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    check_scalar_output(out, name)


def check_positive_int(value: Any, name: str, *, allow_none: bool = False) -> None:
    """Raise ValueError unless ``value`` is an integer >= 1 (or None when allowed)."""
    _positive_int(value, name, allow_none=allow_none)


def check_positive_real(value: Any, name: str) -> None:
    """Raise ValueError unless ``value`` is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
