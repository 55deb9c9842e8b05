"""IPOPT with exact sparse derivatives: :func:`minimize_ipopt` builds the cyipopt problem.

Every callback IPOPT makes is one jitted call: objective, gradient, constraints,
constraint-Jacobian values and Lagrangian-Hessian values (lower triangle, see
:mod:`asdex_pipe.optimize.lagrangian`); the structures are computed once, before the solve.

cyipopt swallows an exception raised in the Hessian callback and lets IPOPT go on with
stale values (and, in other callbacks, records it but lets IPOPT run to the end). Here
every callback is guarded: the first exception is kept, the callback reports an evaluation
error, every later callback refuses to evaluate and the intermediate callback asks IPOPT to
stop; :func:`minimize_ipopt` then re-raises the exception to the caller.

Needs the optional extra ``pip install -e ".[ipopt]"`` (``cyipopt-wheels``: cyipopt with
Ipopt 3.14 and MUMPS bundled).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from asdex_pipe.optimize.lagrangian import (
    ConstraintJacobian,
    LagrangianHessian,
    constraint_jacobian,
    lagrangian_hessian,
    lagrangian_hessian_from_coloring,
    num_constraints,
)
from asdex_pipe.pattern import ColoredPattern
from asdex_pipe.vocabulary import HVP_MODES, check_one_of

HESSIANS = ("sparse", "dense", "limited-memory")
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
            "minimize_ipopt needs cyipopt: pip install 'asdex_pipe[ipopt]' "
            f"(cyipopt-wheels, which bundles Ipopt and MUMPS); import failed: {exc}"
        ) from exc
    return cyipopt


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
    """The problem object handed to cyipopt: every callback timed, the first error kept."""

    def __init__(
        self,
        cyipopt: Any,
        fns: dict[str, Callable],
        jac: ConstraintJacobian | None,
        hess_rows: np.ndarray | None,
        hess_cols: np.ndarray | None,
        dtype: Any,
    ):
        self._evaluation_error = cyipopt.CyIpoptEvaluationError
        self._fns = fns
        self._jac = jac
        self._hess = (hess_rows, hess_cols)
        self._dtype = dtype
        self.error: tuple[str, BaseException] | None = None
        self.calls = dict.fromkeys(CALLBACKS, 0)
        self.seconds = dict.fromkeys(CALLBACKS, 0.0)
        self.samples: dict[str, list[float]] = {k: [] for k in CALLBACKS}
        self.iterations = 0
        self.history: list[tuple[int, float, float, float]] = []
        if hess_rows is None:  # limited-memory: cyipopt must not see a Hessian callback
            self.hessian = None
            self.hessianstructure = None
        if jac is None:
            self.constraints = None
            self.jacobian = None
            self.jacobianstructure = None

    def _run(self, kind: str, *args: Any) -> np.ndarray:
        if self.error is not None:
            # IPOPT may ask again before its next iteration check; never hand it values.
            raise self._evaluation_error(f"stopping: an earlier {self.error[0]} callback failed")
        t0 = time.perf_counter()
        try:
            x = jnp.asarray(args[0], dtype=self._dtype)
            rest = [jnp.asarray(a, dtype=self._dtype) for a in args[1:]]
            out = np.asarray(self._fns[kind](x, *rest), dtype=np.float64)
        except Exception as exc:
            self.error = (kind, exc)
            raise self._evaluation_error(f"{kind} callback failed: {exc}") from exc
        finally:
            elapsed = time.perf_counter() - t0
            self.calls[kind] += 1
            self.seconds[kind] += elapsed
            self.samples[kind].append(elapsed)
        return out

    def objective(self, x: np.ndarray) -> float:
        return float(self._run("objective", x))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return self._run("gradient", x)

    def constraints(self, x: np.ndarray) -> np.ndarray:
        return self._run("constraints", x)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        return self._run("jacobian", x)

    def jacobianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        return self._jac.rows, self._jac.cols

    def hessian(self, x: np.ndarray, lagrange: np.ndarray, obj_factor: float) -> np.ndarray:
        return self._run("hessian", x, obj_factor, lagrange)

    def hessianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        return self._hess

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


# ------------------------------------------------------------------ derivatives
def _dense_hessian(lagrangian: Callable, n: int) -> tuple[np.ndarray, np.ndarray, Callable]:
    rows, cols = np.tril_indices(n)
    rows, cols = rows.astype(np.int32), cols.astype(np.int32)

    @jax.jit
    def values(x, obj_factor, lagrange):
        h = jax.hessian(lagrangian)(x, obj_factor, lagrange)
        return h[rows, cols]

    return rows, cols, values


def _build(
    fun_flat: Callable,
    c_flat: Callable | None,
    n: int,
    m: int,
    hessian: str,
    algorithm: str,
    order: str,
    mode: str,
    jacobian_mode: str,
    coloring: ColoredPattern | None,
    dtype: Any,
) -> tuple[dict[str, Callable], ConstraintJacobian | None, Any, Any, LagrangianHessian | None]:
    fns: dict[str, Callable] = {
        "objective": jax.jit(fun_flat),
        "gradient": jax.jit(jax.grad(fun_flat)),
    }
    jac = None
    if m:
        jac = constraint_jacobian(c_flat, n, mode=jacobian_mode)
        fns["constraints"] = jax.jit(c_flat)
        fns["jacobian"] = jac.values
    lag = None
    rows = cols = None
    if hessian == "sparse":
        if coloring is not None:
            lag = lagrangian_hessian_from_coloring(
                fun_flat, c_flat, coloring, n, mode=mode, dtype=dtype
            )
        else:
            lag = lagrangian_hessian(
                fun_flat, c_flat, n, algorithm=algorithm, order=order, mode=mode, dtype=dtype
            )
        rows, cols = lag.rows, lag.cols
        fns["hessian"] = lag.values
    elif hessian == "dense":

        def lagrangian(x, obj_factor, lagrange):
            value = obj_factor * fun_flat(x)
            return value + jnp.vdot(lagrange, c_flat(x)) if m else value

        rows, cols, fns["hessian"] = _dense_hessian(lagrangian, n)
    return fns, jac, rows, cols, lag


def _warm_up(fns: dict[str, Callable], x: jax.Array, m: int) -> None:
    """Compile every callback at ``x0`` before IPOPT starts, so that callback timings are
    evaluations and a function that fails at all fails here, with its own traceback."""
    for kind, fn in fns.items():
        args = (x, jnp.ones((), x.dtype), jnp.ones((m,), x.dtype)) if kind == "hessian" else (x,)
        jax.block_until_ready(fn(*args))


def _violation(g: np.ndarray, cl: np.ndarray, cu: np.ndarray, x: np.ndarray, lb, ub) -> float:
    parts = [
        np.maximum(cl - g, 0.0),
        np.maximum(g - cu, 0.0),
        np.maximum(lb - x, 0.0),
        np.maximum(x - ub, 0.0),
    ]
    return float(max((p.max() if p.size else 0.0) for p in parts))


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
    cyipopt = import_cyipopt()
    if not callable(fun):
        raise ValueError(f"fun must be callable, got {type(fun).__name__}")
    if constraints is not None and not callable(constraints):
        raise ValueError(f"constraints must be callable or None, got {type(constraints).__name__}")
    if hessian not in HESSIANS:
        raise ValueError(f"hessian must be one of {HESSIANS}, got {hessian!r}")
    check_one_of(mode, HVP_MODES, "mode")
    opts = _check_options(options)
    flat0, unravel, dtype = _flat_x0(x0, allow_float32)
    n = flat0.size
    if hessian == "dense" and n > DENSE_MAX_N:
        raise ValueError(
            f"hessian='dense' lists all n(n+1)/2 entries; n={n} > {DENSE_MAX_N} does not fit, "
            "use hessian='sparse'"
        )
    if coloring is not None and (
        not isinstance(coloring, ColoredPattern) or coloring.mode != "HVP"
    ):
        raise ValueError("coloring must be an HVP ColoredPattern of the Lagrangian pattern")
    if coloring is not None and coloring.shape != (n, n):
        raise ValueError(f"coloring has shape {coloring.shape} but x0 holds {n} values")
    x_lb = _bound_vector(lb, "lb", n, -IPOPT_INF, x0)
    x_ub = _bound_vector(ub, "ub", n, IPOPT_INF, x0)
    _check_bounds(x_lb, x_ub, "variable bounds")

    with jax.enable_x64(dtype == np.float64), warnings.catch_warnings():
        # A tiny program (HS071) is dense; that the coloring saves nothing is no news there.
        warnings.filterwarnings("ignore", message=".*saves nothing over a dense evaluation")

        def fun_flat(z):
            return jnp.reshape(fun(unravel(z)), ())

        out = jax.eval_shape(fun, jax.tree.map(jnp.asarray, unravel(jnp.asarray(flat0))))
        if not isinstance(out, jax.ShapeDtypeStruct) or math.prod(out.shape) != 1:
            got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
            raise ValueError(f"fun must return a scalar, got output of shape {got}")
        c_flat = None
        m = 0
        if constraints is not None:

            def c_flat(z):
                return constraints(unravel(z))

            m = num_constraints(c_flat, (n,), dtype)
        if m == 0 and (cl is not None or cu is not None) and np.size(cl) + np.size(cu) > 0:
            raise ValueError("cl/cu given but there are no constraints")
        if m:
            g_lo = _bound_vector(cl, "cl", m, 0.0 if cu is None else -IPOPT_INF)
            g_hi = _bound_vector(cu, "cu", m, 0.0 if cl is None else IPOPT_INF)
            _check_bounds(g_lo, g_hi, "constraint bounds")
        else:
            g_lo = g_hi = np.zeros(0)
            c_flat = None

        fns, jac, rows, cols, lag = _build(
            fun_flat, c_flat, n, m, hessian, algorithm, order, mode, jacobian_mode, coloring,
            dtype,
        )  # fmt: skip
        x_dev = jnp.asarray(flat0)
        _warm_up(fns, x_dev, m)
        callbacks = _Callbacks(cyipopt, fns, jac, rows, cols, dtype)
        problem = cyipopt.Problem(
            n=n, m=m, problem_obj=callbacks, lb=x_lb, ub=x_ub, cl=g_lo, cu=g_hi
        )
        if hessian == "limited-memory":
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

    def as_tree(v: np.ndarray) -> Any:
        with jax.enable_x64(dtype == np.float64):
            return jax.tree.map(np.asarray, unravel(jnp.asarray(v, dtype=dtype)))

    g = np.asarray(info["g"], dtype=np.float64)
    callbacks_s = float(sum(callbacks.seconds.values()))
    status = int(info["status"])
    msg = info["status_msg"]
    return IpoptResult(
        x=as_tree(x_opt),
        fun=float(info["obj_val"]),
        constraints=g,
        mult_g=np.asarray(info["mult_g"], dtype=np.float64),
        mult_x_L=as_tree(np.asarray(info["mult_x_L"])),
        mult_x_U=as_tree(np.asarray(info["mult_x_U"])),
        status=status,
        message=msg.decode() if isinstance(msg, bytes) else str(msg),
        success=status in (0, 1),
        iterations=callbacks.iterations,
        constraint_violation=_violation(g, g_lo, g_hi, np.asarray(x_opt), x_lb, x_ub),
        timings={
            "total_s": time.perf_counter() - t_start,
            "setup_s": setup_s,
            "solve_s": solve_s,
            "callbacks_s": callbacks_s,
            "ipopt_s": solve_s - callbacks_s,
            "callbacks": {
                k: {
                    "calls": callbacks.calls[k],
                    "seconds": callbacks.seconds[k],
                    "median_s": float(np.median(callbacks.samples[k]))
                    if callbacks.samples[k]
                    else None,
                }
                for k in CALLBACKS
            },
        },
        hessian=hessian,
        hessian_nnz=None if rows is None else int(rows.size),
        hessian_colors=None if lag is None else lag.num_colors,
        jacobian_nnz=0 if jac is None else jac.nnz,
        jacobian_colors=0 if jac is None else jac.num_colors,
        history=callbacks.history,
    )
