"""Honest timing of (jitted) callables: first call apart, then the median of repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
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
