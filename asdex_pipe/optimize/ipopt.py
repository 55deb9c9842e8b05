"""IPOPT with exact sparse derivatives: :func:`minimize_ipopt` builds the cyipopt problem.

:class:`IpoptProblem` builds a program once (detection, coloring, three compiled programs,
see :mod:`asdex_pipe.optimize.problem`) and solves it many times, with new data arguments
each time if wanted; :func:`minimize_ipopt` is one build and one solve. Every callback IPOPT
makes is one call of a compiled program with numpy in and out; objective and gradient, and
constraints and Jacobian, are evaluated together and reused at the same ``x``.

cyipopt swallows an exception raised in the Hessian callback and lets IPOPT go on with
stale values (and, in other callbacks, records it but lets IPOPT run to the end). Here
every callback is guarded: the first exception is kept, the callback reports an evaluation
error, every later callback refuses to evaluate and the intermediate callback asks IPOPT to
stop; :func:`minimize_ipopt` then re-raises the exception to the caller.

Needs the optional extra ``pip install -e ".[ipopt]"`` (``cyipopt-wheels``: cyipopt with
Ipopt 3.14 and MUMPS bundled).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from asdex_pipe.optimize.problem import (
    DataSpec,
    Programs,
    check_outputs,
    check_problem_inputs,
    default_cache_dir,
    flat_functions,
    sync_cpu_dispatch,
)
from asdex_pipe.optimize.problem import compilation_cache as problem_compilation_cache
from asdex_pipe.pattern import ColoredPattern

HESSIANS = ("sparse", "dense", "limited-memory")
BACKENDS = ("auto", "cyipopt", "casadi")
CALLBACKS = ("objective", "gradient", "constraints", "jacobian", "hessian")
# IPOPT treats bounds at or beyond 1e19 as absent (nlp_lower/upper_bound_inf).
IPOPT_INF = 1e20
# The dense route lists all n(n+1)/2 lower-triangle entries; beyond this it cannot fit.
DENSE_MAX_N = 5000
DEFAULT_OPTIONS: dict[str, Any] = {"print_level": 0, "sb": "yes"}


def import_cyipopt() -> Any:
    """Import cyipopt, or raise ImportError saying which extra provides it."""
    try:
        import cyipopt
    except ImportError as exc:
        raise ImportError(
            "minimize_ipopt needs an Ipopt: pip install 'asdex_pipe[casadi]' (CasADi's Ipopt, "
            "the faster one) or 'asdex_pipe[ipopt]' (cyipopt-wheels, which bundles Ipopt and "
            f"MUMPS); import of cyipopt failed: {exc}"
        ) from exc
    return cyipopt


def casadi_available() -> bool:
    """Whether casadi (the ``casadi`` extra, CasADi's bundled Ipopt) can be imported."""
    import importlib.util

    return importlib.util.find_spec("casadi") is not None


# ------------------------------------------------------------------ result
@dataclass
class IpoptResult:
    """Outcome of :func:`minimize_ipopt`.

    Attributes:
        x: the solution, with ``x0``'s structure (pytree of numpy arrays or one array).
        fun: objective value at ``x``.
        constraints: (m,) constraint values ``c(x)``.
        mult_g: (m,) constraint multipliers.
        mult_x_L, mult_x_U: bound multipliers, with ``x0``'s structure.
        status: IPOPT's return status (0 solved, 1 solved to acceptable level, negative
            for failures, see IPOPT's ``ApplicationReturnStatus``).
        message: IPOPT's status message.
        success: ``status`` is 0 or 1.
        iterations: IPOPT iterations (restoration iterations included).
        constraint_violation: max violation of ``cl <= c(x) <= cu`` and of the bounds.
        timings: ``total_s`` (setup + solve), ``setup_s`` (detection, coloring,
            compilation), ``solve_s`` (inside IPOPT), ``callbacks_s`` (ours, all kinds),
            ``ipopt_s`` (``solve_s - callbacks_s``), and per callback kind
            ``{"calls": int, "seconds": float, "median_s": float | None}`` under
            ``callbacks`` (the median of one call: the first calls run on cold caches).
        hessian: ``"sparse"``, ``"dense"`` or ``"limited-memory"``.
        hessian_nnz, hessian_colors: lower-triangle entries and HVPs per evaluation
            (None for limited-memory; colors None for dense).
        jacobian_nnz, jacobian_colors: same for the constraint Jacobian (0 without
            constraints).
        history: ``(iteration, f, inf_pr, inf_du)`` per iteration (cyipopt backend; empty
            with casadi).
        backend: the Ipopt that solved it, ``"cyipopt"`` or ``"casadi"``.
    """

    x: Any
    fun: float
    constraints: np.ndarray
    mult_g: np.ndarray
    mult_x_L: Any
    mult_x_U: Any
    status: int
    message: str
    success: bool
    iterations: int
    constraint_violation: float
    timings: dict[str, Any]
    hessian: str
    hessian_nnz: int | None = None
    hessian_colors: int | None = None
    jacobian_nnz: int = 0
    jacobian_colors: int = 0
    history: list[tuple[int, float, float, float]] = field(default_factory=list, repr=False)
    backend: str = "cyipopt"


# ------------------------------------------------------------------ input checks
def _check_options(options: Any) -> dict[str, Any]:
    if options is None:
        return dict(DEFAULT_OPTIONS)
    if not isinstance(options, dict):
        raise ValueError(f"options must be a dict of IPOPT options, got {type(options).__name__}")
    out = dict(DEFAULT_OPTIONS)
    for key, value in options.items():
        if not isinstance(key, str):
            raise ValueError(f"IPOPT option names must be strings, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(
                f"IPOPT option {key!r} must be a str, int or float, got {type(value).__name__}"
            )
        out[key] = value
    if "hessian_approximation" in out:
        raise ValueError(
            "set the Hessian with minimize_ipopt(hessian='limited-memory'), not the "
            "hessian_approximation option"
        )
    return out


def _flat_x0(x0: Any, allow_float32: bool) -> tuple[np.ndarray, Callable, Any]:
    """``x0`` (array or pytree) as a flat host vector, its unravel function and dtype."""
    leaves = jax.tree.leaves(x0)
    if not leaves:
        raise ValueError("x0 is empty: it must hold at least one floating-point value")
    dtypes = set()
    for leaf in leaves:
        arr = np.asarray(leaf)
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
        ):
            raise ValueError(f"x0 must hold real numbers, got a leaf of dtype {arr.dtype}")
        dtypes.add(arr.dtype)
    floats = [d for d in dtypes if np.issubdtype(d, np.floating)]
    if any(d.itemsize < 8 for d in floats):
        if not allow_float32:
            raise ValueError(
                f"x0 has dtype {min(floats, key=lambda d: d.itemsize)}: IPOPT works in float64 "
                "and derivatives computed in lower precision stall its convergence; pass a "
                "float64 x0, or allow_float32=True to evaluate in float32 on purpose"
            )
        dtype = np.dtype(np.float32)
    else:
        dtype = np.dtype(np.float64)
    cast = jax.tree.map(lambda leaf: np.asarray(leaf, dtype=dtype), x0)
    flat, unravel = ravel_pytree(cast)
    flat = np.asarray(flat, dtype=dtype)
    if flat.size == 0:
        raise ValueError("x0 is empty: it must hold at least one floating-point value")
    if not np.all(np.isfinite(flat)):
        raise ValueError("x0 holds NaN or inf; IPOPT needs a finite starting point")
    return flat, unravel, dtype


def _bound_vector(value: Any, name: str, size: int, default: float, x0: Any = None) -> np.ndarray:
    """A bound as a float64 vector of ``size``: None, a scalar, a flat array, or (for
    variable bounds) a pytree shaped like ``x0``."""
    if value is None:
        return np.full(size, default)
    if x0 is not None and jax.tree.structure(value) == jax.tree.structure(x0):
        shapes_match = all(
            np.shape(a) == np.shape(b)
            for a, b in zip(jax.tree.leaves(value), jax.tree.leaves(x0), strict=True)
        )
        if shapes_match and not isinstance(value, np.ndarray | jax.Array | float | int):
            value = np.asarray(ravel_pytree(jax.tree.map(np.asarray, value))[0])
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(size, float(arr))
    elif arr.size == size:
        arr = arr.reshape(-1)
    else:
        raise ValueError(
            f"{name} has shape {np.shape(value)} ({arr.size} values) but there are {size} "
            f"{'variables' if x0 is not None else 'constraints'}; give a scalar or {size} values"
        )
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} holds NaN")
    return np.clip(arr, -IPOPT_INF, IPOPT_INF)


def _check_bounds(lo: np.ndarray, hi: np.ndarray, what: str) -> None:
    bad = lo > hi
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{what}: lower bound {lo[i]} > upper bound {hi[i]} at index {i}")


# ------------------------------------------------------------------ callbacks
class _Callbacks:
    """The problem object handed to cyipopt: each callback is one call of a compiled
    program (numpy in, numpy out), timed; the first error is kept.

    ``objective``/``gradient`` share one evaluation (``[f, ∇f]``), and so do
    ``constraints``/``jacobian`` (``[c, J]``): IPOPT asks for both at the same ``x``, and
    the second call is a comparison of ``x`` with the last one and a slice.
    """

    def __init__(self, cyipopt: Any, programs: Programs, data: Any, dtype: Any, error: Any = None):
        self._evaluation_error = error if error is not None else cyipopt.CyIpoptEvaluationError
        self._fg = programs.fg
        self._cj = programs.cj
        self._hess = programs.hess
        self._hess_structure = (programs.hess_rows, programs.hess_cols)
        self._jac_structure = (programs.jac_rows, programs.jac_cols)
        self._n, self._m = programs.n, programs.m
        self._cast = None if np.dtype(dtype) == np.float64 else np.dtype(dtype)
        # On the device once per solve, not copied at every call.
        with jax.enable_x64(self._cast is None):
            self.data = jax.device_put(data)
        self._x_fg: np.ndarray | None = None
        self._x_cj: np.ndarray | None = None
        self._fg_out = self._cj_out = None
        self.error: tuple[str, BaseException] | None = None
        self.calls = dict.fromkeys(CALLBACKS, 0)
        self.samples: dict[str, list[float]] = {k: [] for k in CALLBACKS}
        self.iterations = 0
        self.history: list[tuple[int, float, float, float]] = []
        if self._hess is None:  # limited-memory: cyipopt must not see a Hessian callback
            self.hessian = None
            self.hessianstructure = None
        if self._cj is None:
            self.constraints = None
            self.jacobian = None
            self.jacobianstructure = None

    @property
    def seconds(self) -> dict[str, float]:
        return {k: float(sum(v)) for k, v in self.samples.items()}

    def _fail(self, kind: str, exc: BaseException) -> Exception:
        self.error = (kind, exc)
        return self._evaluation_error(f"{kind} callback failed: {exc}")

    def _stopped(self) -> Exception:
        return self._evaluation_error(f"stopping: an earlier {self.error[0]} callback failed")

    def _objective_and_gradient(self, kind: str, x: np.ndarray) -> np.ndarray:
        if self.error is not None:
            # IPOPT may ask again before its next iteration check; never hand it values.
            raise self._stopped()
        t0 = time.perf_counter()
        if self._x_fg is None or not np.array_equal(x, self._x_fg):
            try:
                z = x if self._cast is None else x.astype(self._cast)
                self._fg_out = np.asarray(self._fg(z, self.data), dtype=np.float64)
            except Exception as exc:
                raise self._fail(kind, exc) from exc
            self._x_fg = x.copy()
        self.calls[kind] += 1
        self.samples[kind].append(time.perf_counter() - t0)
        return self._fg_out

    def _constraints_and_jacobian(self, kind: str, x: np.ndarray) -> np.ndarray:
        if self.error is not None:
            raise self._stopped()
        t0 = time.perf_counter()
        if self._x_cj is None or not np.array_equal(x, self._x_cj):
            try:
                z = x if self._cast is None else x.astype(self._cast)
                self._cj_out = np.asarray(self._cj(z, self.data), dtype=np.float64)
            except Exception as exc:
                raise self._fail(kind, exc) from exc
            self._x_cj = x.copy()
        self.calls[kind] += 1
        self.samples[kind].append(time.perf_counter() - t0)
        return self._cj_out

    def objective(self, x: np.ndarray) -> float:
        return float(self._objective_and_gradient("objective", x)[0])

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return self._objective_and_gradient("gradient", x)[1:]

    def constraints(self, x: np.ndarray) -> np.ndarray:
        return self._constraints_and_jacobian("constraints", x)[: self._m]

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        return self._constraints_and_jacobian("jacobian", x)[self._m :]

    def jacobianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        return self._jac_structure

    def hessian(self, x: np.ndarray, lagrange: np.ndarray, obj_factor: float) -> np.ndarray:
        if self.error is not None:
            raise self._stopped()
        t0 = time.perf_counter()
        try:
            if self._cast is None:
                out = self._hess(x, np.float64(obj_factor), lagrange, self.data)
            else:
                c = self._cast
                out = self._hess(x.astype(c), c.type(obj_factor), lagrange.astype(c), self.data)
            out = np.asarray(out, dtype=np.float64)
        except Exception as exc:
            raise self._fail("hessian", exc) from exc
        self.calls["hessian"] += 1
        self.samples["hessian"].append(time.perf_counter() - t0)
        return out

    def hessianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        return self._hess_structure

    def intermediate(
        self,
        alg_mod: int,
        iter_count: int,
        obj_value: float,
        inf_pr: float,
        inf_du: float,
        *args: Any,
    ) -> bool:
        self.iterations = int(iter_count)
        self.history.append((int(iter_count), float(obj_value), float(inf_pr), float(inf_du)))
        return self.error is None


def _violation(g: np.ndarray, cl: np.ndarray, cu: np.ndarray, x: np.ndarray, lb, ub) -> float:
    parts = [
        np.maximum(cl - g, 0.0),
        np.maximum(g - cu, 0.0),
        np.maximum(lb - x, 0.0),
        np.maximum(x - ub, 0.0),
    ]
    return float(max((p.max() if p.size else 0.0) for p in parts))


def _timings(callbacks: Any, setup_s: float, solve_s: float, total_s: float) -> dict[str, Any]:
    seconds = callbacks.seconds
    callbacks_s = float(sum(seconds.values()))
    return {
        "total_s": total_s,
        "setup_s": setup_s,
        "solve_s": solve_s,
        "callbacks_s": callbacks_s,
        "ipopt_s": solve_s - callbacks_s,
        "callbacks": {
            k: {
                "calls": callbacks.calls[k],
                "seconds": seconds[k],
                "median_s": float(np.median(callbacks.samples[k]))
                if callbacks.samples[k]
                else None,
            }
            for k in CALLBACKS
        },
    }


# ------------------------------------------------------------------ the reusable problem
class IpoptProblem:
    """A constrained program built once (detection, coloring, compilation) and solved many
    times with :meth:`solve`, which pays only IPOPT and the callbacks.

    ``fun(x, *data)`` and ``constraints(x, *data)`` take the variables ``x`` (an array or a
    pytree like ``x0``) and then the data arguments: parameters of the problem (targets,
    weights, initial states) whose values change between solves without a rebuild. Their
    shapes and dtypes are fixed by ``data`` given here; the sparsity patterns are detected
    with the data as unknowns and hold for every data value.

    Args:
        fun, x0, constraints, cl, cu, lb, ub, options, hessian, algorithm, order, mode,
            jacobian_mode, coloring, allow_float32: as in :func:`minimize_ipopt` (bounds
            and options are the defaults of every :meth:`solve`).
        data: the data arguments' sample values (a tuple; ``()`` for none).
        store: an :class:`~asdex_pipe.store.artifact_store.ArtifactStore`, or its root (a
            local directory or an ``s3://``/``file://`` URL): the Lagrangian's
            coloring is loaded from it when stored (keyed by the Lagrangian's jaxpr and the
            coloring options), else detected and saved there. A local store also hosts
            JAX's persistent compilation cache (``<root>/jax_cache``) unless
            ``compilation_cache`` says otherwise.
        compilation_cache: a directory for JAX's persistent compilation cache during the
            build; default ``<root>/jax_cache`` of a local store, else
            :func:`~asdex_pipe.optimize.problem.default_cache_dir` (JAX's own cache when
            ``jax_compilation_cache_dir`` is set); ``False``: none.
        backend: ``"casadi"`` (CasADi's ``nlpsol("ipopt")`` with these compiled programs
            as CasADi functions; the ``casadi`` extra), ``"cyipopt"`` (the ``ipopt``
            extra's Ipopt) or ``"auto"``: casadi when it is installed (its Ipopt and MUMPS
            ran 2.5-3× faster on the same iterations in ``bench/bench_casadi.py``), else
            cyipopt.
        seeds: seed variant of the Hessian's products: ``"constant"`` (default) or
            ``"auto"`` (times both variants at build from n = 10^4 on, which costs
            compilations; see :func:`asdex_pipe.hessian_from_coloring`).
        sync_dispatch: when JAX has not computed anything yet in this process, switch
            its CPU dispatch to synchronous (``jax_cpu_enable_async_dispatch=False``,
            process-wide; see :func:`~asdex_pipe.optimize.problem.sync_cpu_dispatch`):
            callbacks 2-3× faster at small n. Has no effect once JAX has run.

    Attributes:
        programs: the compiled :class:`~asdex_pipe.optimize.problem.Programs`.
        n, m: variables and constraints.
        builds: how many times detection, coloring and compilation ran (1).
        sync_dispatch: whether JAX's CPU dispatch is synchronous in this process.
        setup_s: seconds of the build.
    """

    builds_total = 0  # builds over all instances, for tests and benchmarks

    def __init__(
        self,
        fun: Callable,
        x0: Any,
        *,
        constraints: Callable | None = None,
        data: tuple = (),
        cl: Any = None,
        cu: Any = None,
        lb: Any = None,
        ub: Any = None,
        options: dict[str, Any] | None = None,
        hessian: str = "sparse",
        algorithm: str = "star",
        order: str = "largest_first",
        mode: str = "fwd_over_rev",
        jacobian_mode: str = "auto",
        coloring: ColoredPattern | None = None,
        store: Any = None,
        compilation_cache: str | Path | bool | None = None,
        allow_float32: bool = False,
        backend: str = "auto",
        seeds: str = "constant",
        sync_dispatch: bool = True,
    ):
        t_start = time.perf_counter()
        self.sync_dispatch = sync_cpu_dispatch() if sync_dispatch else False
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend == "auto":
            backend = "casadi" if casadi_available() else "cyipopt"
        self.backend = backend
        self._cyipopt = import_cyipopt() if backend == "cyipopt" else None
        if not callable(fun):
            raise ValueError(f"fun must be callable, got {type(fun).__name__}")
        if constraints is not None and not callable(constraints):
            raise ValueError(
                f"constraints must be callable or None, got {type(constraints).__name__}"
            )
        check_problem_inputs(hessian, algorithm, order, mode, HESSIANS, seeds)
        if not isinstance(data, tuple):
            raise ValueError(f"data must be a tuple of data arguments, got {type(data).__name__}")
        self.hessian = hessian
        self.options = _check_options(options)
        flat0, unravel, dtype = _flat_x0(x0, allow_float32)
        n = flat0.size
        if hessian == "dense" and n > DENSE_MAX_N:
            raise ValueError(
                f"hessian='dense' lists all n(n+1)/2 entries; n={n} > {DENSE_MAX_N} does not "
                "fit, use hessian='sparse'"
            )
        if coloring is not None and (
            not isinstance(coloring, ColoredPattern) or coloring.mode != "HVP"
        ):
            raise ValueError("coloring must be an HVP ColoredPattern of the Lagrangian pattern")
        if coloring is not None and coloring.shape != (n, n):
            raise ValueError(f"coloring has shape {coloring.shape} but x0 holds {n} values")
        self._x0_tree = x0
        self.lb = _bound_vector(lb, "lb", n, -IPOPT_INF, x0)
        self.ub = _bound_vector(ub, "ub", n, IPOPT_INF, x0)
        _check_bounds(self.lb, self.ub, "variable bounds")
        self.n, self.dtype, self._unravel, self._flat0 = n, dtype, unravel, flat0
        if isinstance(store, (str, os.PathLike)):
            from asdex_pipe.store.artifact_store import ArtifactStore  # zarr: only when used

            store = ArtifactStore(store)
        if compilation_cache is None:
            local_store = store is not None and store.location.is_local
            compilation_cache = (
                Path(store.root) / "jax_cache" if local_store else default_cache_dir()
            )
        cache_dir = None if compilation_cache is False else compilation_cache
        with (
            jax.enable_x64(dtype == np.float64),
            warnings.catch_warnings(),
            problem_compilation_cache(cache_dir),
        ):
            warnings.filterwarnings("ignore", message=".*saves nothing over a dense evaluation")
            self._data_spec = DataSpec(data, dtype)
            data_sample = self._data_spec.sample
            m = check_outputs(fun, constraints, unravel, flat0, data_sample)
            self.m = m
            if m == 0 and (cl is not None or cu is not None) and np.size(cl) + np.size(cu) > 0:
                raise ValueError("cl/cu given but there are no constraints")
            self.cl, self.cu = self._constraint_bounds(cl, cu)
            fun_flat, c_flat = flat_functions(fun, constraints if m else None, unravel)
            self.programs = Programs(
                fun_flat, c_flat, n, m, flat0, data_sample, hessian=hessian,
                algorithm=algorithm, order=order, mode=mode, jacobian_mode=jacobian_mode,
                coloring=coloring, store=store, dtype=dtype, seeds=seeds,
            )  # fmt: skip
        self._casadi_solvers: dict[Any, Any] = {}
        self.builds = 1
        IpoptProblem.builds_total += 1
        self.setup_s = time.perf_counter() - t_start

    def _constraint_bounds(self, cl: Any, cu: Any) -> tuple[np.ndarray, np.ndarray]:
        m = self.m
        if not m:
            return np.zeros(0), np.zeros(0)
        g_lo = _bound_vector(cl, "cl", m, 0.0 if cu is None else -IPOPT_INF)
        g_hi = _bound_vector(cu, "cu", m, 0.0 if cl is None else IPOPT_INF)
        _check_bounds(g_lo, g_hi, "constraint bounds")
        return g_lo, g_hi

    @property
    def coloring(self) -> ColoredPattern | None:
        """The Lagrangian's ``HVP`` coloring (sparse route)."""
        return self.programs.coloring

    def solve(
        self,
        x0: Any = None,
        *data: Any,
        cl: Any = None,
        cu: Any = None,
        lb: Any = None,
        ub: Any = None,
        options: dict[str, Any] | None = None,
    ) -> IpoptResult:
        """Solve from ``x0`` (default: the build's) with these data arguments (default: the
        build's). Bounds and options given here replace the build's for this solve.

        Raises:
            ValueError: ``x0`` or data of another structure, shape or dtype; bad bounds.
            Exception: the first exception raised inside a callback, after IPOPT stopped.
        """
        t_start = time.perf_counter()
        if x0 is None:
            flat0 = self._flat0
        else:
            flat0 = _flat_x0(x0, self.dtype != np.float64)[0]
            if flat0.size != self.n:
                raise ValueError(f"x0 holds {flat0.size} values, the problem has {self.n}")
        x_lb = self.lb if lb is None else _bound_vector(lb, "lb", self.n, -IPOPT_INF, x0)
        x_ub = self.ub if ub is None else _bound_vector(ub, "ub", self.n, IPOPT_INF, x0)
        _check_bounds(x_lb, x_ub, "variable bounds")
        g_lo, g_hi = (self.cl, self.cu) if cl is None and cu is None else (
            self._constraint_bounds(cl, cu)
        )  # fmt: skip
        opts = dict(self.options)
        if options is not None:
            opts.update({k: v for k, v in _check_options(options).items()})
        d = self._data_spec.sample if not data else self._data_spec.cast(data)
        with jax.enable_x64(self.dtype == np.float64):
            if self.backend == "casadi":
                from asdex_pipe.optimize.casadi_backend import solve_casadi

                return solve_casadi(self, flat0, d, x_lb, x_ub, g_lo, g_hi, opts, t_start)
            return self._solve_cyipopt(flat0, d, x_lb, x_ub, g_lo, g_hi, opts, t_start)

    def _solve_cyipopt(self, flat0, d, x_lb, x_ub, g_lo, g_hi, opts, t_start) -> IpoptResult:
        callbacks = _Callbacks(self._cyipopt, self.programs, d, self.dtype)
        problem = self._cyipopt.Problem(
            n=self.n, m=self.m, problem_obj=callbacks, lb=x_lb, ub=x_ub, cl=g_lo, cu=g_hi
        )
        if self.hessian == "limited-memory":
            opts["hessian_approximation"] = "limited-memory"
        for key, value in opts.items():
            try:
                problem.add_option(key, value)
            except TypeError:
                raise ValueError(
                    f"IPOPT refused option {key}={value!r} (unknown name or wrong type)"
                ) from None
        setup_s = time.perf_counter() - t_start
        t_solve = time.perf_counter()
        x_opt, info = problem.solve(flat0.astype(np.float64))
        solve_s = time.perf_counter() - t_solve
        if callbacks.error is not None:
            kind, exc = callbacks.error
            exc.add_note(
                f"raised in minimize_ipopt's {kind} callback at IPOPT iteration "
                f"{callbacks.iterations}; IPOPT was stopped"
            )
            raise exc
        msg = info["status_msg"]
        return self.result(
            x_opt, float(info["obj_val"]), info["g"], info["mult_g"], info["mult_x_L"],
            info["mult_x_U"], int(info["status"]),
            msg.decode() if isinstance(msg, bytes) else str(msg), callbacks,
            (x_lb, x_ub, g_lo, g_hi), setup_s, solve_s, time.perf_counter() - t_start,
        )  # fmt: skip

    def as_tree(self, v: np.ndarray) -> Any:
        """A flat vector with ``x0``'s structure (numpy leaves)."""
        with jax.enable_x64(self.dtype == np.float64):
            return jax.tree.map(np.asarray, self._unravel(jnp.asarray(v, dtype=self.dtype)))

    def result(
        self, x_opt, fun, g, mult_g, mult_x_l, mult_x_u, status, message, callbacks, bounds,
        setup_s, solve_s, total_s,
    ) -> IpoptResult:  # fmt: skip
        """The :class:`IpoptResult` of one solve (for the backends)."""
        x_lb, x_ub, g_lo, g_hi = bounds
        g = np.asarray(g, dtype=np.float64).reshape(-1)
        x_opt = np.asarray(x_opt, dtype=np.float64).reshape(-1)
        p = self.programs
        return IpoptResult(
            x=self.as_tree(x_opt),
            fun=fun,
            constraints=g,
            mult_g=np.asarray(mult_g, dtype=np.float64).reshape(-1),
            mult_x_L=self.as_tree(np.asarray(mult_x_l).reshape(-1)),
            mult_x_U=self.as_tree(np.asarray(mult_x_u).reshape(-1)),
            status=status,
            message=message,
            success=status in (0, 1),
            iterations=callbacks.iterations,
            constraint_violation=_violation(g, g_lo, g_hi, x_opt, x_lb, x_ub),
            timings=_timings(callbacks, setup_s, solve_s, total_s),
            hessian=self.hessian,
            hessian_nnz=None if p.hess_rows is None else int(p.hess_rows.size),
            hessian_colors=p.hessian_colors,
            jacobian_nnz=int(p.jac_rows.size),
            jacobian_colors=p.jacobian_colors,
            history=callbacks.history,
            backend=self.backend,
        )


# ------------------------------------------------------------------ entry point
def minimize_ipopt(
    fun: Callable,
    x0: Any,
    *,
    constraints: Callable | None = None,
    cl: Any = None,
    cu: Any = None,
    lb: Any = None,
    ub: Any = None,
    options: dict[str, Any] | None = None,
    hessian: str = "sparse",
    algorithm: str = "star",
    order: str = "largest_first",
    mode: str = "fwd_over_rev",
    jacobian_mode: str = "auto",
    coloring: ColoredPattern | None = None,
    allow_float32: bool = False,
    store: Any = None,
    compilation_cache: str | Path | bool | None = None,
    backend: str = "auto",
    sync_dispatch: bool = True,
) -> IpoptResult:
    """Minimise ``fun(x)`` subject to ``cl <= constraints(x) <= cu`` and ``lb <= x <= ub``
    with IPOPT, handing it exact sparse derivatives.

    The sparse Lagrangian Hessian (one pattern for all multipliers, colored once) and the
    constraint Jacobian structure are built before the solve; each IPOPT callback is then
    one jitted call. Everything runs in float64 (``jax.enable_x64`` inside this call only;
    the global setting is left as it was).

    Args:
        fun: scalar objective of ``x`` (``x0``'s structure: an array or a pytree).
        x0: starting point; float64 (or integer) values. Pytrees are flattened with
            ``jax.flatten_util.ravel_pytree``.
        constraints: ``x -> (m,)`` 1-D array of constraint values, or None.
        cl, cu: (m,) constraint bounds (scalars broadcast). With constraints and neither
            given, ``c(x) = 0``; with one given the other side is unbounded. ``±inf``
            means no bound.
        lb, ub: variable bounds: None (unbounded), a scalar, a flat (n,) array or a pytree
            like ``x0``.
        options: IPOPT options (``{"tol": 1e-8, "max_iter": 200, ...}``); defaults
            ``print_level=0``, ``sb="yes"`` unless given.
        hessian: ``"sparse"`` (ours), ``"dense"`` (``jax.hessian`` of the Lagrangian, all
            n(n+1)/2 lower entries; n <= 5000) or ``"limited-memory"`` (IPOPT's L-BFGS).
        algorithm, order: symmetric coloring of the Lagrangian pattern (``"star"`` or
            ``"acyclic"``).
        mode: HVP mode of the Hessian products.
        jacobian_mode: ``"auto"``, ``"fwd"`` or ``"rev"`` for the constraint Jacobian.
        coloring: an existing ``HVP`` coloring of the Lagrangian pattern over the flat
            ``x`` (skips detection and coloring), e.g. a stored artifact.
        allow_float32: evaluate in float32 when ``x0`` is float32 (refused otherwise).
        store: an artifact store or its root: the Lagrangian's coloring is reused from it
            when stored, else detected and saved (see :class:`IpoptProblem`).
        compilation_cache: directory of JAX's persistent compilation cache for the build
            (default: ``<store root>/jax_cache`` for a local store, else
            ``~/.cache/asdex_pipe/jax_cache``; ``False``: none); see :class:`IpoptProblem`.
        backend: ``"auto"`` (casadi when installed, else cyipopt), ``"casadi"`` or
            ``"cyipopt"``; see :class:`IpoptProblem`.
        sync_dispatch: synchronous JAX CPU dispatch when JAX has not run yet (see
            :class:`IpoptProblem`).

    Returns:
        An :class:`IpoptResult`.

    Raises:
        ValueError: bad input, before IPOPT starts: non-scalar ``fun``, a constraint
            function that is not vector-valued, bounds of the wrong size or crossed, a
            float32 ``x0`` without ``allow_float32``, unknown options.
        ImportError: cyipopt is not installed.
        Exception: the first exception raised inside any callback during the solve, after
            IPOPT has been stopped (with a note naming the callback).
    """
    t_start = time.perf_counter()
    problem = IpoptProblem(
        fun, x0, constraints=constraints, cl=cl, cu=cu, lb=lb, ub=ub, options=options,
        hessian=hessian, algorithm=algorithm, order=order, mode=mode,
        jacobian_mode=jacobian_mode, coloring=coloring, store=store,
        compilation_cache=compilation_cache, allow_float32=allow_float32, backend=backend,
        sync_dispatch=sync_dispatch,
    )  # fmt: skip
    res = problem.solve()
    res.timings["setup_s"] += problem.setup_s
    res.timings["total_s"] = time.perf_counter() - t_start
    return res
