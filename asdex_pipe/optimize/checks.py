"""Input checks shared by the optimizer and the estimators, run before any real work.

Each raises ``ValueError`` with a message naming the argument, so a bad configuration fails
in milliseconds instead of after a compile or halfway through a run.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import jax
import numpy as np


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
    """Check by abstract evaluation (no FLOPs) that ``f(x)`` is a real scalar.

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
    if not hasattr(out, "shape") or out.shape != ():
        got = getattr(out, "shape", type(out).__name__)
        raise ValueError(f"{name} must return a scalar, got output of shape {got}")


def check_positive_int(value: Any, name: str, *, allow_none: bool = False) -> None:
    """Raise ValueError unless ``value`` is an integer >= 1 (or None when allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def check_positive_real(value: Any, name: str) -> None:
    """Raise ValueError unless ``value`` is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
