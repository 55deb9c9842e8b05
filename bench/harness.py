"""Timing and reporting helpers shared by every benchmark in ``bench/``.

A figure is the median of several timed calls after warm-up. For jitted
callables the first call (trace + XLA compile) is timed separately and never
mixed into the median; every call is synchronised with ``block_until_ready``.
Benchmarks print markdown tables with our figure, the peer's figure measured in
the same process, and their ratio.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from typing import Any

from asdex_pipe.timing import Timing, time_call, time_once

__all__ = ["Timing", "time_call", "time_once"]


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
