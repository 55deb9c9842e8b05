"""First calls at scale: detection, coloring and the first jitted call of the values
program for Rosenbrock, the cost a user pays before the first Hessian.

    python -m bench.bench_first_call [--n 10000000]

The first call includes compilation: it should not exceed detection (issue: constant
seeds at n = 10^7 made it 142–200 s, against 44 s for detection).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import asdex_pipe
from asdex_pipe.objectives import get_objective
from bench.harness import machine_line


def main() -> None:
    """Run the measurement for ``--n`` unknowns and print one line per phase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="number of unknowns")
    n = parser.parse_args().n
    jax.config.update("jax_enable_x64", True)
    f = get_objective("rosenbrock").fn
    t0 = time.perf_counter()
    sparsity = asdex_pipe.hessian_sparsity(f, n)
    t_detect = time.perf_counter() - t0
    t0 = time.perf_counter()
    coloring = asdex_pipe.hessian_coloring_from_sparsity(sparsity)
    t_color = time.perf_counter() - t0
    fn = asdex_pipe.hessian_from_coloring(f, coloring, format="values")
    program = jax.jit(fn)
    x = jnp.asarray(np.random.default_rng(0).uniform(-1.0, 1.0, n))
    t0 = time.perf_counter()
    program(x).block_until_ready()
    t_first = time.perf_counter() - t0
    later = []
    for _ in range(5):
        t0 = time.perf_counter()
        program(x).block_until_ready()
        later.append(time.perf_counter() - t0)
    print(machine_line())
    print(
        f"n={n}: detection {t_detect:.1f} s, coloring {t_color:.1f} s "
        f"({coloring.num_colors} colors, {fn.seeds} seeds), first jitted call "
        f"{t_first:.1f} s, later calls {np.median(later) * 1e3:.1f} ms (median of 5)"
    )


if __name__ == "__main__":
    main()
