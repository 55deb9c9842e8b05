"""Reading and writing artifact records as ``.npz`` files or Zarr v3 groups.

A record is a set of named 1-D integer arrays plus a JSON-serialisable
attribute dict. :func:`save_record` writes a local file atomically (built under a
temporary name in the same directory, then renamed into place);
:func:`write_new_record` writes a Zarr group at a fresh, unique location (local or
an object store), which the artifact store then publishes. Loads validate and
never unpickle or execute anything.

Zarr layout (one group per artifact)::

    <name>.zarr/
      zarr.json          group metadata; attributes: kind, format_version, shape, nnz,
                         [mode, algorithm, order, num_colors], provenance, checksum
      rows/              int32 or int64, shape (nnz,)  row index of each nonzero (row-major)
      cols/              same length, column index
      colors/            ColoredPattern only: int32, shape (n,) or (m,) for VJP; -1 = unused

The ``checksum`` attribute, ``{"algorithm": "crc32", "value": <uint32>}``, is one running
``zlib.crc32`` over (1) each array present among rows, cols, colors, in that order, as
little-endian int64 bytes (whatever dtype it is stored in), then (2) the UTF-8 bytes of
``json.dumps(header, sort_keys=True, separators=(",", ":"))`` where ``header`` holds the
attributes among :data:`CHECKSUM_ATTRS` that are present. See :func:`checksum`. It detects
damaged files and hand edits that keep the record self-consistent; it is not a signature.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import zlib
from pathlib import Path
from typing import Any

import numpy as np

#: Bumped whenever the on-disk layout changes incompatibly. Version 2 added the ``checksum``
#: attribute; version 1 files (no checksum) are rejected, since nothing could vouch for them.
FORMAT_VERSION = 2

_ARRAY_NAMES = ("rows", "cols", "colors")
_ATTRS_KEY = "__attrs__"
#: Attributes the checksum covers besides the arrays (those of them a record has).
CHECKSUM_ATTRS = ("kind", "shape", "nnz", "mode", "algorithm", "order", "num_colors")
# Arrays are checksummed in blocks of this many elements (converted to int64 block by block,
# so no full-size copy is made).
_CRC_BLOCK = 1 << 16
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


def _prepared_attrs(
    path: Any, arrays: dict[str, np.ndarray], attrs: dict[str, Any]
) -> dict[str, Any]:
    """``attrs`` with ``format_version`` and ``checksum`` added, as a reader will see them."""
    attrs = {**attrs, "format_version": FORMAT_VERSION}
    try:
        attrs_json = json.dumps(attrs)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"cannot save {str(path)!r}: its attributes (provenance included) must be "
            f"JSON-serialisable: {exc}"
        ) from None
    # The checksum is taken over the attributes as a reader will see them (after JSON).
    attrs = json.loads(attrs_json)
    attrs["checksum"] = {"algorithm": "crc32", "value": checksum(arrays, attrs)}
    return attrs


def save_record(path: Any, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> None:
    """Atomically write a record to a local ``path`` (``.npz`` or ``.zarr`` by suffix).

    An existing file or group at ``path`` is replaced.

    Args:
        path: local destination; its parent directory is created if needed.
        arrays: name -> 1-D integer array (names from rows, cols, colors).
        attrs: JSON-serialisable attributes; ``format_version`` and ``checksum`` are added.
    """
    from asdex_pipe.store.location import local_path

    local = local_path(path if not isinstance(path, Path) else str(path))
    if local is None:
        raise ValueError(
            f"save() writes local files only, got {str(path)!r}; to put artifacts on an object "
            "store use an ArtifactStore (python -m asdex_pipe store.root=s3://...)"
        )
    path = local
    suffix = _suffix(path)
    attrs = _prepared_attrs(path, arrays, attrs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_sibling(path, "tmp")
    try:
        if suffix == ".npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays, **{_ATTRS_KEY: np.array(json.dumps(attrs))})
            os.replace(tmp, path)
            return
        _write_zarr(str(tmp), arrays, attrs)
        _replace_dir(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_new_record(
    url: str,
    arrays: dict[str, np.ndarray],
    attrs: dict[str, Any],
    storage_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a record as a Zarr group at ``url``, a location nobody else writes to.

    Not atomic by itself: the artifact store writes under a unique name and only then
    publishes it. The attributes go last, so a group with attributes was fully written.

    Args:
        url: local path or fsspec URL ending in ``.zarr``; must not exist yet.
        arrays, attrs: the record, as for :func:`save_record`.
        storage_options: fsspec options for a remote URL.

    Returns:
        The attributes as written (with ``format_version`` and ``checksum``).
    """
    _suffix(Path(url))
    attrs = _prepared_attrs(url, arrays, attrs)
    _write_zarr(url, arrays, attrs, storage_options)
    return attrs


def _write_zarr(
    url: str,
    arrays: dict[str, np.ndarray],
    attrs: dict[str, Any],
    storage_options: dict[str, Any] | None = None,
) -> None:
    import zarr

    group = zarr.open_group(store=zarr_store(url, storage_options), mode="w", zarr_format=3)
    for name, data in arrays.items():
        data = np.ascontiguousarray(data)
        arr = group.create_array(
            name, shape=data.shape, dtype=data.dtype, chunks=(max(1, min(_CHUNK, data.size)),)
        )
        if data.size:
            arr[:] = data
    # Attributes go last: a group whose attributes are present was fully written.
    group.attrs.update(attrs)


def zarr_store(url: str, storage_options: dict[str, Any] | None = None) -> Any:
    """What ``zarr.open_group`` takes for ``url``: a local path string or an fsspec store.

    Args:
        url: local path, ``file://`` or remote fsspec URL of a Zarr group.
        storage_options: fsspec options for a remote URL.
    """
    from asdex_pipe.store.location import filesystem, local_path

    local = local_path(url)
    if local is not None:
        return str(local)
    from zarr.storage import FsspecStore

    fs, path = filesystem(url, {**(storage_options or {}), "asynchronous": True})
    return FsspecStore(fs, path=path)


def _replace_dir(tmp: Path, path: Path) -> None:
    """Rename directory ``tmp`` to ``path``, replacing what is there."""
    try:
        os.rename(tmp, path)
        return
    except OSError:
        if not path.exists():
            raise
    old = _temp_sibling(path, "old")
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except OSError:
        # Another writer put its copy in place first; it holds the same content.
        if not path.exists():
            os.rename(old, path)
            raise
    shutil.rmtree(old, ignore_errors=True)


def checksum(arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> int:
    """CRC-32 of a record's arrays and of its :data:`CHECKSUM_ATTRS` (the ``checksum`` value).

    One running ``zlib.crc32``: first each of rows, cols, colors that ``arrays`` holds, in that
    order, as little-endian int64 bytes; then ``json.dumps(header, sort_keys=True,
    separators=(",", ":"))`` encoded as UTF-8, ``header`` being the attributes named in
    :data:`CHECKSUM_ATTRS` that ``attrs`` holds.
    """
    crc = 0
    for name in _ARRAY_NAMES:
        if name not in arrays:
            continue
        a = np.asarray(arrays[name]).reshape(-1)
        for start in range(0, a.size, _CRC_BLOCK):
            block = np.ascontiguousarray(a[start : start + _CRC_BLOCK], dtype="<i8")
            crc = zlib.crc32(block, crc)
    header = {k: attrs[k] for k in CHECKSUM_ATTRS if k in attrs}
    blob = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return zlib.crc32(blob, crc)


def verify_checksum(arrays: dict[str, np.ndarray], attrs: dict[str, Any], source: Any) -> None:
    """Raise :class:`ArtifactError` unless the record matches its recorded ``checksum``.

    ``attrs`` must have passed :func:`load_record` (which checks the attribute's form).
    """
    expected = attrs["checksum"]["value"]
    actual = checksum(arrays, attrs)
    if actual != expected:
        raise ArtifactError(
            f"{source} is corrupt: its arrays and attributes do not match their checksum "
            f"(crc32 {actual:#010x}, recorded {expected:#010x}); the file was tampered with "
            "or damaged"
        )


def load_record(
    path: Any, storage_options: dict[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a record written by :func:`save_record` or :func:`write_new_record`.

    The content is not compared with its checksum here: callers validate it first (for the
    most specific message) and then call :func:`verify_checksum`.

    Args:
        path: a ``.npz`` file or ``.zarr`` group: local path or fsspec URL.
        storage_options: fsspec options for a remote URL (endpoint, credentials).

    Returns:
        (arrays, attrs): the 1-D integer arrays by name, and the attribute dict.

    Raises:
        ArtifactError: when the file is missing, unreadable, truncated, not of the current
            format version, or malformed (attributes not a JSON object, a bad or missing
            checksum attribute, arrays not 1-D integer, unexpected entries).
    """
    from asdex_pipe.store.location import filesystem, local_path

    where = str(path)
    suffix = _suffix(Path(where))
    local = local_path(where)
    if local is not None:
        if not local.exists():
            raise ArtifactError(f"no artifact at {where!r}")
        where = str(local)
    else:
        fs, inner = filesystem(where, storage_options)
        if not fs.exists(inner):
            raise ArtifactError(f"no artifact at {where!r}")
    path = where
    try:
        if suffix == ".npz":
            if local is not None:
                arrays, attrs = _read_npz(path, path)
            else:
                with fs.open(inner, "rb") as fh:
                    arrays, attrs = _read_npz(fh, path)
        else:
            arrays, attrs = _read_zarr(path, storage_options)
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(f"{path} is unreadable or truncated: {exc}") from None
    if not isinstance(attrs, dict):
        raise ArtifactError(
            f"{path} is corrupt: its attributes must be a JSON object, got "
            f"{type(attrs).__name__} {attrs!r:.80}"
        )
    version = attrs.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ArtifactError(f"{path} has no valid format_version (got {version!r:.80})")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format_version {version}; this asdex_pipe reads up to "
            f"{FORMAT_VERSION}. Upgrade asdex_pipe to read it."
        )
    if version < FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format_version {version}, written by an older asdex_pipe without a "
            f"content checksum; this asdex_pipe reads format_version {FORMAT_VERSION}. "
            "Re-create the artifact (an artifact store recomputes it by itself)."
        )
    _check_checksum_attr(attrs.get("checksum"), path)
    for name, a in arrays.items():
        if a.ndim != 1 or a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
            raise ArtifactError(
                f"{path}: array {name!r} must be 1-D integer, got {a.dtype}{a.shape}"
            )
    return arrays, attrs


def _check_checksum_attr(value: Any, path: Any) -> None:
    if value is None:
        raise ArtifactError(f"{path} is corrupt: it has no 'checksum' attribute")
    if (
        not isinstance(value, dict)
        or set(value) != {"algorithm", "value"}
        or value["algorithm"] != "crc32"
        or isinstance(value["value"], bool)
        or not isinstance(value["value"], int)
        or not 0 <= value["value"] < 2**32
    ):
        raise ArtifactError(
            f"{path} is corrupt: attribute 'checksum' must be "
            f'{{"algorithm": "crc32", "value": <integer in [0, 2**32)>}}, got {value!r:.120}'
        )


def _unexpected(path: Any, names: Any) -> None:
    extra = sorted(set(names) - {*_ARRAY_NAMES, _ATTRS_KEY})
    if extra:
        raise ArtifactError(
            f"{path} is corrupt: unexpected entries {extra} (an artifact holds only "
            f"{', '.join(_ARRAY_NAMES)})"
        )


def _read_npz(source: Any, path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(source, allow_pickle=False) as data:
        if _ATTRS_KEY not in data.files:
            raise ArtifactError(f"{path} has no attributes record; not an asdex_pipe artifact")
        _unexpected(path, data.files)
        raw = data[_ATTRS_KEY]
        if raw.ndim != 0 or raw.dtype.kind != "U":
            raise ArtifactError(
                f"{path} is corrupt: {_ATTRS_KEY} must be a single JSON string, got "
                f"{raw.dtype}{raw.shape}"
            )
        try:
            attrs = json.loads(str(raw))
        except ValueError as exc:
            raise ArtifactError(
                f"{path} is corrupt: {_ATTRS_KEY} is not valid JSON: {exc}"
            ) from None
        arrays = {k: data[k] for k in data.files if k in _ARRAY_NAMES}
    return arrays, attrs


def _read_zarr(
    path: str, storage_options: dict[str, Any] | None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import zarr

    group = zarr.open_group(store=zarr_store(path, storage_options), mode="r")
    attrs = dict(group.attrs)
    if "kind" not in attrs:
        raise ArtifactError(f"{path} has no artifact attributes; it was not completely written")
    _unexpected(path, group.keys())
    arrays = {}
    for name in _ARRAY_NAMES:
        if name in group:
            arrays[name] = np.asarray(group[name][:])
    return arrays, attrs
