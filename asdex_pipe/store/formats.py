"""Reading and writing artifact records as ``.npz`` files or Zarr v3 groups.

A record is a set of named 1-D integer arrays plus a JSON-serialisable
attribute dict. Both formats are written atomically (built under a temporary
name in the same directory, then renamed into place) and validated on load:
nothing is unpickled or executed.

Zarr layout (one group per artifact)::

    <name>.zarr/
      zarr.json          group metadata; attributes: kind, format_version, shape, nnz,
                         [mode, algorithm, order, num_colors], provenance
      rows/              int32 or int64, shape (nnz,)  row index of each nonzero (row-major)
      cols/              same length, column index
      colors/            ColoredPattern only: int32, shape (n,) or (m,) for VJP; -1 = unused
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

#: Bumped whenever the on-disk layout changes incompatibly.
FORMAT_VERSION = 1

_ARRAY_NAMES = ("rows", "cols", "colors")
_ATTRS_KEY = "__attrs__"
# Index arrays are long and 1-D; big chunks keep the per-chunk overhead negligible.
_CHUNK = 1 << 22


class ArtifactError(ValueError):
    """An artifact file is missing, truncated, tampered with, or of the wrong kind."""


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".zarr"):
        raise ValueError(f"artifact path must end in .npz or .zarr, got {str(path)!r}")
    return suffix


def _temp_sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def save_record(
    path: Any, arrays: dict[str, np.ndarray], attrs: dict[str, Any], *, replace: bool = True
) -> bool:
    """Atomically write a record to ``path`` (``.npz`` or ``.zarr`` by suffix).

    Args:
        path: destination; its parent directory is created if needed.
        arrays: name -> 1-D integer array (names from rows, cols, colors).
        attrs: JSON-serialisable attributes; ``format_version`` is added.
        replace: when False and a Zarr artifact already sits at ``path`` (for example one a
            concurrent writer of the same content-addressed key just finished), keep it and
            discard ours.

    Returns:
        True if this call's record is the one now at ``path``.
    """
    path = Path(path)
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    attrs = {**attrs, "format_version": FORMAT_VERSION}
    tmp = _temp_sibling(path, "tmp")
    try:
        if suffix == ".npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays, **{_ATTRS_KEY: np.array(json.dumps(attrs))})
            os.replace(tmp, path)
            return True
        _write_zarr(tmp, arrays, attrs)
        return _replace_dir(tmp, path, replace)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def _write_zarr(path: Path, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> None:
    import zarr

    group = zarr.open_group(store=str(path), mode="w", zarr_format=3)
    for name, data in arrays.items():
        data = np.ascontiguousarray(data)
        arr = group.create_array(
            name, shape=data.shape, dtype=data.dtype, chunks=(max(1, min(_CHUNK, data.size)),)
        )
        if data.size:
            arr[:] = data
    # Attributes go last: a group whose attributes are present was fully written.
    group.attrs.update(attrs)


def _replace_dir(tmp: Path, path: Path, replace: bool = True) -> bool:
    """Rename directory ``tmp`` to ``path``; an existing ``path`` is replaced only if asked."""
    try:
        os.rename(tmp, path)
        return True
    except OSError:
        if not path.exists():
            raise
    if not replace:
        return False
    old = _temp_sibling(path, "old")
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except OSError:
        # Another writer put its copy in place first; theirs is as good as ours.
        if not path.exists():
            os.rename(old, path)
            raise
    shutil.rmtree(old, ignore_errors=True)
    return True


def load_record(path: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a record written by :func:`save_record`.

    Returns:
        (arrays, attrs): the 1-D integer arrays by name, and the attribute dict.

    Raises:
        ArtifactError: when the file is missing, unreadable, truncated, or of a newer format.
    """
    path = Path(path)
    suffix = _suffix(path)
    if not path.exists():
        raise ArtifactError(f"no artifact at {str(path)!r}")
    try:
        arrays, attrs = _read_npz(path) if suffix == ".npz" else _read_zarr(path)
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(f"{path} is unreadable or truncated: {exc}") from None
    version = attrs.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ArtifactError(f"{path} has no valid format_version (got {version!r})")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format_version {version}; this asdex_pipe reads up to "
            f"{FORMAT_VERSION}. Upgrade asdex_pipe to read it."
        )
    for name, a in arrays.items():
        if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
            raise ArtifactError(
                f"{path}: array {name!r} must be 1-D integer, got {a.dtype}{a.shape}"
            )
    return arrays, attrs


def _read_npz(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(path, allow_pickle=False) as data:
        if _ATTRS_KEY not in data.files:
            raise ArtifactError(f"{path} has no attributes record; not an asdex_pipe artifact")
        attrs = json.loads(str(data[_ATTRS_KEY]))
        arrays = {k: data[k] for k in data.files if k in _ARRAY_NAMES}
    return arrays, attrs


def _read_zarr(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import zarr

    group = zarr.open_group(store=str(path), mode="r")
    attrs = dict(group.attrs)
    if "kind" not in attrs:
        raise ArtifactError(f"{path} has no artifact attributes; it was not completely written")
    arrays = {}
    for name in _ARRAY_NAMES:
        if name in group:
            arrays[name] = np.asarray(group[name][:])
    return arrays, attrs
