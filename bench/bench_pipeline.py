"""Pipeline reuse: a cold run against an identical second run (artifacts + XLA cache reused).

    python -m bench.bench_pipeline [--n 100000]

Each run is a fresh ``python -m asdex_pipe`` process in one temporary directory, so the second
run finds the first's Zarr artifacts and JAX compilation cache. For scale, the peer's set-up
(``asdex.hessian_coloring``: detection + coloring, which it redoes in every new process) is
timed in this process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import fmt_ratio, fmt_seconds, machine_line, markdown_table, peer_available

REPO = Path(__file__).resolve().parent.parent


def _run(cwd: Path, n: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "asdex_pipe", f"n={n}", "evaluate.repeats=3", "verify.num_probes=5"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    (result_path,) = sorted(cwd.glob("outputs/*/*/result.json"), key=lambda p: p.stat().st_mtime)[
        -1:
    ]
    return wall, json.loads(result_path.read_text())


def _peer_setup(n: int) -> float | None:
    if not peer_available():
        return None
    import asdex
    import jax.numpy as jnp

    def rosenbrock(x):
        return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)

    t0 = time.perf_counter()
    # asdex 0.5 takes a sample input; detection and coloring happen in this call.
    asdex.hessian_coloring(rosenbrock, jnp.zeros(n))
    return time.perf_counter() - t0


def main() -> None:
    """Run the cold/warm comparison and print a markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        cold_wall, cold = _run(cwd, args.n)
        warm_wall, warm = _run(cwd, args.n)
    rows = []
    for label, wall, res in (("first run", cold_wall, cold), ("identical re-run", warm_wall, warm)):
        st = res["stages"]
        rows.append(
            [
                label,
                f"{st['sparsity']['status']} {fmt_seconds(st['sparsity']['seconds'])}",
                f"{st['coloring']['status']} {fmt_seconds(st['coloring']['seconds'])}",
                fmt_seconds(res["evaluate"]["sparse_hessian_compile_s"]),
                fmt_seconds(wall),
            ]
        )
    print(f"Pipeline, Rosenbrock n={args.n}, {machine_line()}\n")
    print(
        markdown_table(
            ["run", "sparsity stage", "coloring stage", "Hessian first call", "process wall"],
            rows,
        )
    )
    saved = (
        cold["stages"]["sparsity"]["seconds"]
        + cold["stages"]["coloring"]["seconds"]
        - warm["stages"]["sparsity"]["seconds"]
        - warm["stages"]["coloring"]["seconds"]
    )
    print(f"\nre-run wall-time speed-up: {fmt_ratio(warm_wall, cold_wall)}")
    print(f"detection + coloring time saved: {fmt_seconds(saved)}")
    peer = _peer_setup(args.n)
    if peer is not None:
        what = "peer asdex.hessian_coloring (detection + coloring, every process)"
        print(f"{what}: {fmt_seconds(peer)}")


if __name__ == "__main__":
    main()
