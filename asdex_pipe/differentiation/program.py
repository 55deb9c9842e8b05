"""The one evaluation engine: jitted programs that compute a coloring's compressed
products and decompress them.

A program is ``(x, data, arrays) -> (extra, out)``. ``body(x, data, colors)`` computes the
compressed products ``(extra, B)`` of a function of the flat vector ``x`` (``data``: the
other leaves, passed through), the coloring's decompression plan gathers the (nnz,) values
from ``B``, and ``finish(values, arrays)`` turns them into the output inside the program.
``arrays`` are the device arrays (plan indices, colors, anything ``finish`` reads), passed
as arguments so they are not compiled in.

Seeds come in two variants (see :func:`asdex_pipe.differentiation.compress.seed_matrix`):
``"constant"`` seed vectors compiled into the program, which lets XLA fold their share of
the work (PDE energy, 10^6 unknowns: 47 ms against 86 ms indexed), and ``"indexed"`` seeds
built in the program from an int8 color array: no k × n constants, a gain for cheap
functions (Rosenbrock at 10^6: 2.0 ms against 3.4 ms). Constant seeds cost compile time
in proportion to their k × n entries (XLA folds them: at n = 10^7 that took minutes), so
``"auto"`` bounds them by size: constant seeds up to :data:`AUTO_CONSTANT_ENTRIES`
entries, indexed seeds beyond. It decides before anything is compiled and builds one
program only; :meth:`CompressedProgram.tune` times both variants where that is wanted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.differentiation.plans import apply_plan, device_colors, device_plan
from asdex_pipe.pattern import ColoredPattern

__all__ = ["AUTO_CONSTANT_ENTRIES", "CompressedProgram", "auto_seeds"]

#: The most k × n seed entries ``seeds="auto"`` compiles in as constants (8 MiB in float64).
AUTO_CONSTANT_ENTRIES = 2**20


def auto_seeds(num_colors: int, n: int) -> str:
    """The seed variant ``"auto"`` means for ``num_colors`` seeds of length ``n``."""
    return "constant" if num_colors * n <= AUTO_CONSTANT_ENTRIES else "indexed"


class CompressedProgram:
    """The jitted compressed-product program(s) of one coloring.

    Args:
        body: ``(x, data, colors) -> (extra, B)``: the products for the colors (a host
            array for constant seeds, a device array for indexed seeds); ``extra`` is any
            pytree the caller wants back (the value, aux).
        coloring: the coloring whose products ``body`` computes.
        length: length of one product (n for HVPs and VJPs, m for JVPs).
        seeds: ``"constant"``, ``"indexed"`` or ``"auto"`` (see :func:`auto_seeds`).
        finish: ``(values, arrays) -> out`` inside the program (default: the values).
        arrays: extra device arrays ``finish`` reads, by name.
        decompress: False: the program returns the compressed products ``B`` (k, L)
            themselves (the compressed step on its own).

    Attributes:
        arrays: every device array the program takes.
        seeds: the variant in use.
        seed_timings: seconds per variant measured by :meth:`tune`.
    """

    def __init__(
        self,
        body: Callable,
        coloring: ColoredPattern,
        length: int,
        seeds: str,
        finish: Callable[[jax.Array, dict[str, Any]], Any] | None = None,
        arrays: dict[str, jax.Array] | None = None,
        *,
        decompress: bool = True,
    ):
        plan = device_plan(coloring, length)
        kind = plan["kind"]
        self.arrays = {k: jnp.asarray(v) for k, v in plan.items() if k != "kind"}
        self.arrays.update(arrays or {})
        if seeds == "auto":
            seeds = auto_seeds(coloring.num_colors, coloring.shape[1])
        self._coloring = coloring
        colors = np.asarray(coloring.colors)

        def make_program(indexed: bool) -> Callable:
            def program(x, data, arrays):
                extra, b = body(x, data, arrays["colors"] if indexed else colors)
                if not decompress:
                    return extra, b
                values = apply_plan(kind, arrays, b)
                return extra, (finish(values, arrays) if finish is not None else values)

            return jax.jit(program)

        self._make_program = make_program
        self.programs = {seeds: make_program(seeds == "indexed")}
        if seeds == "indexed":
            self.arrays["colors"] = device_colors(coloring)
        self.seeds = seeds
        self.seed_timings: dict[str, float] = {}

    @property
    def program(self) -> Callable:
        """The jitted program in use."""
        return self.programs[self.seeds]

    def tune(self, x: jax.Array, data: tuple) -> dict[str, float]:
        """Compile and time both seed variants at ``(x, data)`` and keep the faster.

        Interleaved, best of three (robust to a busy machine). Returns the timings (also
        in ``seed_timings``); afterwards ``seeds`` names the variant kept and only its
        program is kept.
        """
        for name in ("constant", "indexed"):
            if name not in self.programs:
                self.programs[name] = self._make_program(name == "indexed")
        if "colors" not in self.arrays:
            self.arrays["colors"] = device_colors(self._coloring)
        for program in self.programs.values():
            jax.block_until_ready(program(x, data, self.arrays))
        timings = {name: float("inf") for name in self.programs}
        for _ in range(3):
            for name, program in self.programs.items():
                t0 = time.perf_counter()
                jax.block_until_ready(program(x, data, self.arrays))
                timings[name] = min(timings[name], time.perf_counter() - t0)
        self.seed_timings = timings
        self.seeds = min(timings, key=timings.__getitem__)
        self.programs = {self.seeds: self.programs[self.seeds]}
        return timings

    def __call__(self, x: jax.Array, data: tuple) -> tuple[Any, Any]:
        """``(extra, out)`` at ``(x, data)``."""
        return self.program(x, data, self.arrays)
