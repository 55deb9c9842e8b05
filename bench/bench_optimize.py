"""What a sparse Hessian buys: trust-region Newton-CG and Hutchinson diagonals.

Run from the repository root::

    python -m bench.bench_optimize [--quick]

Table 1, optimizers from each objective's own starting point to ||g|| <= 1e-6 (float64):

* trust-NCG ``sparse``: colored sparse Hessian once per accepted point, sparse products in CG;
* trust-NCG ``hvp``: one Hessian-vector product per CG step;
* ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` on a jitted value_and_grad, stopped
  by a callback at the same ||g||_2 <= 1e-6 (its own test is on the projected inf-norm).

Each optimizer runs once briefly to compile, then once timed; wall times exclude compilation.
The sparse Hessian's one-off setup (detection and coloring) is its own column.

Table 2, Hutchinson's diagonal estimate at x0 against the exact diagonal of the sparse Hessian:
relative error, the error the variance formula predicts (sqrt(||H - diag H||_F² / k) / ||diag||),
and the time of one compiled estimate; the last row is the exact sparse diagonal's cost.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from asdex_pipe import hessian as sparse_hessian
from asdex_pipe.estimate import (
    expected_relative_error,
    hutchinson_curve,
    offdiagonal_sq_norm,
    relative_error,
    sparse_diagonal,
)
from asdex_pipe.objectives import get_objective
from asdex_pipe.optimize import minimize_trust_ncg
from bench.harness import fmt_seconds, machine_line, markdown_table, time_call

GTOL = 1e-6
PROBES = (1, 4, 16, 64, 256, 1024, 4096)


def lbfgs(f, x0: np.ndarray, gtol: float, max_iter: int) -> dict:
    """L-BFGS-B on a jitted value_and_grad, stopped once ||g||_2 <= gtol."""
    shape = x0.shape
    vg = jax.jit(jax.value_and_grad(lambda xf: f(xf.reshape(shape))))
    last = {"x": None, "f": np.nan, "gnorm": np.inf, "nfev": 0}

    def fun(xf):
        value, grad = vg(jnp.asarray(xf))
        grad = np.asarray(grad)
        last.update(x=xf.copy(), f=float(value), gnorm=float(np.linalg.norm(grad)))
        last["nfev"] += 1
        return float(value), grad

    def callback(intermediate_result):
        # The last evaluation is almost always at the accepted point; re-evaluate otherwise.
        if last["x"] is None or not np.array_equal(last["x"], intermediate_result.x):
            fun(intermediate_result.x)
        if last["gnorm"] <= gtol:
            raise StopIteration

    fun(x0.reshape(-1))  # compile outside the timing
    last["nfev"] = 0
    t0 = time.perf_counter()
    res = scipy.optimize.minimize(
        fun,
        x0.reshape(-1),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "maxfun": 10 * max_iter, "gtol": 0.0, "ftol": 0.0},
    )
    wall = time.perf_counter() - t0
    return {
        "iterations": int(res.nit),
        "nfev": last["nfev"],
        "ngev": last["nfev"],
        "hev": "—",
        "cg": "—",
        "f": last["f"],
        "gnorm": last["gnorm"],
        "success": last["gnorm"] <= gtol,
        "wall": wall,
        "message": str(res.message),
    }


def trust(f, x0, hessian: str, hess_fn, max_iter: int) -> dict:
    kw = {"hess_fn": hess_fn} if hessian == "sparse" else {}
    minimize_trust_ncg(f, x0, hessian=hessian, max_iter=2, **kw)  # compile outside the timing
    res = minimize_trust_ncg(f, x0, hessian=hessian, max_iter=max_iter, gtol=GTOL, **kw)
    return {
        "iterations": res.iterations,
        "nfev": res.nfev,
        "ngev": res.ngev,
        "hev": f"{res.nhev} {'H' if hessian == 'sparse' else 'HVP'}",
        "cg": res.cg_iterations,
        "f": res.fun,
        "gnorm": res.grad_norm,
        "success": res.success,
        "wall": res.wall_time,
        "message": res.message,
    }


def optimizer_rows(name: str, shape: tuple[int, ...], max_iter: int) -> tuple[list, object]:
    obj = get_objective(name)
    x0 = obj.x0(shape, np.float64)
    t0 = time.perf_counter()
    hess_fn = sparse_hessian(obj.fn, shape, mode="fwd_over_rev", algorithm="star")
    setup = time.perf_counter() - t0
    colors = getattr(getattr(hess_fn, "coloring", None), "num_colors", "?")
    runs = [
        (f"trust-NCG sparse ({colors} colors)", trust(obj.fn, x0, "sparse", hess_fn, max_iter)),
        ("trust-NCG hvp", trust(obj.fn, x0, "hvp", None, max_iter)),
        ("L-BFGS-B (scipy)", lbfgs(obj.fn, x0, GTOL, max_iter)),
    ]
    rows = []
    for label, r in runs:
        rows.append(
            [
                f"{name} {'x'.join(map(str, shape))}",
                label,
                r["iterations"],
                r["nfev"],
                r["ngev"],
                r["hev"],
                r["cg"],
                f"{r['f']:.6g}",
                f"{r['gnorm']:.2e}",
                "yes" if r["success"] else f"no ({r['message'][:40]})",
                fmt_seconds(r["wall"]),
                fmt_seconds(setup) if label.startswith("trust-NCG sparse") else "—",
            ]
        )
    return rows, hess_fn


def hutchinson_rows(name: str, shape: tuple[int, ...], hess_fn, probes) -> list:
    obj = get_objective(name)
    x0 = jnp.asarray(obj.x0(shape, np.float64))
    h = hess_fn(x0)
    exact = sparse_diagonal(h)
    off2, dnorm = offdiagonal_sq_norm(h), float(jnp.linalg.norm(exact))
    rows = []
    for k, est, seconds in hutchinson_curve(obj.fn, x0, probes, jax.random.key(0)):
        rows.append(
            [
                f"{name} {'x'.join(map(str, shape))}",
                k,
                f"{relative_error(est, exact):.2e}",
                f"{expected_relative_error(off2, dnorm, k):.2e}",
                fmt_seconds(seconds),
            ]
        )
    exact_time = time_call(lambda x: sparse_diagonal(hess_fn(x)), x0, repeats=5).median
    rows.append(
        [
            f"{name} {'x'.join(map(str, shape))}",
            "exact (sparse H)",
            "0",
            "0",
            fmt_seconds(exact_time),
        ]
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Rosenbrock n = 1000 instead of 10^4")
    parser.add_argument("--max-iter", type=int, default=200_000)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)

    problems = [("rosenbrock", (1000,) if args.quick else (10_000,)), ("minimal_surface", (32, 32))]
    opt_rows, hutch_rows = [], []
    for name, shape in problems:
        rows, hess_fn = optimizer_rows(name, shape, args.max_iter)
        opt_rows += rows
        hutch_rows += hutchinson_rows(name, shape, hess_fn, PROBES)

    print(f"Machine: {machine_line()}\n")
    print(f"Optimizers from x0 to ||g|| <= {GTOL:g} (float64; compile excluded)\n")
    headers = [
        "problem",
        "method",
        "iterations",
        "f evals",
        "g evals",
        "H evals / HVPs",
        "CG its",
        "final f",
        "||g||",
        "converged",
        "wall",
        "H setup",
    ]
    print(markdown_table(headers, opt_rows))
    print("\nHutchinson diagonal at x0 vs the exact sparse diagonal (key 0)\n")
    headers = ["problem", "probes", "rel. error", "predicted", "time"]
    print(markdown_table(headers, hutch_rows))


if __name__ == "__main__":
    main()
