"""Sparse Hessian evaluation: asdex_pipe vs the peer asdex vs dense jax.hessian.

Run from the repository root::

    python -m bench.bench_hessian [--quick] [--x64] [--repeats R]

Workloads: Rosenbrock at n = 10^3 ... 10^6 and a 2-D PDE energy (squared 5-point
Laplacian residual plus exp(u), a 13-point Hessian) on side x side grids. For each we
time, in one process and on the same input:

* one jitted gradient and one jitted HVP (``fwd_over_rev``), the cost units;
* our Hessian with star coloring (direct decompression) and acyclic coloring
  (substitution), called as returned (it is jitted inside; its warm-up call picks the seed
  variant, shown next to the coloring) and wrapped in ``jax.jit``;
* our ``format="values"`` function (the (nnz,) values only) wrapped in ``jax.jit``;
* the peer's ``asdex.hessian_from_coloring`` under ``jax.jit`` with the peer's own
  coloring of the same pattern (its un-jitted call runs op by op and is far slower);
* dense ``jax.hessian`` under ``jax.jit`` where n <= 4000.

Figures are the best of ``--repeats`` timed calls after warm-up (compilation excluded);
the host this runs on is shared, so the best is the figure least disturbed by other
load, and the median is printed alongside. Memory is XLA's compiled estimate
(arguments + outputs + temporaries) of each program.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe import hessian_from_coloring, hessian_sparsity, hvp
from asdex_pipe.coloring import hessian_coloring_from_sparsity
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from bench.harness import (
    fmt_ratio,
    fmt_seconds,
    machine_line,
    markdown_table,
    peer_available,
    time_call,
)

DENSE_LIMIT = 4000


def rosenbrock(x):
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def pde_energy_fn(side: int) -> Callable:
    """Energy of u on a side x side grid (flattened input): |5-point Laplacian|^2 + exp."""

    def energy(x):
        u = x.reshape(side, side)
        lap = u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1] - 4 * u[1:-1, 1:-1]
        return jnp.sum(lap**2) + jnp.sum(jnp.exp(u))

    return energy


# ------------------------------------------------------------------- timing
def _best(fn: Callable, *args: Any, repeats: int) -> tuple[float, float]:
    t = time_call(fn, *args, repeats=repeats, warmup=1)
    return t.best, t.median


def _memory(jitted: Any, *args: Any) -> float | None:
    try:
        m = jitted.lower(*args).compile().memory_analysis()
    except Exception:
        return None
    if m is None:
        return None
    return (m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes) / 2**20


def _fmt_mb(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} MB"


def _peer(f: Callable, pattern: SparsityPattern, x: jax.Array, repeats: int) -> dict | None:
    if not peer_available():
        return None
    import asdex

    n = pattern.shape[0]
    t0 = time.perf_counter()
    p = asdex.SparsityPattern.from_coo(
        pattern.rows.astype(np.int32), pattern.cols.astype(np.int32), (n, n)
    )
    coloring = asdex.hessian_coloring_from_sparsity(p)
    setup = time.perf_counter() - t0
    fn = jax.jit(asdex.hessian_from_coloring(f, coloring))
    best, med = _best(fn, x, repeats=repeats)
    return {
        "colors": int(coloring.num_colors),
        "best": best,
        "median": med,
        "setup": setup,
        "mem": _memory(fn, x),
    }


def run_case(
    label: str,
    f: Callable,
    n: int,
    pattern: SparsityPattern,
    colorings: dict[str, ColoredPattern],
    dtype: Any,
    repeats: int,
    with_peer: bool,
) -> list[list[str]]:
    x = jnp.asarray(np.random.default_rng(0).uniform(-1.0, 1.0, n), dtype)
    # The HVP direction is an argument of its own, as the seeds are for the products.
    v = jnp.asarray(np.random.default_rng(1).uniform(-1.0, 1.0, n), dtype)
    g_best, _ = _best(jax.jit(jax.grad(f)), x, repeats=repeats)
    h_best, _ = _best(jax.jit(lambda y, w: hvp(f, y, w)), x, v, repeats=repeats)
    peer = _peer(f, pattern, x, repeats) if with_peer else None
    dense = None
    if n <= DENSE_LIMIT:
        dense, _ = _best(jax.jit(jax.hessian(f)), x, repeats=max(3, repeats // 3))
    rows = []
    for alg, coloring in colorings.items():
        t0 = time.perf_counter()
        fn = hessian_from_coloring(f, coloring)
        setup = time.perf_counter() - t0
        best, med = _best(fn, x, repeats=repeats)
        jit_best, _ = _best(jax.jit(fn), x, repeats=repeats)
        # format="values" in the caller's jit: no BCOO index array leaves the program.
        # Same seed variant as the tuned call above (nothing is tuned under a trace).
        seeds = fn.seeds if fn.seeds != "auto" else "constant"
        values_fn = hessian_from_coloring(f, coloring, format="values", seeds=seeds)
        vals_best, _ = _best(jax.jit(values_fn), x, repeats=repeats)
        k = coloring.num_colors
        mem = _memory(fn.program, x, (), fn.arrays)
        alg = f"{alg} ({fn.seeds} seeds)"
        rows.append(
            [
                label,
                f"{n:,}",
                alg,
                str(k),
                f"{fmt_seconds(best)} ({fmt_seconds(med)})",
                fmt_seconds(jit_best),
                f"{fmt_seconds(vals_best)} ({vals_best / (k * h_best):.2f} × colors·HVP)",
                f"{best / g_best:.1f}",
                f"{best / h_best:.1f}",
                f"{best / (k * h_best):.2f}",
                "—" if peer is None else f"{fmt_seconds(peer['best'])} ({peer['colors']})",
                "—" if peer is None else fmt_ratio(best, peer["best"]),
                "—" if peer is None else fmt_ratio(jit_best, peer["best"]),
                "—" if peer is None else fmt_ratio(vals_best, peer["best"]),
                fmt_seconds(dense),
                f"{_fmt_mb(mem)} / {_fmt_mb(None if peer is None else peer['mem'])}",
                f"{fmt_seconds(setup)} / " + ("—" if peer is None else fmt_seconds(peer["setup"])),
            ]
        )
    rows[0][4] += f" · grad {fmt_seconds(g_best)}, HVP {fmt_seconds(h_best)}"
    return rows


HEADERS = [
    "problem",
    "n",
    "coloring",
    "colors",
    "ours best (median)",
    "ours in user jit",
    "values in user jit (/ colors × HVP)",
    "/ grad",
    "/ HVP",
    "/ (colors × HVP)",
    "peer, jit (colors)",
    "peer / ours",
    "peer / ours-in-jit",
    "peer / values-in-jit",
    "dense jax.hessian",
    "memory ours / peer",
    "plan ours / peer coloring",
]


def _progress(rows: list[list[str]]) -> None:
    """Print finished rows at once (stderr), so a long run shows its results as it goes."""
    import sys

    for row in rows:
        print(" | ".join(row), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--x64", action="store_true", help="float64 instead of float32")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--sizes", type=str, default=None, help="Rosenbrock n, comma-separated")
    parser.add_argument("--sides", type=str, default=None, help="PDE grid sides, comma-separated")
    args = parser.parse_args(argv)
    if args.x64:
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.float64 if args.x64 else jnp.float32
    sizes = [10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6]
    sides = [100] if args.quick else [300, 1000]
    if args.sizes is not None:
        sizes = [int(float(v)) for v in args.sizes.split(",") if v]
    if args.sides is not None:
        sides = [int(v) for v in args.sides.split(",") if v]
    rows: list[list[str]] = []
    notes = []
    cases = [("Rosenbrock", rosenbrock, n) for n in sizes]
    cases += [(f"PDE {s}×{s}", pde_energy_fn(s), s * s) for s in sides]
    for label, f, n in cases:
        t0 = time.perf_counter()
        pattern = hessian_sparsity(f, n)
        notes.append(f"{label} n={n:,}: detected in {fmt_seconds(time.perf_counter() - t0)}")
        colorings = {
            alg: hessian_coloring_from_sparsity(pattern, algorithm=alg)
            for alg in ("star", "acyclic")
        }
        new = run_case(label, f, n, pattern, colorings, dtype, args.repeats, not args.no_peer)
        _progress(new)
        rows += new
    print(f"Sparse Hessian evaluation, {jnp.dtype(dtype).name}; {machine_line()}")
    print("; ".join(notes))
    print()
    print(markdown_table(HEADERS, rows))


if __name__ == "__main__":
    main()
