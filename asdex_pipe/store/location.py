"""Where artifacts live: a local directory or an object store, addressed by path or fsspec URL.

Local paths and ``file://`` URLs map to the local filesystem; ``s3://bucket/prefix`` maps to
S3 (or any S3-compatible endpoint given in ``storage_options``) through ``s3fs``, which is the
optional extra ``asdex_pipe[s3]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: URL schemes an artifact store can publish to: each has an atomic create-once write.
STORE_PROTOCOLS = ("file", "s3")


def is_url(path: Any) -> bool:
    """True for ``scheme://...`` strings (a local path never contains ``://``)."""
    return isinstance(path, str) and "://" in path


def scheme(path: Any) -> str:
    """The URL scheme of ``path``, ``"file"`` for plain local paths."""
    return path.split("://", 1)[0].lower() if is_url(path) else "file"


def local_path(path: Any) -> Path | None:
    """The local :class:`Path` of a plain path or ``file://`` URL; None for remote URLs."""
    if not is_url(path):
        return Path(path).expanduser()
    if scheme(path) == "file":
        return Path(path.split("://", 1)[1]).expanduser()
    return None


def filesystem(url: str, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """Return ``(fs, path)``, the fsspec filesystem of ``url`` and the path within it.

    Raises:
        ImportError: naming the extra to install when the scheme's fsspec backend is missing.
    """
    import fsspec

    # Listings must be fresh: another process may have published or cleaned since.
    options = {"use_listings_cache": False, **dict(storage_options or {})}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        proto = scheme(url)
        extra = " (pip install 'asdex_pipe[s3]')" if proto == "s3" else ""
        raise ImportError(
            f"reading or writing {url!r} needs the {proto} backend{extra}: {exc}"
        ) from None
    return fs, path


@dataclass(frozen=True)
class Location:
    """A directory-like place, local or remote, with the few operations the store needs.

    Attributes:
        url: what the user gave, normalised: an absolute local path, or a URL without a
            trailing slash.
        storage_options: fsspec options (endpoint, credentials) for remote URLs.
    """

    url: str
    storage_options: Mapping[str, Any]

    @classmethod
    def of(cls, root: Any, storage_options: Mapping[str, Any] | None = None) -> Location:
        """Normalise ``root`` (path or URL); relative local paths are taken from the cwd.
        An empty root is refused (ValueError) rather than read as the cwd."""
        if not str(root).strip():
            raise ValueError("the store root is empty; give a directory or a URL")
        local = local_path(root if not isinstance(root, Path) else str(root))
        if local is not None:
            return cls(str(local.resolve()), {})
        return cls(str(root).rstrip("/"), dict(storage_options or {}))

    @property
    def is_local(self) -> bool:
        """True when this location is a local directory."""
        return not is_url(self.url)

    def child(self, *parts: str) -> str:
        """URL (or local path) of ``parts`` below this location."""
        return "/".join([self.url, *parts])

    def fs(self) -> tuple[Any, str]:
        """``(fsspec filesystem, path)`` of this location."""
        if self.is_local:
            import fsspec

            return fsspec.filesystem("file"), self.url
        return filesystem(self.url, self.storage_options)
