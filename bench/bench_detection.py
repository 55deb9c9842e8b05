"""Hessian sparsity detection: asdex_pipe vs the peer asdex, same process, same functions.

Run from the repository root::

    python -m bench.bench_detection [--quick]

Workloads: Rosenbrock at n = 10^3 ... 10^6, a 2-D PDE energy (squared 5-point
Laplacian residual plus exp(u)) on an N x N grid, the chained ``lax.scan`` objective of
issue 16 at n = 10^3 ... 10^6 steps, and a depthwise-convolution model (8 channels,
3x3 depthwise conv, tanh) on growing images. Our figure is the median
of a few runs (the first run, which includes tracing, is reported separately); the peer
is run once per size, in a separate process stopped after ``PEER_LIMIT_S`` (it unrolls
scans step by step), and skipped where its time, extrapolated linearly from the
previous size, would exceed that limit; the table says which.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe import hessian_sparsity
from bench.harness import fmt_ratio, fmt_seconds, machine_line, markdown_table, peer_available

PEER_LIMIT_S = 60.0
_RNG = np.random.default_rng(0)
_DW = _RNG.normal(size=(8, 1, 3, 3)).astype(np.float32)


def rosenbrock(x):
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def pde_energy_fn(side: int):
    """Energy of u on a side x side grid (flattened input)."""

    def energy(x):
        u = x.reshape(side, side)
        lap = u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1] - 4 * u[1:-1, 1:-1]
        return jnp.sum(lap**2) + jnp.sum(jnp.exp(u))

    return energy


def chained_scan(x):
    """The scan objective of issue 16: each step couples x_t with x_(t-1) only."""

    def step(prev, xt):
        return xt, (xt - prev**2) ** 2

    return jnp.sum(jax.lax.scan(step, 0.0, x)[1])


def depthwise_model_fn(side: int):
    """Loss of a depthwise 3x3 conv layer (tanh activation, bias-free) on an 8-channel
    side x side image: each channel couples only with itself, within 5x5 windows."""

    def loss(x):
        img = x.reshape(1, 8, side, side)
        h = jax.lax.conv_general_dilated(img, _DW, (1, 1), "SAME", feature_group_count=8)
        return jnp.sum(jnp.tanh(h) ** 2) + 0.5 * jnp.sum(x**2)

    return loss


def workload(family: str, n: int):
    """The function of a workload family at input size n (also used by the peer's process)."""
    if family == "rosen":
        return rosenbrock
    if family == "pde":
        return pde_energy_fn(round(n**0.5))
    if family == "scan":
        return chained_scan
    if family == "dwconv":
        return depthwise_model_fn(round((n // 8) ** 0.5))
    raise ValueError(f"unknown workload family {family!r}")


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


def _peer_child(family, n, out):
    import asdex

    f = workload(family, n)
    sample = np.zeros(n, dtype=np.float32)  # the peer takes sample arguments
    t0 = time.perf_counter()
    pattern = asdex.hessian_sparsity(f, sample)
    out.put((time.perf_counter() - t0, int(pattern.nnz)))


def _time_peer(family, n, limit):
    """(seconds, nnz) of the peer in a fresh process, or None when it exceeds ``limit``
    seconds (its process is then stopped)."""
    ctx = multiprocessing.get_context("spawn")  # JAX is not fork-safe
    out = ctx.Queue()
    proc = ctx.Process(target=_peer_child, args=(family, n, out), daemon=True)
    proc.start()
    # Imports in the child are not timed: wait for its own timer plus start-up slack.
    try:
        result = out.get(timeout=limit + 30.0)
    except Exception:
        result = None
    proc.join(timeout=5)
    if proc.is_alive():
        proc.terminate()
        proc.join()
    if result is not None and result[0] > limit:
        return None
    return result


def run(workloads, repeats, peer_limit=PEER_LIMIT_S):
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
            if estimate is not None and estimate > peer_limit:
                peer_note = f"skipped (est. {fmt_seconds(estimate)} > {peer_limit:.0f} s)"
                peer_est = estimate  # later sizes extrapolate from the estimate
            else:
                timed = _time_peer(family, n, peer_limit)
                if timed is None:
                    peer_note = f"did not finish in {peer_limit:.0f} s"
                    peer_est = 2 * peer_limit  # larger sizes of this family are skipped
                else:
                    peer_t, peer_nnz = timed
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
    parser.add_argument(
        "--only", nargs="*", default=None, help="workload families (rosen pde scan dwconv)"
    )
    parser.add_argument(
        "--peer-limit", type=float, default=PEER_LIMIT_S, help="seconds per peer workload"
    )
    args = parser.parse_args(argv)
    sizes = [10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6]
    sides = [100, 250] if args.quick else [250, 500, 1000]
    images = [16, 32] if args.quick else [32, 64, 128, 256]
    workloads = [("rosen", "Rosenbrock", rosenbrock, n) for n in sizes]
    workloads += [("pde", f"PDE energy {s}×{s}", pde_energy_fn(s), s * s) for s in sides]
    workloads += [("scan", "chained lax.scan", chained_scan, n) for n in sizes]
    workloads += [
        ("dwconv", f"depthwise conv 8×{s}×{s}", depthwise_model_fn(s), 8 * s * s) for s in images
    ]
    if args.only:
        workloads = [w for w in workloads if w[0] in args.only]
    rows = run(workloads, args.repeats, args.peer_limit)
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
