"""Timing and reporting helpers shared by every benchmark in ``bench/``.

A figure is the median of several timed calls after warm-up. For jitted
callables the first call (trace + XLA compile) is timed separately and never
mixed into the median; every call is synchronised with ``block_until_ready``.
Benchmarks print markdown tables with our figure, the peer's figure measured in
the same process, and their ratio.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Result of :func:`time_call`; all times in seconds."""

    median: float
    best: float
    first_call: float
    repeats: int


def _block(result: Any) -> Any:
    import jax

    return jax.block_until_ready(result)


def time_call(
    fn: Callable[..., Any],
    *args: Any,
    repeats: int = 5,
    warmup: int = 1,
    min_time: float = 0.0,
) -> Timing:
    """Time ``fn(*args)``.

    Args:
        fn: the callable; its result is synchronised with ``jax.block_until_ready``.
        args: positional arguments passed on every call.
        repeats: number of timed calls (median and best are over these).
        warmup: untimed calls after the first one (the first call is always timed
            separately as ``first_call``: for jitted code it holds tracing + compilation).
        min_time: keep repeating until the timed calls add up to at least this many seconds.

    Returns:
        A :class:`Timing`.
    """
    t0 = time.perf_counter()
    _block(fn(*args))
    first = time.perf_counter() - t0
    for _ in range(warmup):
        _block(fn(*args))
    samples: list[float] = []
    while len(samples) < repeats or sum(samples) < min_time:
        t0 = time.perf_counter()
        _block(fn(*args))
        samples.append(time.perf_counter() - t0)
        if len(samples) >= 1000:
            break
    return Timing(statistics.median(samples), min(samples), first, len(samples))


def time_once(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Run ``fn(*args)`` once (host-side work such as detection); return (seconds, result)."""
    t0 = time.perf_counter()
    out = _block(fn(*args))
    return time.perf_counter() - t0, out


def fmt_seconds(t: float | None) -> str:
    """Format a duration with a unit that keeps 3 significant digits; '—' for None."""
    if t is None:
        return "—"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def fmt_ratio(ours: float | None, peer: float | None) -> str:
    """peer / ours as 'N.N×' (how many times faster we are); '—' if either is missing."""
    if ours is None or peer is None or ours <= 0:
        return "—"
    return f"{peer / ours:.1f}×"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows as a GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    """One line naming the machine, Python, jax and backend, for the table captions."""
    import os

    import jax

    return (
        f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, jax {jax.__version__} "
        f"({jax.default_backend()})"
    ).replace("  ", " ")


def peer_available() -> bool:
    """True when the peer library ``asdex`` is importable (``pip install -e .[bench]``)."""
    try:
        import asdex  # noqa: F401
    except ImportError:
        return False
    return True
