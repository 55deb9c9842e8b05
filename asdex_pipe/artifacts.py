"""See into and tidy a store: ``python -m asdex_pipe.artifacts list|find|rm|du|clean``.

``list`` shows every published artifact (kind, objective, shape, nnz, colors, algorithm and
order, mode, dtype, size, age; corrupt ones marked), ``find`` prints the path of the newest
valid match, ``rm`` unpublishes and deletes artifacts by key, path or filter
(``--dry-run`` shows what it would delete), ``du`` reports the store's size and ``clean``
deletes unpublished leftovers.

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


def format_size(nbytes: int | None) -> str:
    """``"812 B"``, ``"14.2 KiB"``, ``"3.1 MiB"``, ``"1.20 GiB"``; ``"?"`` when unknown."""
    if nbytes is None:
        return "?"
    size = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} TiB"  # pragma: no cover


def format_age(created: str, now: _dt.datetime | None = None) -> str:
    """How long ago an ISO time was: ``"42s"``, ``"17m"``, ``"5h"``, ``"3d"``; ``"?"``."""
    try:
        when = _dt.datetime.fromisoformat(created)
    except ValueError:
        return "?"
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    seconds = ((now or _dt.datetime.now(_dt.UTC)) - when).total_seconds()
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span:
            return f"{int(seconds // span)}{unit}"
    return f"{max(0, int(seconds))}s"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip()] + [fmt.format(*r).rstrip() for r in rows]


def format_listing(store: ArtifactStore) -> str:
    """Fixed-width table of the store's artifacts, each validated: kind, objective, shape,
    nnz, colors, algorithm/order, mode, dtype, size, age, status (``ok`` or ``CORRUPT``,
    with the reason below the table) and path."""
    entries = store.entries(validate=True, sizes=True, include_invalid=True)
    if not entries:
        return f"no artifacts in {store.root}"
    header = (
        "kind", "objective", "shape", "nnz", "colors", "algorithm/order", "mode", "dtype",
        "size", "age", "status", "path",
    )  # fmt: skip
    rows = [
        (
            e.kind,
            e.objective,
            "x".join(map(str, e.input_shape)),
            str(e.nnz) if e.nnz >= 0 else "?",
            "" if e.colors is None else str(e.colors),
            f"{e.algorithm}/{e.order}" if e.algorithm else "",
            e.mode or "",
            e.dtype or "",
            format_size(e.size),
            format_age(e.created),
            "ok" if e.ok else "CORRUPT",
            _relative(store, e.path),
        )
        for e in entries
    ]
    lines = [f"{store.root}:", *_table(header, rows)]
    bad = [e for e in entries if not e.ok]
    if bad:
        lines.append("")
        lines += [f"CORRUPT {_relative(store, e.path)}: {e.problem}" for e in bad]
        lines.append(
            f"{len(bad)} corrupt artifact(s): `find` never returns them; the pipeline rebuilds "
            "one when its stage runs; `rm --corrupt` deletes them."
        )
    return "\n".join(lines)


def _relative(store: ArtifactStore, path: str) -> str:
    prefix = store.root + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def select_artifacts(
    store: ArtifactStore,
    targets: list[str],
    *,
    objective: str | None = None,
    shape: str | None = None,
    kind: str | None = None,
    algorithm: str | None = None,
    corrupt: bool = False,
    older_than: _dt.timedelta | None = None,
) -> list[Any]:
    """The published artifacts ``rm`` acts on.

    An artifact is selected when it matches any of ``targets`` (a key, a key prefix of at
    least 6 characters, ``kind/key``, or its path, relative to the root or absolute) — or
    every artifact when ``targets`` is empty — and every filter given.

    Raises:
        ValueError: when nothing at all is asked for (no target and no filter), or a target
            matches no artifact.
    """
    filters = (objective, shape, kind, algorithm, older_than)
    if not targets and not corrupt and all(f is None for f in filters):
        raise ValueError(
            "rm needs a key, a path or a filter (--objective, --shape, --kind, --algorithm, "
            "--corrupt, --older-than); nothing was deleted"
        )
    entries = store.entries(validate=corrupt, include_invalid=True)
    want_shape = None if shape is None else tuple(int(d) for d in shape.lower().split("x"))
    cutoff = None if older_than is None else _dt.datetime.now(_dt.UTC) - older_than

    def hit(e: Any, target: str) -> bool:
        t = target.rstrip("/")
        rel = _relative(store, e.path)
        names = {e.key, f"{e.kind}/{e.key}", rel, e.path, f"{e.kind}/{e.key}.json"}
        return t in names or (len(t) >= 6 and e.key.startswith(t))

    for t in targets:
        if not any(hit(e, t) for e in entries):
            raise ValueError(f"no published artifact matches {t!r} in {store.root}")

    def old(e: Any) -> bool:
        try:
            when = _dt.datetime.fromisoformat(e.created)
        except ValueError:
            return False
        return when.replace(tzinfo=when.tzinfo or _dt.UTC) <= cutoff

    return [
        e
        for e in entries
        if (not targets or any(hit(e, t) for t in targets))
        and (objective is None or e.objective == objective)
        and (want_shape is None or e.input_shape == want_shape)
        and (kind is None or e.kind == kind)
        and (algorithm is None or e.algorithm == algorithm)
        and (not corrupt or not e.ok)
        and (cutoff is None or old(e))
    ]


def format_du(store: ArtifactStore) -> str:
    """The store's size: published artifacts per kind, leftovers, the JAX cache, the total."""
    usage = store.disk_usage()
    rows = []
    for name, u in usage.items():
        count = "" if name == "jax_cache" else str(u["count"])
        note = f"{u['corrupt']} corrupt" if u.get("corrupt") else ""
        if name == "leftovers" and u["count"]:
            note = "unpublished; `clean` removes them"
        rows.append((name, count, format_size(u["bytes"]), note))
    total = sum(u["bytes"] for u in usage.values())
    rows.append(("total", "", format_size(total), ""))
    return "\n".join([f"{store.root}:", *_table(("what", "count", "size", ""), rows)])


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
    """Command-line entry: ``list``, ``find``, ``rm``, ``du`` or ``clean``; returns the exit
    status (0 ok, 1 error)."""
    parser = argparse.ArgumentParser(prog="python -m asdex_pipe.artifacts")
    parser.add_argument(
        "--root", default="artifacts", help="store root, a directory or URL (default: artifacts)"
    )
    parser.add_argument(
        "--storage-options", help="JSON object of fsspec options for a URL root (endpoint, ...)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "list",
        help="list published artifacts: kind, objective, shape, nnz, colors, algorithm/order, "
        "mode, dtype, size, age, status (corrupt ones marked)",
    )
    find = sub.add_parser("find", help="print the path of the newest valid matching artifact")
    find.add_argument("objective")
    find.add_argument("shape", help="e.g. 1000 or 32x32")
    find.add_argument("--algorithm")
    find.add_argument("--order")
    find.add_argument("--kind", default="coloring", choices=["coloring", "sparsity"])
    rm = sub.add_parser(
        "rm",
        help="unpublish and delete artifacts by key, key prefix, path or filter",
        description="Delete published artifacts. TARGETs are keys (or key prefixes of at "
        "least 6 characters) or paths as `list` shows them; filters narrow the selection, "
        "and filters alone select every artifact matching them.",
    )
    rm.add_argument("targets", nargs="*", metavar="TARGET", help="key, key prefix or path")
    rm.add_argument("--objective")
    rm.add_argument("--shape", help="e.g. 1000 or 32x32")
    rm.add_argument("--kind", choices=["coloring", "sparsity"])
    rm.add_argument("--algorithm")
    rm.add_argument("--corrupt", action="store_true", help="only artifacts that fail to load")
    rm.add_argument("--older-than", help="only artifacts created longer ago, e.g. 7d")
    rm.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    sub.add_parser("du", help="the store's size: artifacts per kind, leftovers, JAX cache")
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
        elif args.command == "du":
            print(format_du(store))
        elif args.command == "rm":
            chosen = select_artifacts(
                store,
                args.targets,
                objective=args.objective,
                shape=args.shape,
                kind=args.kind,
                algorithm=args.algorithm,
                corrupt=args.corrupt,
                older_than=None if args.older_than is None else parse_duration(args.older_than),
            )
            verb = "would delete" if args.dry_run else "deleted"
            for e in chosen:
                if not args.dry_run:
                    store.remove(e)
                shape = "x".join(map(str, e.input_shape))
                print(f"{verb} {e.kind} {e.objective} {shape} {_relative(store, e.path)}")
            print(f"{verb} {len(chosen)} artifact(s) from {store.root}")
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
