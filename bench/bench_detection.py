"""Hessian sparsity detection: asdex_pipe vs the peer asdex, same process, same functions.

Run from the repository root::

    python -m bench.bench_detection [--quick]

Workloads: Rosenbrock at n = 10^3 ... 10^6 and a 2-D PDE energy (squared 5-point
Laplacian residual plus exp(u)) on an N x N grid. Our figure is the median of a few
runs (the first run, which includes tracing, is reported separately); the peer is run
once per size. The peer is skipped where its time, extrapolated linearly from the
previous size, would exceed ``PEER_LIMIT_S``; the table says so.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax.numpy as jnp

from asdex_pipe.detection import hessian_sparsity
from bench.harness import fmt_ratio, fmt_seconds, machine_line, markdown_table, peer_available

PEER_LIMIT_S = 60.0


def rosenbrock(x):
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def pde_energy_fn(side: int):
    """Energy of u on a side x side grid (flattened input)."""

    def energy(x):
        u = x.reshape(side, side)
        lap = u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1] - 4 * u[1:-1, 1:-1]
        return jnp.sum(lap**2) + jnp.sum(jnp.exp(u))

    return energy


def _time_ours(f, n, repeats):
    t0 = time.perf_counter()
    pattern = hessian_sparsity(f, n)
    first = time.perf_counter() - t0
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        hessian_sparsity(f, n)
        samples.append(time.perf_counter() - t0)
    return first, statistics.median(samples), pattern.nnz


def _time_peer(f, n):
    import asdex
    import numpy as np

    sample = np.zeros(n, dtype=np.float32)  # the peer takes sample arguments
    t0 = time.perf_counter()
    pattern = asdex.hessian_sparsity(f, sample)
    return time.perf_counter() - t0, int(pattern.nnz)


def run(workloads, repeats):
    """Time every workload; returns markdown table rows."""
    rows = []
    have_peer = peer_available()
    prev = None  # (n, peer seconds) of the previous size of the same family
    for family, label, f, n in workloads:
        first, ours, nnz = _time_ours(f, n, repeats)
        peer_t, peer_note, match, peer_est = None, "", "—", None
        if not have_peer:
            peer_note = "asdex not installed"
        else:
            estimate = None
            if prev is not None and prev[0] == family and prev[2] is not None:
                estimate = prev[2] * n / prev[1]
            if estimate is not None and estimate > PEER_LIMIT_S:
                peer_note = f"skipped (est. {fmt_seconds(estimate)} > {PEER_LIMIT_S:.0f} s)"
                peer_est = estimate  # later sizes extrapolate from the estimate
            else:
                peer_t, peer_nnz = _time_peer(f, n)
                match = "yes" if peer_nnz == nnz else f"no ({peer_nnz})"
        prev = (family, n, peer_t if peer_t is not None else peer_est)
        rows.append(
            [
                label,
                f"{n:,}",
                f"{nnz:,}",
                fmt_seconds(first),
                fmt_seconds(ours),
                fmt_seconds(peer_t) if peer_t is not None else peer_note,
                fmt_ratio(ours, peer_t),
                match,
            ]
        )
        print(" | ".join(str(c) for c in rows[-1]), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke test)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6]
    sides = [100, 250] if args.quick else [250, 500, 1000]
    workloads = [("rosen", "Rosenbrock", rosenbrock, n) for n in sizes]
    workloads += [("pde", f"PDE energy {s}×{s}", pde_energy_fn(s), s * s) for s in sides]
    rows = run(workloads, args.repeats)
    print()
    print(f"Hessian sparsity detection — {machine_line()}")
    print()
    print(
        markdown_table(
            [
                "workload",
                "n",
                "nnz",
                "ours (first)",
                "ours (median)",
                "asdex",
                "ratio (asdex/ours)",
                "same nnz",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
