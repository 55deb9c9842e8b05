"""Find and list stored artifacts: ``python -m asdex_pipe.artifacts list [--root DIR]``.

Library use::

    from asdex_pipe.artifacts import find_artifact
    path = find_artifact("rosenbrock", [1000], algorithm="star")
    coloring = ColoredPattern.load(path)
"""

from __future__ import annotations

import argparse
import sys
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
) -> Path:
    """Path of the newest stored artifact matching an objective and shape (no hash needed).

    Args:
        objective: objective name as the pipeline records it (e.g. ``"rosenbrock"``).
        input_shape: int or sequence of ints, the objective's input shape.
        algorithm, order: coloring algorithm / vertex order filters (None = any).
        mode: ``"HVP"``, ``"JVP"``, ``"VJP"`` or an HVP mode such as ``"fwd_over_rev"``.
        kind: ``"coloring"`` or ``"sparsity"``.
        root: the store root.

    Raises:
        FileNotFoundError: when nothing matches; the message lists what the store holds.
    """
    return ArtifactStore(root).lookup(
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
            str(e.path.relative_to(store.root)),
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([f"{store.root}:", fmt.format(*header)] + [fmt.format(*r) for r in rows])


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``list`` or ``find``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m asdex_pipe.artifacts")
    parser.add_argument("--root", default="artifacts", help="store root (default: artifacts)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list stored artifacts")
    find = sub.add_parser("find", help="print the path of an artifact")
    find.add_argument("objective")
    find.add_argument("shape", help="e.g. 1000 or 32x32")
    find.add_argument("--algorithm")
    find.add_argument("--order")
    find.add_argument("--kind", default="coloring", choices=["coloring", "sparsity"])
    args = parser.parse_args(argv)
    store = ArtifactStore(args.root)
    if args.command == "list":
        print(format_listing(store))
        return 0
    try:
        shape = [int(d) for d in args.shape.lower().split("x")]
        print(
            store.lookup(
                args.objective, shape, kind=args.kind, algorithm=args.algorithm, order=args.order
            )
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
