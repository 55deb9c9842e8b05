"""Publication of artifacts without rename: unique immutable locations plus create-once pointers.

Object stores have no atomic rename, so an artifact store never moves anything. A writer:

1. writes the artifact as a Zarr group under a name nobody else uses,
   ``<kind>/<key>.<stamp>-<random>.zarr`` (attributes last);
2. publishes it with one small JSON object, ``<kind>/<key>.json``, created only if it does not
   exist yet: a conditional put (``If-None-Match: *``) on S3, a hard link of a fully written
   temporary file on a local filesystem. Exactly one writer of a key succeeds.

Readers only follow pointers; a group no pointer names is a leftover (a writer that lost the
race deletes its own, a killed writer leaves one behind) and ``python -m asdex_pipe.artifacts
clean`` removes those. The pointer also carries the artifact's checksum, which the loaded
artifact must match.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from asdex_pipe.store.location import STORE_PROTOCOLS, Location, scheme

POINTER_FORMAT = "asdex_pipe.pointer"
POINTER_VERSION = 1
_STAMP = "%Y%m%dT%H%M%SZ"


class PointerError(ValueError):
    """A pointer object exists but is not a valid pointer (damaged or foreign)."""


@dataclass(frozen=True)
class Pointer:
    """A publication record: which unique artifact location holds a key.

    Attributes:
        artifact: the artifact's name relative to its kind directory (``<key>.<token>.zarr``).
        checksum: the artifact's ``checksum`` attribute (``{"algorithm": "crc32", ...}``).
        created: UTC time of publication, ISO 8601.
    """

    artifact: str
    checksum: dict[str, Any]
    created: str

    def to_json(self) -> bytes:
        """The pointer object's content."""
        return json.dumps(
            {
                "format": POINTER_FORMAT,
                "version": POINTER_VERSION,
                "artifact": self.artifact,
                "checksum": self.checksum,
                "created": self.created,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, blob: bytes, key: str, source: str) -> Pointer:
        """Parse and check a pointer read from ``source`` for ``key``.

        Raises:
            PointerError: when it is not a JSON pointer of this format naming a group of
                ``key`` in the same directory.
        """
        try:
            data = json.loads(blob)
        except ValueError as exc:
            raise PointerError(f"{source} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != POINTER_FORMAT:
            raise PointerError(f"{source} is not an asdex_pipe pointer")
        if data.get("version") != POINTER_VERSION:
            raise PointerError(f"{source} has pointer version {data.get('version')!r}")
        artifact = data.get("artifact")
        if (
            not isinstance(artifact, str)
            or "/" in artifact
            or not artifact.startswith(f"{key}.")
            or not artifact.endswith(".zarr")
        ):
            raise PointerError(f"{source} names {artifact!r:.80}, not a group of key {key!r}")
        checksum = data.get("checksum")
        if not isinstance(checksum, dict):
            raise PointerError(f"{source} has no checksum")
        return cls(artifact, checksum, str(data.get("created", "")))


def unique_name(key: str) -> str:
    """A fresh artifact name for ``key``: ``<key>.<UTC stamp>-<random>.zarr``."""
    stamp = _dt.datetime.now(_dt.UTC).strftime(_STAMP)
    return f"{key}.{stamp}-{uuid.uuid4().hex[:12]}.zarr"


def split_name(name: str) -> tuple[str, _dt.datetime] | None:
    """``(key, written at)`` of a unique artifact name; None for any other name."""
    if not name.endswith(".zarr") or name.count(".") != 2:
        return None
    key, token, _ = name.split(".")
    stamp = token.split("-", 1)[0]
    try:
        when = _dt.datetime.strptime(stamp, _STAMP).replace(tzinfo=_dt.UTC)
    except ValueError:
        return None
    return key, when


def check_protocol(location: Location) -> None:
    """Refuse a location without an atomic create-once write before anything is written."""
    proto = scheme(location.url)
    if proto not in STORE_PROTOCOLS:
        raise ValueError(
            f"an artifact store needs a local path, file:// or s3:// URL (a storage with an "
            f"atomic create-once write), got {location.url!r}"
        )


def create_once(location: Location, relpath: str, content: bytes) -> bool:
    """Create the object ``relpath`` below ``location`` with ``content`` unless it exists.

    Atomic: readers see either no object or the whole content, and of concurrent callers
    exactly one gets True.

    Returns:
        True if this call created it, False if it already existed.
    """
    if location.is_local:
        target = location.child(relpath)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = f"{os.path.dirname(target)}/.{os.path.basename(target)}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)  # fails if target exists; never exposes a partial file
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
    fs, root = location.fs()
    try:
        fs.pipe_file(f"{root}/{relpath}", content, mode="create")
        return True
    except FileExistsError:
        return False


def read_object(location: Location, relpath: str) -> bytes | None:
    """Content of ``relpath`` below ``location``; None when it does not exist."""
    if location.is_local:
        try:
            with open(location.child(relpath), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
    fs, root = location.fs()
    try:
        return fs.cat_file(f"{root}/{relpath}")
    except FileNotFoundError:
        return None


def remove(location: Location, relpath: str, *, recursive: bool = False) -> None:
    """Delete ``relpath`` below ``location`` (a tree when ``recursive``); missing is fine."""
    fs, root = location.fs()
    try:
        fs.rm(f"{root}/{relpath}", recursive=recursive)
    except FileNotFoundError:
        pass


def list_names(location: Location, reldir: str) -> list[str]:
    """Names directly below ``reldir`` (files and directories); [] when it does not exist."""
    fs, root = location.fs()
    try:
        entries = fs.ls(f"{root}/{reldir}", detail=False, refresh=True)
    except FileNotFoundError:
        return []
    except TypeError:  # filesystems without a refresh flag
        entries = fs.ls(f"{root}/{reldir}", detail=False)
    return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in entries)
