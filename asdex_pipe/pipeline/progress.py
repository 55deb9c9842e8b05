"""Progress reporting for long stages: a live line on a terminal, sparse lines in the log."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("asdex_pipe")


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
        self._last_log = time.perf_counter()
        self._live = sys.stdout.isatty()
        self._line = ""

    def update(self, iteration: int, f: float, grad_norm: float) -> None:
        """Record one iteration (the signature the optimizers' ``progress`` hook expects)."""
        self._line = f"  {self.label}: iteration {iteration}, f={f:.6g}, |g|={grad_norm:.3g}"
        if self._live:
            sys.stdout.write("\r" + self._line.ljust(78))
            sys.stdout.flush()
        now = time.perf_counter()
        if now - self._last_log >= self.log_every:
            self._last_log = now
            if not self._live:
                log.info(self._line)

    def close(self, summary: str) -> None:
        """End the live line and log a final summary."""
        if self._live:
            sys.stdout.write("\r" + " " * 80 + "\r")
            sys.stdout.flush()
        log.info("  %s: %s", self.label, summary)
