"""A content-addressed store of pattern artifacts on the filesystem.

Layout under the root (default ``artifacts/``)::

    sparsity/<key>.zarr     SparsityPattern of an objective's Hessian
    coloring/<key>.zarr     ColoredPattern built from it
    jax_cache/              JAX's persistent compilation cache

Each artifact's ``provenance`` attribute records what it was built from
(objective, input_shape, dtype, algorithm, order, created, key), which the
lookup and listing read without knowing any hash. Writers of the same key may
run concurrently (parallel sweep jobs): each builds its copy under a private
temporary name and renames it into place; the first rename wins and the others
discard theirs, so no reader ever sees a partial artifact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.store.formats import ArtifactError, save_record

log = logging.getLogger(__name__)

KINDS = {"sparsity": SparsityPattern, "coloring": ColoredPattern}


@dataclass(frozen=True)
class ArtifactInfo:
    """What the listing shows of one stored artifact."""

    kind: str
    path: Path
    key: str
    objective: str
    input_shape: tuple[int, ...]
    nnz: int
    colors: int | None
    algorithm: str | None
    order: str | None
    mode: str | None
    created: str


class ArtifactStore:
    """Content-addressed artifact store rooted at a directory.

    Args:
        root: directory of the store; relative paths are taken from the current directory.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()

    def path(self, kind: str, key: str) -> Path:
        """Where the artifact of ``kind`` (``"sparsity"`` or ``"coloring"``) and ``key`` lives."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
        return self.root / kind / f"{key}.zarr"

    def load(self, kind: str, key: str) -> SparsityPattern | ColoredPattern | None:
        """Return the stored artifact, or None when absent or invalid (an invalid one is logged)."""
        path = self.path(kind, key)
        if not path.exists():
            return None
        try:
            return KINDS[kind].load(path)
        except ArtifactError as exc:
            log.warning("ignoring invalid artifact (it will be recomputed): %s", exc)
            return None

    def save(self, kind: str, key: str, artifact: SparsityPattern | ColoredPattern) -> Path:
        """Store ``artifact`` under ``key`` atomically; an equal concurrent write is not an error.

        A valid artifact already at the path is kept (same key, same content); an invalid one
        (e.g. tampered) is replaced.
        """
        path = self.path(kind, key)
        arrays, attrs = artifact._to_record()
        keep_existing = self.load(kind, key) is not None
        save_record(path, arrays, attrs, replace=not keep_existing)
        return path

    def entries(self) -> list[ArtifactInfo]:
        """All valid-looking artifacts in the store, oldest first (reads attributes only)."""
        import zarr

        out = []
        for kind in KINDS:
            for path in sorted((self.root / kind).glob("*.zarr")):
                try:
                    attrs = dict(zarr.open_group(str(path), mode="r").attrs)
                except Exception:  # a foreign or broken directory: not ours to list
                    continue
                if "kind" not in attrs:
                    continue
                prov = attrs.get("provenance") or {}
                out.append(
                    ArtifactInfo(
                        kind=kind,
                        path=path,
                        key=path.stem,
                        objective=str(prov.get("objective", "?")),
                        input_shape=tuple(prov.get("input_shape", ())),
                        nnz=int(attrs.get("nnz", -1)),
                        colors=attrs.get("num_colors"),
                        algorithm=attrs.get("algorithm"),
                        order=attrs.get("order"),
                        mode=attrs.get("mode"),
                        created=str(prov.get("created", "")),
                    )
                )
        return sorted(out, key=lambda e: e.created)

    def lookup(
        self,
        objective: str,
        input_shape: Any,
        *,
        kind: str = "coloring",
        algorithm: str | None = None,
        order: str | None = None,
        mode: str | None = None,
    ) -> Path:
        """Find the newest artifact for an objective and shape without knowing its hash.

        Args:
            objective: objective name as recorded by the pipeline (e.g. ``"rosenbrock"``).
            input_shape: int or sequence of ints.
            kind: ``"coloring"`` (default) or ``"sparsity"``.
            algorithm, order: coloring filters (None = any).
            mode: ``"HVP"``/``"JVP"``/``"VJP"``; an HVP evaluation mode such as
                ``"fwd_over_rev"`` means ``"HVP"`` (colorings do not depend on it).

        Raises:
            FileNotFoundError: listing what the store does hold for that objective.
        """
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        if mode is not None and mode not in ("HVP", "JVP", "VJP"):
            mode = "HVP"
        matches = [
            e
            for e in self.entries()
            if e.kind == kind
            and e.objective == objective
            and e.input_shape == shape
            and (algorithm is None or e.algorithm == algorithm)
            and (order is None or e.order == order)
            and (mode is None or e.mode == mode)
        ]
        if not matches:
            held = [
                f"{e.kind} {e.input_shape} {e.algorithm or ''}".strip()
                for e in self.entries()
                if e.objective == objective
            ]
            raise FileNotFoundError(
                f"no {kind} artifact for objective {objective!r}, shape {shape}"
                + (f", algorithm {algorithm!r}" if algorithm else "")
                + f" in {self.root}; it holds for {objective!r}: {held or 'nothing'}"
            )
        return matches[-1].path
