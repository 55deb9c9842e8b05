"""Checks when a detected coloring is used with a function: is it that function's?

A coloring fixes which entries a sparse Hessian / Jacobian can have; used with a function
whose pattern has other entries it silently returns a wrong matrix (decompression reads
the missing entries' contributions into others). Every pattern detection makes records the
function it was made for: ``provenance["function"]`` (front door: content key, shape,
dtype and name, see :func:`asdex_pipe.frontdoor.detect.function_record`) or the pipeline's
``provenance["key"]`` with ``"input_shape"`` and ``"dtype"`` (the store's sparsity key).

:func:`check_function_fits` compares the key of the function in use with the record. Equal
keys mean the same jaxpr, constants, shapes and detector, so the same pattern: nothing
more to do. Otherwise it detects the function's pattern (cheap next to coloring) and
requires it to be contained in the coloring's (a coloring may over-approximate; extra
entries come back as zeros); if not, :class:`PatternMismatchError`. Patterns without a
detector record (given by hand, e.g. ``SparsityPattern.from_coo``) are the user's statement
and are used as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from asdex_pipe.detection import DETECTOR_VERSION, DensePatternError
from asdex_pipe.fingerprint import traced_key
from asdex_pipe.frontdoor.detect import detected_function, function_name, pattern_for
from asdex_pipe.frontdoor.inputs import InputSpec, one_array_spec
from asdex_pipe.pattern import ColoredPattern, SparsityPattern

__all__ = ["PatternMismatchError", "check_function_fits", "recorded_functions"]

_SHOWN = 5  # missing entries named in the message


class PatternMismatchError(ValueError):
    """A coloring detected for one function is used with another whose sparsity pattern
    it does not contain (the matrix would be wrong). Names both functions."""


def recorded_functions(pattern: SparsityPattern) -> list[dict[str, Any]] | None:
    """The records of the function(s) a detected ``pattern`` was made for.

    Returns a list of ``{"key", "shape", "dtype", "name"}`` (``"name"`` possibly None):
    the front door's ``provenance["function"]`` and the pipeline's key of its objective
    (``"key"``, ``"input_shape"``, ``"dtype"``), whichever are there (a pytree objective
    in the pipeline has both: the augmented function detected, and the flat objective
    its stages use). Empty for a detected pattern without a key (detected by the
    flat-vector detection functions); None for a pattern made by hand (no
    ``"detector"`` in the provenance).
    """
    prov = pattern.provenance
    if "detector" not in prov:
        return None
    records = []
    rec = prov.get("function")
    if isinstance(rec, dict) and {"key", "shape", "dtype"} <= rec.keys():
        records.append({**rec, "name": rec.get("name")})
    if {"key", "input_shape", "dtype"} <= prov.keys():  # the pipeline's sparsity artifacts
        records.append(
            {
                "key": prov["key"],
                "shape": prov["input_shape"],
                "dtype": prov["dtype"],
                "name": prov.get("objective"),
            }
        )
    return records


def _trace_spec(
    spec: InputSpec, input_shape: Any, recorded: dict[str, Any] | None, n: int
) -> InputSpec:
    """The spec to trace the function at: ``spec`` for structured inputs; for one array,
    ``input_shape`` when given, else the recorded shape when it has ``n`` elements, else
    ``(n,)``."""
    if not spec.one_array:
        return spec
    shape = input_shape
    if shape is None:
        shape = None if recorded is None else recorded.get("shape")
        shape = (
            tuple(int(d) for d in shape) if shape is not None and math.prod(shape) == n else (n,)
        )
    return one_array_spec(tuple(shape), spec.dtype, spec.has_aux)


def _key_of(f: Callable, spec: InputSpec, dtype: Any) -> str | None:
    """``f``'s content key as detection would trace it, or None where it cannot be traced
    so (then it is not the recorded function)."""
    traced, shape = detected_function(f, spec)
    try:
        return traced_key(traced, shape, dtype, DETECTOR_VERSION)[0]
    except Exception:  # e.g. f does not trace at the recorded shape or dtype
        return None


def _detect(kind: str, f: Callable, spec: InputSpec, dt: Any, dtype: Any) -> SparsityPattern:
    """``f``'s pattern detected at the recorded dtype ``dt``, or, where ``f`` does not trace
    at it (a function that insists on float32), at the dtype asked for."""
    try:
        return pattern_for(kind, f, spec, dt, record=False)
    except DensePatternError:
        raise
    except Exception:
        if dt is None or dt == dtype:
            raise
        return pattern_for(kind, f, spec, dtype, record=False)


def check_function_fits(
    kind: str,
    f: Callable,
    coloring: ColoredPattern,
    spec: InputSpec,
    input_shape: Any,
    dtype: Any,
    what: str,
) -> None:
    """Raise :class:`PatternMismatchError` unless ``coloring`` serves ``f``.

    Args:
        kind: ``"hessian"`` or ``"jacobian"``.
        f: the function in use (with ``spec.has_aux`` as the user gave it).
        coloring: the coloring given to ``*_from_coloring``.
        spec: ``f``'s inputs (the one-array form or the structured arguments).
        input_shape: the shape the one-array form was given (a tuple), or None.
        dtype: the dtype the user asked for, or None.
        what: the public name, for messages.

    Nothing is checked for hand-made patterns; when ``f``'s content key equals the
    recorded one, nothing is detected either.
    """
    pattern = coloring.sparsity
    records = recorded_functions(pattern)
    if records is None:
        return
    n = pattern.shape[1]
    key = None
    for recorded in records:
        key = _key_of(f, _trace_spec(spec, input_shape, recorded, n), recorded["dtype"])
        if key is not None and key == recorded["key"]:
            return
    # Detect f's pattern as the coloring's own was detected (the first record's shape
    # and dtype), or, where f does not trace so, as asked.
    first = records[0] if records else None
    traced_spec = _trace_spec(spec, input_shape, first, n)
    dt = first["dtype"] if first is not None else dtype
    names = [r["name"] for r in records if r["name"]]
    keys = ", ".join(str(r["key"]) for r in records) or "none recorded"
    theirs = f"{names[0] if names else 'another function'} (key {keys})"
    ours = f"{function_name(f)} (key {key})"
    try:
        mine = _detect(kind, f, traced_spec, dt, dtype)
    except DensePatternError as err:
        if pattern.nnz == pattern.shape[0] * pattern.shape[1]:
            return  # a full pattern contains any
        raise PatternMismatchError(
            f"{what}: the coloring was detected for {theirs}, and the {kind} pattern of "
            f"{ours} is too dense to detect ({err}), so it cannot be checked against the "
            "coloring's. Build the function from f itself (dense route), or give the "
            "pattern by hand (SparsityPattern.from_coo, used unchecked)."
        ) from None
    if mine.shape != pattern.shape:
        raise PatternMismatchError(
            f"{what}: the coloring was detected for {theirs} with pattern shape "
            f"{pattern.shape}, but {ours} has pattern shape {mine.shape}"
        )
    have = pattern.rows.astype(np.int64) * n + pattern.cols
    need = mine.rows.astype(np.int64) * n + mine.cols
    missing = need[~np.isin(need, have, assume_unique=True)]
    if missing.size:
        rows, cols = np.divmod(missing[:_SHOWN], n)
        shown = ", ".join(f"({int(r)}, {int(c)})" for r, c in zip(rows, cols, strict=True))
        more = f" and {missing.size - _SHOWN} more" if missing.size > _SHOWN else ""
        raise PatternMismatchError(
            f"{what}: the coloring was detected for {theirs}; the detected {kind} pattern "
            f"of {ours} is not contained in it: it has {missing.size} entries the coloring "
            f"lacks, {shown}{more}, which the result would get wrong. Detect and color "
            f"this function instead ({kind}_coloring(f, ...)); a pattern given by hand "
            "(SparsityPattern.from_coo, no detector record) is used unchecked."
        )
