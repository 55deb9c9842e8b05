"""Find, list and clean stored artifacts: ``python -m asdex_pipe.artifacts list|find|clean``.

``--root`` takes a directory or a URL (``s3://bucket/prefix``), ``--storage-options`` a JSON
object of fsspec options (e.g. ``'{"endpoint_url": "http://127.0.0.1:5000"}'``).

Library use::

    from asdex_pipe.artifacts import find_artifact
    path = find_artifact("rosenbrock", [1000], algorithm="star")
    coloring = ColoredPattern.load(path)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asdex_pipe.store.artifact_store import ArtifactStore


def find_artifact(
    objective: str,
    input_shape: Any,
    *,
    algorithm: str | None = None,
    order: str | None = None,
    mode: str | None = None,
    kind: str = "coloring",
    root: str | Path = "artifacts",
    storage_options: Mapping[str, Any] | None = None,
) -> str:
    """Path or URL of the newest published artifact matching an objective and shape.

    Args:
        objective: objective name as the pipeline records it (e.g. ``"rosenbrock"``).
        input_shape: int or sequence of ints, the objective's input shape.
        algorithm, order: coloring algorithm / vertex order filters (None = any).
        mode: ``"HVP"``, ``"JVP"``, ``"VJP"`` or an HVP mode such as ``"fwd_over_rev"``.
        kind: ``"coloring"`` or ``"sparsity"``.
        root: the store root, a directory or a URL (``s3://bucket/prefix``).
        storage_options: fsspec options for a URL root (endpoint, credentials); pass the same
            to ``ColoredPattern.load``.

    Raises:
        FileNotFoundError: when nothing matches; the message lists what the store holds.
    """
    return ArtifactStore(root, storage_options).lookup(
        objective, input_shape, kind=kind, algorithm=algorithm, order=order, mode=mode
    )


def format_listing(store: ArtifactStore) -> str:
    """Fixed-width table of the store's artifacts: kind, objective, shape, nnz, colors, created."""
    entries = store.entries()
    if not entries:
        return f"no artifacts in {store.root}"
    header = ("kind", "objective", "shape", "nnz", "colors", "algorithm", "created", "path")
    rows = [
        (
            e.kind,
            e.objective,
            "x".join(map(str, e.input_shape)),
            str(e.nnz),
            "" if e.colors is None else str(e.colors),
            e.algorithm or "",
            e.created[:19].replace("T", " "),
            e.path[len(store.root) + 1 :],
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([f"{store.root}:", fmt.format(*header)] + [fmt.format(*r) for r in rows])


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> _dt.timedelta:
    """``"90s"``, ``"30m"``, ``"2h"``, ``"7d"`` -> timedelta.

    Raises:
        ValueError: for anything else.
    """
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"--older-than must look like 90s, 30m, 2h or 7d, got {text!r}")
    return _dt.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def _storage_options(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"--storage-options must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"--storage-options must be a JSON object, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``list``, ``find`` or ``clean``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m asdex_pipe.artifacts")
    parser.add_argument(
        "--root", default="artifacts", help="store root, a directory or URL (default: artifacts)"
    )
    parser.add_argument(
        "--storage-options", help="JSON object of fsspec options for a URL root (endpoint, ...)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list published artifacts")
    find = sub.add_parser("find", help="print the path of an artifact")
    find.add_argument("objective")
    find.add_argument("shape", help="e.g. 1000 or 32x32")
    find.add_argument("--algorithm")
    find.add_argument("--order")
    find.add_argument("--kind", default="coloring", choices=["coloring", "sparsity"])
    clean = sub.add_parser("clean", help="delete unpublished leftovers (killed or losing writers)")
    clean.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    clean.add_argument(
        "--older-than",
        default="1h",
        help="only leftovers written longer ago than this (default 1h; a writer still at work "
        "also has an unpublished artifact)",
    )
    args = parser.parse_args(argv)
    try:
        store = ArtifactStore(args.root, _storage_options(args.storage_options))
        if args.command == "list":
            print(format_listing(store))
        elif args.command == "clean":
            age = parse_duration(args.older_than)
            items = store.leftovers(age) if args.dry_run else store.clean(age)
            verb = "would delete" if args.dry_run else "deleted"
            for item in items:
                print(f"{verb} {item.path} (written {item.written:%Y-%m-%d %H:%M:%S} UTC)")
            print(f"{verb} {len(items)} unpublished artifact(s) older than {args.older_than}")
        else:
            shape = [int(d) for d in args.shape.lower().split("x")]
            print(
                store.lookup(
                    args.objective,
                    shape,
                    kind=args.kind,
                    algorithm=args.algorithm,
                    order=args.order,
                )
            )
    except (FileNotFoundError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
