"""A content-addressed store of pattern artifacts, on a local filesystem or an object store.

Layout under the root (default ``artifacts/``; or ``s3://bucket/prefix``)::

    sparsity/<key>.json                     pointer: names the published artifact of <key>
    sparsity/<key>.<stamp>-<random>.zarr    SparsityPattern of an objective's Hessian
    coloring/<key>.json, coloring/<key>.<stamp>-<random>.zarr    ColoredPattern built from it
    jax_cache/                              JAX's persistent compilation cache (local roots)

Publication works the same everywhere (see :mod:`asdex_pipe.store.publish`): each writer
writes its own uniquely named group, then tries to create the key's pointer once; one
writer wins, the others delete their copy and use the winner's. Readers only follow
pointers, and every load is validated and checked against its checksum, so no partial or
damaged artifact is ever used. Each artifact's ``provenance`` attribute records what it was
built from (objective, input_shape, dtype, algorithm, order, created, key), which the lookup
and listing read without knowing any hash.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asdex_pipe.pattern import MODES, ColoredPattern, SparsityPattern
from asdex_pipe.store import publish, records
from asdex_pipe.store.formats import ArtifactError, write_new_record, zarr_store
from asdex_pipe.store.location import Location

log = logging.getLogger(__name__)

KINDS = {"sparsity": SparsityPattern, "coloring": ColoredPattern}
# A pointer found invalid is replaced; a few rounds cover writers racing to replace it.
_PUBLISH_ATTEMPTS = 3


@dataclass(frozen=True)
class ArtifactInfo:
    """What the listing shows of one published artifact."""

    kind: str
    path: str
    key: str
    objective: str
    input_shape: tuple[int, ...]
    nnz: int
    colors: int | None
    algorithm: str | None
    order: str | None
    mode: str | None
    created: str
    dtype: str | None = None
    size: int | None = None
    problem: str | None = None  # why it is invalid (corrupt, damaged); None when it loads

    @property
    def ok(self) -> bool:
        """True when the artifact loads and matches its checksum."""
        return self.problem is None


@dataclass(frozen=True)
class Leftover:
    """An artifact group no pointer names: a lost race, a killed writer or a replaced artifact."""

    kind: str
    name: str
    path: str
    written: _dt.datetime


class ArtifactStore:
    """Content-addressed artifact store.

    Args:
        root: local directory (relative paths are taken from the current directory) or an
            fsspec URL, ``file://...`` or ``s3://bucket/prefix``.
        storage_options: fsspec options for a URL root, e.g. ``{"endpoint_url": ...}`` or
            credentials (``key``, ``secret``); ignored for local roots.

    Raises:
        ValueError: for a URL scheme without an atomic create-once write.
        ImportError: for ``s3://`` without ``s3fs`` (``pip install 'asdex_pipe[s3]'``).
    """

    def __init__(self, root: Any, storage_options: Mapping[str, Any] | None = None):
        self.location = Location.of(root, storage_options)
        publish.check_protocol(self.location)
        if not self.location.is_local:
            self.location.fs()  # fail now, with the extra to install, if s3fs is missing

    @property
    def root(self) -> str:
        """The store's root: an absolute local path or a URL."""
        return self.location.url

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec options of a URL root ({} for local roots)."""
        return dict(self.location.storage_options)

    def _check_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")

    def _pointer(self, kind: str, key: str) -> publish.Pointer | None:
        """The key's pointer; None when unpublished. Raises PointerError when damaged."""
        blob = publish.read_object(self.location, f"{kind}/{key}.json")
        if blob is None:
            return None
        return publish.Pointer.from_json(blob, key, self.location.child(kind, f"{key}.json"))

    def path(self, kind: str, key: str) -> str | None:
        """Path or URL of the published artifact of ``kind`` and ``key``; None if unpublished."""
        self._check_kind(kind)
        try:
            pointer = self._pointer(kind, key)
        except publish.PointerError:
            return None
        return None if pointer is None else self.location.child(kind, pointer.artifact)

    def load(self, kind: str, key: str) -> SparsityPattern | ColoredPattern | None:
        """The published artifact, or None when absent or invalid (an invalid one is logged)."""
        artifact, problem = self.load_checked(kind, key)
        if problem is not None:
            log.warning("ignoring invalid artifact: %s", problem)
        return artifact

    def load_checked(
        self, kind: str, key: str
    ) -> tuple[SparsityPattern | ColoredPattern | None, str | None]:
        """``(artifact, None)`` for a valid published artifact, ``(None, None)`` when ``key``
        is unpublished, ``(None, why)`` when the published one is invalid (damaged pointer or
        group, failed validation or checksum). Logs nothing: the caller reports ``why``."""
        self._check_kind(kind)
        try:
            pointer = self._pointer(kind, key)
            if pointer is None:
                return None, None
            url = self.location.child(kind, pointer.artifact)
            artifact, attrs = self._load_at(kind, url)
            if attrs["checksum"] != pointer.checksum:
                raise ArtifactError(f"{url} does not match the checksum its pointer publishes")
            return artifact, None
        except (ArtifactError, publish.PointerError) as exc:
            return None, str(exc)

    def _load_at(self, kind: str, url: str) -> tuple[Any, dict[str, Any]]:
        from asdex_pipe.store import formats

        arrays, attrs = formats.load_record(url, storage_options=self.storage_options)
        out = records.decode(KINDS[kind], arrays, attrs, source=url)
        formats.verify_checksum(arrays, attrs, url)
        return out, attrs

    def save(self, kind: str, key: str, artifact: SparsityPattern | ColoredPattern) -> str:
        """Write ``artifact`` and publish it under ``key``; returns the published path or URL.

        When another writer published ``key`` first, its artifact is kept (same key, same
        content) and ours is deleted; a published artifact that fails validation (tampered,
        damaged) is replaced.
        """
        self._check_kind(kind)
        if not isinstance(artifact, KINDS[kind]):
            raise TypeError(f"a {kind} artifact must be a {KINDS[kind].__name__}")
        name = publish.unique_name(key)
        url = self.location.child(kind, name)
        attrs = write_new_record(url, *records.encode(artifact), self.storage_options)
        pointer = publish.Pointer(name, attrs["checksum"], _now())
        for _ in range(_PUBLISH_ATTEMPTS):
            if publish.create_once(self.location, f"{kind}/{key}.json", pointer.to_json()):
                return url
            if self.load_checked(kind, key)[0] is not None:
                publish.remove(self.location, f"{kind}/{name}", recursive=True)
                return self.path(kind, key) or url
            # The published one is invalid: withdraw its pointer (its group becomes a
            # leftover for `clean`) and try again.
            publish.remove(self.location, f"{kind}/{key}.json")
        raise ArtifactError(f"could not publish {url}: the pointer of {key!r} kept changing")

    def entries(
        self, *, validate: bool = False, sizes: bool = False, include_invalid: bool = False
    ) -> list[ArtifactInfo]:
        """The published artifacts in the store, oldest first.

        Args:
            validate: load each artifact fully (arrays and checksum, O(nnz)) and record why
                an invalid one is invalid in ``problem``; False reads attributes only, which
                still catches artifacts whose pointer or attributes are unreadable.
            sizes: also measure each artifact's bytes (a listing of its files).
            include_invalid: also return the invalid ones (``problem`` set); by default
                they are left out.
        """
        out = []
        for kind in KINDS:
            for name in publish.list_names(self.location, kind):
                if not name.endswith(".json") or name.startswith("."):
                    continue
                key = name[: -len(".json")]
                url = self.location.child(kind, name)
                problem = None
                attrs: dict[str, Any] = {}
                try:
                    pointer = self._pointer(kind, key)
                    if pointer is None:  # removed meanwhile
                        continue
                    url = self.location.child(kind, pointer.artifact)
                    attrs = self._attrs(url)
                    if "kind" not in attrs:
                        raise ArtifactError(f"{url} has no 'kind' attribute")
                except Exception as exc:  # a damaged pointer or group
                    problem = str(exc) or type(exc).__name__
                if problem is None and validate:
                    problem = self.load_checked(kind, key)[1]
                if problem is not None and not include_invalid:
                    continue
                prov = attrs.get("provenance") if isinstance(attrs.get("provenance"), dict) else {}
                out.append(
                    ArtifactInfo(
                        kind=kind,
                        path=url,
                        key=key,
                        objective=str(prov.get("objective", "?")),
                        input_shape=tuple(prov.get("input_shape", ())),
                        nnz=_int(attrs.get("nnz"), -1),
                        colors=attrs.get("num_colors"),
                        algorithm=attrs.get("algorithm"),
                        order=attrs.get("order"),
                        mode=attrs.get("mode"),
                        created=str(prov.get("created", "")),
                        dtype=prov.get("dtype"),
                        size=self._size(url) if sizes else None,
                        problem=problem,
                    )
                )
        return sorted(out, key=lambda e: e.created)

    def _size(self, url: str) -> int | None:
        """Bytes under ``url`` (a group or a file); None when it cannot be measured."""
        try:
            if self.location.is_local:
                import os

                if os.path.isfile(url):
                    return os.path.getsize(url)
                return sum(
                    os.path.getsize(os.path.join(d, f))
                    for d, _, files in os.walk(url)
                    for f in files
                )
            fs, _ = self.location.fs()
            return int(fs.du(url.split("://", 1)[1], total=True))
        except Exception:
            return None

    def remove(self, info: ArtifactInfo) -> None:
        """Unpublish and delete one artifact: its pointer first (readers stop seeing it at
        once), then its group."""
        publish.remove(self.location, f"{info.kind}/{info.key}.json")
        if info.path.startswith(self.location.url + "/") and info.path.endswith(".zarr"):
            rel = info.path[len(self.location.url) + 1 :]
            publish.remove(self.location, rel, recursive=True)

    def disk_usage(self) -> dict[str, dict[str, int]]:
        """Bytes and counts in the store: ``{"sparsity": {...}, "coloring": {...},
        "leftovers": {...}, "jax_cache": {...}}``, each ``{"count": c, "bytes": b}``
        (published artifacts per kind, with ``corrupt`` counted apart)."""
        usage: dict[str, dict[str, int]] = {}
        for kind in KINDS:
            usage[kind] = {"count": 0, "bytes": 0, "corrupt": 0}
        for e in self.entries(sizes=True, include_invalid=True):
            usage[e.kind]["count"] += 1
            usage[e.kind]["bytes"] += e.size or 0
            usage[e.kind]["corrupt"] += not e.ok
        left = self.leftovers()
        usage["leftovers"] = {
            "count": len(left),
            "bytes": sum(self._size(item.path) or 0 for item in left),
        }
        cache = self.location.child("jax_cache")
        usage["jax_cache"] = {
            "count": 0,
            "bytes": (self._size(cache) or 0) if self.location.is_local else 0,
        }
        return usage

    def _attrs(self, url: str) -> dict[str, Any]:
        import zarr

        return dict(zarr.open_group(zarr_store(url, self.storage_options), mode="r").attrs)

    def leftovers(self, older_than: _dt.timedelta = _dt.timedelta(0)) -> list[Leftover]:
        """Artifact groups no pointer names, written more than ``older_than`` ago.

        A writer still at work also has an unpublished group, so clean with a margin longer
        than the slowest write.
        """
        cutoff = _dt.datetime.now(_dt.UTC) - older_than
        out = []
        for kind in KINDS:
            names = publish.list_names(self.location, kind)
            published = set()
            for name in names:
                if name.endswith(".json") and not name.startswith("."):
                    try:
                        pointer = self._pointer(kind, name[: -len(".json")])
                    except publish.PointerError:
                        continue
                    if pointer is not None:
                        published.add(pointer.artifact)
            for name in names:
                parsed = publish.split_name(name)
                if parsed is None or name in published or parsed[1] > cutoff:
                    continue
                out.append(Leftover(kind, name, self.location.child(kind, name), parsed[1]))
        return out

    def clean(self, older_than: _dt.timedelta = _dt.timedelta(hours=1)) -> list[Leftover]:
        """Delete the :meth:`leftovers` older than ``older_than``; returns what was deleted."""
        gone = self.leftovers(older_than)
        for item in gone:
            publish.remove(self.location, f"{item.kind}/{item.name}", recursive=True)
        return gone

    def lookup(
        self,
        objective: str,
        input_shape: Any,
        *,
        kind: str = "coloring",
        algorithm: str | None = None,
        order: str | None = None,
        mode: str | None = None,
    ) -> str:
        """Find the newest published artifact for an objective and shape without its hash.

        Args:
            objective: objective name as recorded by the pipeline (e.g. ``"rosenbrock"``).
            input_shape: int or sequence of ints.
            kind: ``"coloring"`` (default) or ``"sparsity"``.
            algorithm, order: coloring filters (None = any).
            mode: ``"HVP"``/``"JVP"``/``"VJP"``/``"JVP+VJP"``; an HVP evaluation mode such as
                ``"fwd_over_rev"`` means ``"HVP"`` (colorings do not depend on it).

        Returns:
            The artifact's path (local root) or URL.

        Raises:
            FileNotFoundError: listing what the store does hold for that objective.
        """
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        if mode is not None and mode not in MODES:
            mode = "HVP"
        entries = self.entries()
        candidates = [
            e
            for e in entries
            if e.ok
            and e.kind == kind
            and e.objective == objective
            and e.input_shape == shape
            and (algorithm is None or e.algorithm == algorithm)
            and (order is None or e.order == order)
            and (mode is None or e.mode == mode)
        ]
        # Newest valid one: a corrupt artifact is never offered (validation is O(nnz) and
        # only the candidates pay it).
        match = next(
            (e for e in reversed(candidates) if self.load_checked(e.kind, e.key)[1] is None), None
        )
        if match is None:
            held = [
                f"{e.kind} {e.input_shape} {e.algorithm or ''}".strip()
                for e in entries
                if e.objective == objective and e.ok
            ]
            corrupt = len(candidates)
            raise FileNotFoundError(
                f"no {kind} artifact for objective {objective!r}, shape {shape}"
                + (f", algorithm {algorithm!r}" if algorithm else "")
                + f" in {self.root}; it holds for {objective!r}: {held or 'nothing'}"
                + (
                    f" ({corrupt} matching artifact(s) are corrupt: rebuild them with the "
                    "pipeline, or remove them with `python -m asdex_pipe.artifacts rm --corrupt`)"
                    if corrupt
                    else ""
                )
            )
        return match.path


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")
