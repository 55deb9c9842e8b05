"""Progress reporting for long stages: a live line on a terminal, sparse lines in the log,
and the one duration formatter every pipeline message uses."""

from __future__ import annotations

import logging
import math
import sys
import time

log = logging.getLogger("asdex_pipe")


def format_duration(seconds: float | None) -> str:
    """A duration for people: ``"0.056 ms"``, ``"153 ms"``, ``"15.3 s"``, ``"4.2 min"``.

    Milliseconds below one second, seconds up to 120 s, minutes above; three significant
    digits (one decimal for minutes).
    """
    if seconds is None or not math.isfinite(seconds):
        return "?"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120.0:
        return f"{seconds:.3g} s"
    return f"{seconds / 60.0:.1f} min"


class Progress:
    """Report iterations of a long task.

    On an interactive terminal the current state is redrawn on one line; the log gets a line
    every ``log_every`` seconds and one at the end, so files and CI output stay short.

    Args:
        label: what is running, e.g. ``"trust_ncg[sparse]"``.
        log_every: seconds between log lines.
    """

    def __init__(self, label: str, log_every: float = 5.0):
        self.label = label
        self.log_every = log_every
        self._start = time.perf_counter()
        self._last_log = self._start
        self._live = sys.stdout.isatty()
        self._line = ""

    def _show(self, line: str) -> None:
        self._line = line
        if self._live:
            sys.stdout.write("\r" + self._line.ljust(78))
            sys.stdout.flush()
        now = time.perf_counter()
        if now - self._last_log >= self.log_every:
            self._last_log = now
            if not self._live:
                log.info(self._line)

    def update(self, iteration: int, f: float, grad_norm: float) -> None:
        """Record one iteration (the signature the optimizers' ``progress`` hook expects)."""
        self._show(f"  {self.label}: iteration {iteration}, f={f:.6g}, |g|={grad_norm:.3g}")

    def advance(self, done: float, total: float, what: str = "") -> None:
        """Record that ``done`` of ``total`` units of work are finished, with an ETA.

        The ETA assumes the remaining units cost what the finished ones did on average.
        """
        elapsed = time.perf_counter() - self._start
        eta = elapsed / done * (total - done) if done > 0 else None
        pct = 100.0 * done / total if total else 100.0
        line = f"  {self.label}: {pct:.0f}% done, {format_duration(elapsed)} elapsed"
        if eta is not None and done < total:
            line += f", about {format_duration(eta)} left"
        if what:
            line += f" ({what})"
        self._show(line)

    def clear(self) -> None:
        """End the live line (nothing is logged)."""
        if self._live and self._line:
            sys.stdout.write("\r" + " " * 80 + "\r")
            sys.stdout.flush()

    def close(self, summary: str) -> None:
        """End the live line and log a final summary."""
        self.clear()
        log.info("  %s: %s", self.label, summary)
