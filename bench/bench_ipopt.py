"""IPOPT with our exact sparse Lagrangian Hessian against its L-BFGS and a dense jax.hessian.

Run from the repository root (needs the ``ipopt`` extra)::

    python -m bench.bench_ipopt [--sizes 1000 10000 100000] [--large] [--lbfgs-wall 120]

Problem: the built-in ``optimal_control`` family (n/2 states, n/2 bounded controls, n/2
nonlinear equality constraints), from its feasible start at rest. Routes, all in float64:

* ``sparse``: ``minimize_ipopt(hessian="sparse")`` — Lagrangian pattern detected once,
  star-colored, values from one batch of compressed HVPs per IPOPT iteration;
* ``limited-memory``: IPOPT's ``hessian_approximation=limited-memory`` with the same exact
  gradient and sparse constraint Jacobian, stopped at ``--lbfgs-wall`` seconds
  (``max_wall_time``) so the run stays short;
* ``dense``: ``jax.hessian`` of the Lagrangian, all n(n+1)/2 lower entries (n <= 2000).

Columns: IPOPT status, iterations, final f and constraint violation, solve wall time (inside
IPOPT, callbacks included), setup (detection, coloring, compilation), median time of one
Hessian callback, and the share of the solve spent in our callbacks (all kinds).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from asdex_pipe.objectives.constrained import optimal_control_problem
from asdex_pipe.optimize.ipopt import minimize_ipopt
from bench.harness import fmt_seconds, machine_line, markdown_table

DENSE_MAX_N = 2000


def ipopt_banner() -> str:
    """IPOPT's version line ("Ipopt 3.14.11 ... MUMPS 5.5.1"), read from its output file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ipopt.out"
        minimize_ipopt(
            lambda x: (x**2).sum(),
            np.ones(2),
            options={"output_file": str(path), "file_print_level": 5, "sb": "no"},
        )
        match = re.search(r"This is Ipopt version ([^\n]*)", path.read_text())
    return f"Ipopt {match.group(1)}" if match else "Ipopt (version line not found)"


def run(n: int, route: str, lbfgs_wall: float, max_iter: int) -> list[str]:
    """Solve the size-n problem with one route; one table row."""
    p = optimal_control_problem((n,))
    options: dict = {"max_iter": max_iter}
    if route == "limited-memory":
        options["max_wall_time"] = float(lbfgs_wall)
    t0 = time.perf_counter()
    res = minimize_ipopt(
        p.fun,
        p.x0,
        constraints=p.constraints,
        cl=p.cl,
        cu=p.cu,
        lb=p.lb,
        ub=p.ub,
        hessian=route,
        options=options,
    )
    total = time.perf_counter() - t0
    t = res.timings
    hess = t["callbacks"]["hessian"]
    per_hess = hess["median_s"]
    share = t["callbacks_s"] / t["solve_s"] if t["solve_s"] > 0 else 0.0
    colors = "" if res.hessian_colors is None else f" ({res.hessian_colors} colors)"
    print(
        f"  n={n} {route}: status {res.status}, {res.iterations} it, "
        f"solve {t['solve_s']:.2f} s, total {total:.2f} s",
        flush=True,
    )
    return [
        f"{n:,}",
        route + colors,
        f"{res.status} ({'ok' if res.success else 'not solved'})",
        res.iterations,
        f"{res.fun:.8f}",
        f"{res.constraint_violation:.1e}",
        fmt_seconds(t["solve_s"]),
        fmt_seconds(t["setup_s"]),
        fmt_seconds(per_hess),
        f"{100 * share:.0f}%",
    ]


def main() -> None:
    """Parse the command line, run every size and route, print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--large", action="store_true", help="add n = 10^6 (sparse route only)")
    parser.add_argument("--lbfgs-wall", type=float, default=120.0, help="L-BFGS time cap (s)")
    parser.add_argument("--max-iter", type=int, default=3000)
    args = parser.parse_args()

    import cyipopt
    import jax

    print(f"{machine_line()}; {ipopt_banner()}; cyipopt {cyipopt.__version__}")
    print(f"jax {jax.__version__}, numpy {np.__version__}\n")
    rows = []
    for n in args.sizes:
        routes = ["sparse", "limited-memory"] + (["dense"] if n <= DENSE_MAX_N else [])
        for route in routes:
            rows.append(run(n, route, args.lbfgs_wall, args.max_iter))
    if args.large:
        rows.append(run(1_000_000, "sparse", args.lbfgs_wall, args.max_iter))
    headers = [
        "n",
        "Hessian",
        "status",
        "iterations",
        "f",
        "violation",
        "solve",
        "setup",
        "per Hessian call",
        "in our callbacks",
    ]
    print()
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()
