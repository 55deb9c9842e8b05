"""asdex_pipe's IPOPT route against CasADi (MX, its own AD, its bundled Ipopt) on three
scalable constrained families (:mod:`bench.casadi_families`).

Run from the repository root (needs the ``bench``, ``ipopt`` and ``casadi`` extras)::

    python -m bench.bench_casadi [--sizes 300 3000 30000] [--families pendulum luksan coupling]
                                 [--reps 1] [--routes casadi ours ours+casadi warm]

Every run is its own process (a fresh Python: imports, JAX start and compilation are paid
as a user pays them), and the frameworks are interleaved per row. Routes:

* ``casadi``: ``nlpsol("ipopt")`` on the MX expression graph (CasADi's AD);
* ``ours``: :class:`asdex_pipe.optimize.IpoptProblem` with ``backend="cyipopt"``
  (cyipopt-wheels' Ipopt);
* ``ours+casadi``: the same problem object with ``backend="casadi"`` (our compiled
  derivatives inside CasADi's Ipopt).

Same Ipopt options everywhere: ``tol=1e-8``, ``linear_solver=mumps``, exact Hessian.
Columns: setup (build: detection, coloring, compilation / nlpsol construction; in
parentheses a second build in the same, warm process), process
(from the process's first import to the solve's start: what a fresh process waits),
iterations, solve (inside Ipopt, callbacks included), again (a second solve with the built
object: the many-solves case), total (setup + solve), per-callback medians (objective,
gradient, constraints, Jacobian, Hessian in ms; CasADi's from its own stats) and the
ratio of totals against CasADi. Our cold routes start with an empty compilation cache
(a new directory per run) and no artifact store: what a first run of a script pays. The
``warm`` route is ``ours+casadi`` run again the way a script's next run is: with
``store=`` holding both colorings and its compilation cache, both filled by an earlier,
unmeasured build in another process.
"""

from __future__ import annotations

import time

T_PROCESS = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

ROUTES = ("casadi", "ours", "ours+casadi", "warm")
OPTIONS = {"tol": 1e-8, "linear_solver": "mumps", "print_level": 0, "sb": "yes"}
KINDS = ("objective", "gradient", "constraints", "jacobian", "hessian")
CASADI_KINDS = {
    "objective": "nlp_f",
    "gradient": "nlp_grad_f",
    "constraints": "nlp_g",
    "jacobian": "nlp_jac_g",
    "hessian": "nlp_hess_l",
}


def run_casadi(family: str, n: int) -> dict:
    import casadi as ca

    from bench.casadi_families import casadi_family

    t0 = time.perf_counter()
    x, p, f, g, x0, p0, cl, cu, lb, ub = casadi_family(family, n)
    opts = {"ipopt": dict(OPTIONS), "print_time": False}
    solver = ca.nlpsol("solver", "ipopt", {"x": x, "p": p, "f": f, "g": g}, opts)
    setup = time.perf_counter() - t0
    process = time.perf_counter() - T_PROCESS
    kw = dict(x0=x0, p=p0, lbg=cl, ubg=cu)
    if lb is not None:
        kw.update(lbx=lb, ubx=ub)
    t1 = time.perf_counter()
    sol = solver(**kw)
    solve = time.perf_counter() - t1
    stats = solver.stats()
    t2 = time.perf_counter()
    solver(**kw)
    again = time.perf_counter() - t2
    per = {}
    for kind, name in CASADI_KINDS.items():
        calls = stats.get(f"n_call_{name}", 0)
        per[kind] = stats[f"t_wall_{name}"] / calls if calls else None
    return {
        "setup_s": setup,
        "process_s": process,
        "first_iteration_s": process + solve / max(int(stats["iter_count"]), 1),
        "iterations": int(stats["iter_count"]),
        "status": stats["return_status"],
        "fun": float(sol["f"]),
        "solve_s": solve,
        "again_s": again,
        "per_call_s": per,
        "version": ca.__version__,
    }


def run_ours(family: str, n: int, backend: str, cache: str, store: str | None) -> dict:
    from asdex_pipe.optimize.ipopt import IpoptProblem
    from bench.casadi_families import jax_family

    cache_dir = None if store else cache  # a store keeps its cache under <store>/jax_cache
    t0 = time.perf_counter()
    fun, c, x0, cl, cu, lb, ub, data = jax_family(family, n)
    problem = IpoptProblem(
        fun, x0, constraints=c, cl=cl, cu=cu, lb=lb, ub=ub, data=data, options=OPTIONS,
        backend=backend, compilation_cache=cache_dir, store=store,
    )  # fmt: skip
    setup = time.perf_counter() - t0
    if store and cache == "fill":
        return {"filled": problem.programs.coloring_source}
    process = time.perf_counter() - T_PROCESS
    t1 = time.perf_counter()
    res = problem.solve()  # wall time: the CasADi backend builds its nlpsol here, once
    solve = time.perf_counter() - t1
    t2 = time.perf_counter()
    problem.solve()
    again = time.perf_counter() - t2
    t3 = time.perf_counter()
    IpoptProblem(
        fun, x0, constraints=c, cl=cl, cu=cu, lb=lb, ub=ub, data=data, options=OPTIONS,
        backend=backend, compilation_cache=cache_dir, store=store,
    )  # fmt: skip
    warm_setup = time.perf_counter() - t3
    t = res.timings
    return {
        "setup_s": setup,
        "warm_setup_s": warm_setup,
        "process_s": process,
        "first_iteration_s": process + solve / max(res.iterations, 1),
        "sources": [problem.programs.coloring_source, problem.programs.jacobian_source],
        "build": problem.programs.build_timings,
        "iterations": res.iterations,
        "status": res.message if backend == "casadi" else res.status,
        "fun": res.fun,
        "solve_s": solve,
        "ipopt_s": t["ipopt_s"],
        "again_s": again,
        "callbacks_s": t["callbacks_s"],
        "per_call_s": {k: t["callbacks"][k]["median_s"] for k in KINDS},
    }


def overhead(family: str, n: int, reps: int = 2000) -> str:
    """µs of each cyipopt callback (numpy x, a new x each call, so no reuse) against its
    compiled program called with device arrays; the difference is the fixed overhead (the
    CasADi backend calls the same methods)."""
    import cyipopt
    import jax

    from asdex_pipe.optimize.ipopt import IpoptProblem, _Callbacks
    from bench.casadi_families import jax_family

    fun, c, x0, cl, cu, lb, ub, data = jax_family(family, n)
    problem = IpoptProblem(fun, x0, constraints=c, cl=cl, cu=cu, lb=lb, ub=ub, data=data)
    p = problem.programs
    d = problem._data_spec.sample
    cb = _Callbacks(cyipopt, p, d, np.float64)
    xs = [x0, x0 + 1e-9]
    lam = np.ones(p.m)

    def interleaved(prog, call) -> tuple[float, float, float, float]:
        # Alternating calls: both see the same machine load (µs: medians, 25th percentiles;
        # on a loaded machine XLA's thread wake-ups make the medians bimodal).
        tp, tc = [], []
        for i in range(reps):
            t = time.perf_counter()
            prog(i)
            tp.append(time.perf_counter() - t)
            t = time.perf_counter()
            call(i)
            tc.append(time.perf_counter() - t)
        return tuple(
            float(f(t)) * 1e6 for f in (np.median, lambda a: np.percentile(a, 25)) for t in (tp, tc)
        )

    with jax.enable_x64(True):
        # The programs see the same alternating points as the callbacks, resident on the
        # device (XLA runs a program on the same input buffer again faster).
        xd = [jax.device_put(x) for x in xs]
        dd, ld = jax.device_put(d), jax.device_put(lam)
        sd = jax.device_put(np.float64(1.0))
        pairs = {
            "gradient ([f, ∇f])": interleaved(
                lambda i: p.fg(xd[i % 2], dd).block_until_ready(),
                lambda i: cb.gradient(xs[i % 2]),
            ),
            "jacobian ([c, J])": interleaved(
                lambda i: p.cj(xd[i % 2], dd).block_until_ready(),
                lambda i: cb.jacobian(xs[i % 2]),
            ),
            "hessian": interleaved(
                lambda i: p.hess(xd[i % 2], sd, ld, dd).block_until_ready(),
                lambda i: cb.hessian(xs[i % 2], lam, 1.0),
            ),
            "objective after gradient (reused)": interleaved(
                lambda i: None, lambda i: cb.objective(xs[1])
            ),
        }
    lines = [
        f"\n**{family}, n = {n}** (µs, {reps} interleaved calls)\n",
        "| callback | program median | callback median | overhead | program p25 | "
        "callback p25 | overhead p25 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, (prog, call, prog25, call25) in pairs.items():
        lines.append(
            f"| {k} | {prog:.1f} | {call:.1f} | {call - prog:.1f} | {prog25:.1f} | "
            f"{call25:.1f} | {call25 - prog25:.1f} |"
        )
    return "\n".join(lines)


def one(route: str, family: str, n: int, cache: str, store: str | None) -> None:
    if route == "casadi":
        out = run_casadi(family, n)
    else:
        out = run_ours(family, n, "cyipopt" if route == "ours" else "casadi", cache, store)
    print("RESULT " + json.dumps(out))


def spawn(
    route: str, family: str, n: int, workdir: str, timeout: float, fill: bool = False
) -> dict | None:
    """Run one route in a fresh process. Cold routes get a new, empty compilation cache
    under ``workdir``; ``warm`` uses the row's store (``fill=True`` builds it, unmeasured)."""
    cmd = [sys.executable, "-m", "bench.bench_casadi", "--one", route, family, str(n)]
    if route == "warm":
        cmd += ["--store", os.path.join(workdir, "store"), "--cache", "fill" if fill else "-"]
    elif route != "casadi":
        cmd += ["--cache", tempfile.mkdtemp(prefix=f"{route}-jax-", dir=workdir)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
        )
    except subprocess.TimeoutExpired:
        print(f"  {route} {family} n={n}: timed out after {timeout:.0f} s", flush=True)
        return None
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  {route} {family} n={n}: failed\n{proc.stderr[-2000:]}", flush=True)
    return None


def _ms(t: float | None) -> str:
    return "—" if t is None else f"{t * 1e3:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=3, metavar=("ROUTE", "FAMILY", "N"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 3000, 30000])
    ap.add_argument("--families", nargs="+", default=["pendulum", "luksan", "coupling"])
    ap.add_argument("--routes", nargs="+", default=list(ROUTES))
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--cache", default=None, help=argparse.SUPPRESS)  # set by spawn
    ap.add_argument("--store", default=None, help=argparse.SUPPRESS)  # set by spawn
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--json", default=None, help="write every run's raw record here")
    ap.add_argument("--overhead", action="store_true", help="only the callback overhead")
    args = ap.parse_args()
    if args.overhead:
        print(f"load average: {os.getloadavg()}")
        for family in args.families:
            print(overhead(family, args.sizes[0]))
        return
    if args.one:
        route, family, n = args.one
        one(route, family, int(n), args.cache, args.store)
        return
    print(f"load average at start: {os.getloadavg()}", flush=True)
    records = []
    for family in args.families:
        for n in args.sizes:
            workdir = tempfile.mkdtemp(prefix=f"bench-casadi-{family}-{n}-")
            if "warm" in args.routes:
                spawn("warm", family, n, workdir, args.timeout, fill=True)
            for rep in range(args.reps):
                for route in args.routes:
                    r = spawn(route, family, n, workdir, args.timeout)
                    if r is not None:
                        r.update(route=route, family=family, n=n, rep=rep)
                        records.append(r)
                        print(
                            f"  {family} n={n} {route}: setup {r['setup_s']:.2f} s, process "
                            f"{r['process_s']:.2f} s, {r['iterations']} it, solve "
                            f"{r['solve_s']:.2f} s, again {r['again_s']:.2f} s, f={r['fun']:.10g}",
                            flush=True,
                        )
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1)
    print(table(records))


def table(records: list[dict]) -> str:
    """Markdown table: one row per (family, n, route), best of the repetitions by total."""
    best: dict[tuple, dict] = {}
    for r in records:
        key = (r["family"], r["n"], r["route"])
        total = r["setup_s"] + r["solve_s"]
        if key not in best or total < best[key]["setup_s"] + best[key]["solve_s"]:
            best[key] = r
    head = (
        "| family | n | route | setup s (again) | process s | first it. s | it | solve s | "
        "again s | total s | f/g/c/J/H ms per call | total vs CasADi | f rel. diff |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    )
    lines = [head]
    for (family, n, route), r in sorted(best.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        total = r["setup_s"] + r["solve_s"]
        ref = best.get((family, n, "casadi"))
        ratio = rel = "—"
        if ref is not None:
            ratio = f"{total / (ref['setup_s'] + ref['solve_s']):.2f}×"
            rel = f"{abs(r['fun'] - ref['fun']) / max(abs(ref['fun']), 1e-300):.1e}"
        per = "/".join(_ms(r["per_call_s"].get(k)) for k in KINDS)
        warm = f" ({r['warm_setup_s']:.2f})" if "warm_setup_s" in r else ""
        lines.append(
            f"| {family} | {n} | {route} | {r['setup_s']:.2f}{warm} | {r['process_s']:.2f} | "
            f"{r.get('first_iteration_s', r['process_s']):.2f} | "
            f"{r['iterations']} | {r['solve_s']:.2f} | {r['again_s']:.2f} | {total:.2f} | "
            f"{per} | {ratio} | {rel} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
