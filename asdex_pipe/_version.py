"""The package version, read from the installed distribution's metadata.

``pyproject.toml`` is the one place the version is written; this module reads it back without
importing the package (``store/keys.py`` and the pipeline need it, and ``asdex_pipe/__init__``
re-exports it).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("asdex_pipe")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"
