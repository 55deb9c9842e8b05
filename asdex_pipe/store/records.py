"""Patterns as artifact records: encode, decode and validate.

A record is what :mod:`asdex_pipe.store.formats` reads and writes: named 1-D integer arrays
(``rows``, ``cols``, and ``colors`` for a coloring) plus a JSON attribute dict. This module is
the only place that knows how a :class:`~asdex_pipe.pattern.SparsityPattern` or a
:class:`~asdex_pipe.pattern.ColoredPattern` maps onto one, and it validates every field of a
record it decodes: a loaded artifact is either exactly what was saved or an
:class:`~asdex_pipe.store.formats.ArtifactError`.

The dependency goes one way: this module imports :mod:`asdex_pipe.pattern`; the pattern
classes know nothing of files except that their ``save``/``load`` methods delegate here.
The algorithm names a coloring may carry are those of the vocabulary
(:data:`asdex_pipe.vocabulary.COLORING_ALGORITHMS`, the keys of the coloring algorithm
table, which sits above the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from asdex_pipe.indices import INT32_LIMIT
from asdex_pipe.pattern import MODES, ColoredPattern, SparsityPattern
from asdex_pipe.store import formats
from asdex_pipe.store.formats import ArtifactError
from asdex_pipe.vocabulary import COLORING_ALGORITHMS

Artifact = SparsityPattern | ColoredPattern


def encode(artifact: Artifact) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The record of a pattern or coloring: ``(arrays, attrs)`` ready for :mod:`formats`.

    Raises:
        ValueError: for a coloring whose algorithm name an artifact cannot carry.
    """
    if isinstance(artifact, ColoredPattern):
        return _encode_colored(artifact)
    if isinstance(artifact, SparsityPattern):
        return _encode_pattern(artifact)
    raise TypeError(f"expected a SparsityPattern or ColoredPattern, got {type(artifact).__name__}")


def _encode_pattern(p: SparsityPattern) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    attrs = {
        "kind": "SparsityPattern",
        "shape": list(p.shape),
        "nnz": p.nnz,
        "provenance": p.provenance,
    }
    return {"rows": p.rows, "cols": p.cols}, attrs


def _encode_colored(c: ColoredPattern) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    if c.algorithm not in COLORING_ALGORITHMS:
        raise ValueError(
            f"cannot save a coloring of algorithm {c.algorithm!r}: an artifact's "
            f"algorithm must be one of {COLORING_ALGORITHMS}"
        )
    arrays, attrs = _encode_pattern(c.sparsity)
    arrays["colors"] = c.colors
    attrs.update(
        kind="ColoredPattern",
        mode=c.mode,
        algorithm=c.algorithm,
        order=c.order,
        num_colors=c.num_colors,
        provenance=c.provenance,
        sparsity_provenance=c.sparsity.provenance,
    )
    return arrays, attrs


def decode(
    cls: type, arrays: Mapping[str, np.ndarray], attrs: Mapping[str, Any], source: str
) -> Artifact:
    """Validate a record read from ``source`` into an instance of ``cls``.

    Args:
        cls: :class:`SparsityPattern` or :class:`ColoredPattern`, the kind the caller expects.
        arrays, attrs: the record, as :func:`formats.load_record` returns it.
        source: where it came from, for messages.

    Raises:
        ArtifactError: naming the first malformed field.
    """
    if cls is ColoredPattern:
        return _decode_colored(arrays, attrs, source)
    if cls is SparsityPattern:
        _expect_kind(attrs, "SparsityPattern", source)
        return _decode_pattern(arrays, attrs, source)
    raise TypeError(f"cannot decode into {cls!r}")


def save(artifact: Artifact, path: Any) -> None:
    """Write ``artifact`` to a local ``path`` (``.npz`` or ``.zarr`` by suffix), atomically."""
    formats.save_record(path, *encode(artifact))


def load(cls: type, path: Any, storage_options: Mapping[str, Any] | None = None) -> Artifact:
    """Read and fully validate an artifact of class ``cls`` at ``path`` (a path or a URL).

    The content checks come first so that a damaged file gets the most specific message (an
    index out of range, a length that disagrees with ``nnz``); the checksum then catches the
    damage and edits that leave the record self-consistent.

    Args:
        cls: :class:`SparsityPattern` or :class:`ColoredPattern`.
        path: local path, ``file://`` or ``s3://`` URL of a ``.npz`` file or ``.zarr`` group.
        storage_options: fsspec options for a URL (endpoint, credentials).

    Raises:
        ArtifactError: on a missing, truncated, tampered or wrong-kind artifact.
    """
    arrays, attrs = formats.load_record(path, storage_options=storage_options)
    out = decode(cls, arrays, attrs, source=str(path))
    formats.verify_checksum(arrays, attrs, path)
    return out


def _corrupt(source: str, message: str) -> ArtifactError:
    return ArtifactError(f"{source} is corrupt: {message}")


def _attr(attrs: Mapping[str, Any], name: str, source: str) -> Any:
    if name not in attrs:
        raise _corrupt(source, f"it has no {name!r} attribute")
    return attrs[name]


def _int_attr(attrs: Mapping[str, Any], name: str, source: str) -> int:
    value = _attr(attrs, name, source)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _corrupt(
            source, f"attribute {name!r} must be a non-negative integer, got {value!r:.80}"
        )
    return value


def _str_attr(
    attrs: Mapping[str, Any], name: str, source: str, choices: tuple[str, ...] | None = None
) -> str:
    value = _attr(attrs, name, source)
    if not isinstance(value, str) or (choices is not None and value not in choices):
        wanted = f"one of {choices}" if choices is not None else "a string"
        raise _corrupt(source, f"attribute {name!r} must be {wanted}, got {value!r:.80}")
    return value


def _dict_attr(attrs: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    value = _attr(attrs, name, source)
    if not isinstance(value, dict):
        raise _corrupt(source, f"attribute {name!r} must be a JSON object, got {value!r:.80}")
    return dict(value)


def _shape_attr(attrs: Mapping[str, Any], source: str) -> tuple[int, int]:
    value = _attr(attrs, "shape", source)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in value)
    ):
        raise _corrupt(
            source,
            f"attribute 'shape' must be a pair [m, n] of non-negative integers, got {value!r:.80}",
        )
    return int(value[0]), int(value[1])


def _expect_kind(attrs: Mapping[str, Any], kind: str, source: str) -> None:
    got = attrs.get("kind")
    if got != kind:
        raise ArtifactError(f"{source} holds a {got!r:.80} artifact, expected {kind!r}")


def _check_stored_coo(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], source: str
) -> None:
    """Stored coordinates must be in range and strictly increasing row-major (no re-sorting).

    Vectorised, O(nnz), and without int64 copies of the arrays: comparisons run on the stored
    dtype and build a few boolean temporaries.
    """
    if rows.size == 0:
        return
    for name, a, bound in (("rows", rows, shape[0]), ("cols", cols, shape[1])):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0:
            raise _corrupt(source, f"{name} contains a negative index ({lo})")
        if hi >= bound:
            raise _corrupt(source, f"{name} index {hi} is out of range for shape {shape}")
    if rows.size == 1:
        return
    r0, r1, c0, c1 = rows[:-1], rows[1:], cols[:-1], cols[1:]
    if not bool(np.all(r1 >= r0)):
        i = int(np.argmin(r1 >= r0))
        raise _corrupt(
            source,
            f"rows are not sorted: entry {i + 1} has row {int(r1[i])} after row {int(r0[i])} "
            "(loading does not re-sort)",
        )
    ok = r1 > r0
    ok |= c1 > c0
    if not bool(np.all(ok)):  # rows are sorted, so ok[i] fails only within one row
        i = int(np.argmin(ok))
        at = (int(r1[i]), int(c1[i]))
        if c1[i] == c0[i]:
            raise _corrupt(source, f"it holds the entry {at} twice (positions {i}, {i + 1})")
        raise _corrupt(
            source,
            f"cols are not sorted within row {at[0]}: entry {i + 1} has column {at[1]} after "
            f"column {int(c0[i])} (loading does not re-sort)",
        )


def _decode_pattern(
    arrays: Mapping[str, np.ndarray], attrs: Mapping[str, Any], source: str
) -> SparsityPattern:
    shape = _shape_attr(attrs, source)
    nnz = _int_attr(attrs, "nnz", source)
    provenance = _dict_attr(attrs, "provenance", source)
    for name in ("rows", "cols"):
        if name not in arrays:
            raise ArtifactError(f"{source} is truncated: it has no {name!r} array")
    rows, cols = arrays["rows"], arrays["cols"]
    if rows.shape != (nnz,) or cols.shape != (nnz,):
        raise ArtifactError(
            f"{source} is truncated or tampered: nnz={nnz} but rows/cols have "
            f"{rows.shape[0] if rows.ndim else '?'}/{cols.shape[0] if cols.ndim else '?'} entries"
        )
    _check_stored_coo(rows, cols, shape, source)
    # The coordinates were just checked to be canonical, so the constructor may trust them.
    return SparsityPattern(rows, cols, shape, provenance=provenance, _trusted=True)


def _decode_colored(
    arrays: Mapping[str, np.ndarray], attrs: Mapping[str, Any], source: str
) -> ColoredPattern:
    _expect_kind(attrs, "ColoredPattern", source)
    sparsity = _decode_pattern(arrays, attrs, source)
    sparsity.provenance = _dict_attr(attrs, "sparsity_provenance", source)
    mode = _str_attr(attrs, "mode", source, MODES)
    algorithm = _str_attr(attrs, "algorithm", source, COLORING_ALGORITHMS)
    order = _str_attr(attrs, "order", source)
    num_colors = _int_attr(attrs, "num_colors", source)
    provenance = _dict_attr(attrs, "provenance", source)
    if "colors" not in arrays:
        raise ArtifactError(f"{source} is truncated: it has no 'colors' array")
    colors = arrays["colors"]
    if colors.size and not -1 <= int(colors.min()) <= int(colors.max()) <= INT32_LIMIT:
        # Checked before the int32 cast in the constructor, which would wrap such values.
        raise _corrupt(
            source,
            f"colors must lie in [-1, {INT32_LIMIT}], got values from "
            f"{int(colors.min())} to {int(colors.max())}",
        )
    try:
        out = ColoredPattern(sparsity, colors, mode, algorithm, order, provenance=provenance)
    except ValueError as exc:
        raise _corrupt(source, str(exc)) from None
    if out.num_colors != num_colors:
        raise _corrupt(
            source,
            f"it records {num_colors} colors but its color array has {out.num_colors}",
        )
    return out
