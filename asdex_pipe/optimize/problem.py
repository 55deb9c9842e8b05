"""A constrained program built once and solved many times: :class:`IpoptProblem`.

``IpoptProblem(fun, x0, constraints=c, data=(p,))`` does all the host work once:
detection of the Lagrangian's Hessian pattern and of the constraint Jacobian's (or loading
a stored coloring from an :class:`~asdex_pipe.store.artifact_store.ArtifactStore`),
coloring, and the compilation of three jitted programs, compiled concurrently:

* ``objective_and_gradient(x, data) -> [f, ∇f]`` (one array, one transfer back);
* ``constraints_and_jacobian(x, data) -> [c, J values]`` (the Jacobian's products give
  ``c`` too);
* ``hessian(x, σ, λ, data) -> lower-triangle values of σ∇²f + Σ λ_i ∇²c_i``.

``problem.solve(x0, *data)`` then pays only IPOPT and the callbacks: each callback is one
call of a compiled program (numpy in, numpy out), and the objective/gradient and
constraint/Jacobian pairs are evaluated together and reused while IPOPT asks at the same
``x``. The data arguments (parameters of the problem: targets, weights, initial states)
change between solves without any rebuild or retrace: the patterns were detected with the
data as unknowns, so they hold for every data value.

``fun(x, *data)`` and ``constraints(x, *data)`` take the variables first (an array or a
pytree, like ``x0``) and the data arguments after it (arrays or pytrees of arrays, fixed
shapes and dtypes).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from asdex_pipe.coloring import hessian_coloring_from_sparsity
from asdex_pipe.fingerprint import digest
from asdex_pipe.frontdoor import (
    hessian_from_coloring,
    hessian_sparsity,
    value_and_jacobian,
    value_and_jacobian_from_coloring,
)
from asdex_pipe.indices import index_dtype
from asdex_pipe.optimize.lagrangian import constraint_count
from asdex_pipe.pattern import ColoredPattern
from asdex_pipe.vocabulary import HVP_MODES, ORDERS, SEEDS, SYMMETRIC_ALGORITHMS, check_one_of

_CACHE_OPTIONS = (
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
)


@contextlib.contextmanager
def compilation_cache(directory: str | Path | None) -> Iterator[None]:
    """JAX's persistent compilation cache in ``directory`` for the duration (every
    compilation cached); JAX's settings restored on exit. ``None``: nothing changes."""
    if directory is None:
        yield
        return
    from jax.experimental.compilation_cache import compilation_cache as jax_cache

    saved = {name: getattr(jax.config, name) for name in _CACHE_OPTIONS}
    # JAX opens its cache once, at the first directory it compiles with; reset it so that
    # this directory (not an earlier build's) is used, and again after for the next one.
    switch = str(directory) != saved["jax_compilation_cache_dir"]
    try:
        jax.config.update("jax_compilation_cache_dir", str(directory))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        if switch:
            jax_cache.reset_cache()
        yield
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)
        if switch:
            jax_cache.reset_cache()


def default_cache_dir() -> Path | None:
    """JAX's persistent compilation cache directory for a problem's build when the caller
    gives none: ``$ASDEX_PIPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/asdex_pipe/jax_cache``
    (``~/.cache/...``). None when JAX's own ``jax_compilation_cache_dir`` is set: that
    cache is used as it is.

    A build compiles three programs (0.3-0.5 s on 2 cores at n <= 10^3, most of a build);
    with the cache a rebuild of the same problem, in this process or a new one, loads
    them instead (0.15-0.25 s). The cache grows like numba's ``cache=True`` files; delete
    the directory to reclaim the space, or pass ``compilation_cache=False``.
    """
    if jax.config.jax_compilation_cache_dir:
        return None
    env = os.environ.get("ASDEX_PIPE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "asdex_pipe" / "jax_cache"


def sync_cpu_dispatch() -> bool:
    """Have JAX run CPU computations inline (``jax_cpu_enable_async_dispatch=False``) when
    its backends are not created yet; returns whether CPU dispatch is synchronous.

    Ipopt blocks on every callback's result, so asynchronous dispatch buys nothing there
    and costs a thread hand-off per call: on 2 loaded cores a 40 µs Hessian program took
    105 µs as a callback with it, 48 µs without. The option is process-wide and is read
    when JAX creates its CPU client (the first computation), so it cannot be switched
    later; it changes when work runs, never results.
    """
    try:
        from jax._src import xla_bridge

        if not xla_bridge.backends_are_initialized():
            jax.config.update("jax_cpu_enable_async_dispatch", False)
        return not xla_bridge._CPU_ENABLE_ASYNC_DISPATCH.value
    except Exception:  # another JAX layout: leave dispatch as it is
        return False


def _abstract(tree: Any) -> Any:
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype), tree)


def _store_key(kind: str, fn: Callable, samples: tuple, **options: Any) -> str:
    """Store key of a coloring of ``fn``: its jaxpr (text and constants' bytes) at the
    abstract samples, what is colored (``kind``) and the coloring options."""
    closed = jax.make_jaxpr(fn)(*samples)
    consts = hashlib.sha256()
    for c in closed.consts:
        consts.update(np.asarray(c).tobytes())
    return digest(
        {"kind": kind, "jaxpr": str(closed.jaxpr), "consts": consts.hexdigest(), **options}
    )


def _load(store: Any, key: str | None) -> ColoredPattern | None:
    return None if store is None or key is None else store.load("coloring", key)


def _save(store: Any, key: str | None, coloring: ColoredPattern, what: str, n: int) -> None:
    if store is not None and key is not None:
        coloring.provenance.update({"objective": what, "store_key": key, "input_shape": [n]})
        store.save("coloring", key, coloring)


class Programs:
    """The compiled programs of one problem (flat float vectors in and out).

    Attributes:
        n, m: variables and constraints.
        fg: ``(x, data) -> (1 + n,)`` objective value then gradient.
        cj: ``(x, data) -> (m + nnz_J,)`` constraint values then Jacobian values
            (row-major, ``jac_rows``/``jac_cols``); None without constraints.
        hess: ``(x, σ, λ, data) -> (nnz_H,)`` lower-triangle Lagrangian Hessian values
            (``hess_rows``/``hess_cols``, row-major); None for limited-memory.
        hessian_colors, jacobian_colors: products per evaluation (None when not colored).
        coloring: the Lagrangian's ``HVP`` coloring (sparse route).
        coloring_source: ``"given"``, ``"stored"`` or ``"detected"`` (the Lagrangian's).
        jacobian_source: ``"stored"`` or ``"detected"`` (the constraint Jacobian's
            coloring; None without constraints).
        seeds: the Hessian's seed variant (``"auto"`` compiles and times both variants
            from n = 10^4 on, 0.4-0.7 s of setup at n = 3·10^4; ``"constant"`` skips that).
        build_timings: seconds per build step (``compile_s``: the wait, after the last
            program is lowered, for compilations that started as each was complete).
    """

    def __init__(
        self,
        fun_flat: Callable,
        c_flat: Callable | None,
        n: int,
        m: int,
        x_sample: np.ndarray,
        data: tuple,
        *,
        hessian: str,
        algorithm: str,
        order: str,
        mode: str,
        jacobian_mode: str,
        coloring: ColoredPattern | None,
        store: Any,
        dtype: Any,
        seeds: str = "constant",
    ):
        self.n, self.m = n, m
        self.build_timings: dict[str, float] = {}
        self.coloring: ColoredPattern | None = coloring
        self.coloring_source = "given" if coloring is not None else None
        self.jacobian_source: str | None = None
        self.hessian_colors: int | None = None
        self.jacobian_colors = 0
        self.jac_rows = self.jac_cols = np.zeros(0, np.int32)
        self.hess_rows = self.hess_cols = None
        with _Compiler() as compiler:
            self._build(
                compiler, fun_flat, c_flat, n, m, x_sample, data, hessian, algorithm, order,
                mode, jacobian_mode, store, dtype, seeds,
            )  # fmt: skip
            t = time.perf_counter()
            compiled = compiler.results()
        self.build_timings["compile_s"] = time.perf_counter() - t
        self.fg = compiled["fg"]
        self.cj = compiled.get("cj")
        self.hess = compiled.get("hess")

    def _build(
        self, compiler, fun_flat, c_flat, n, m, x_sample, data, hessian, algorithm, order,
        mode, jacobian_mode, store, dtype, seeds,
    ) -> None:  # fmt: skip
        """Define the programs, each handed to ``compiler`` as soon as it is complete."""
        xs = jax.ShapeDtypeStruct((n,), dtype)
        ds = _abstract(data)
        ss = jax.ShapeDtypeStruct((), dtype)
        ls = jax.ShapeDtypeStruct((m,), dtype)
        t = time.perf_counter()

        def fg(x, d):
            value, grad = jax.value_and_grad(fun_flat)(x, *d)
            return jnp.concatenate([jnp.reshape(value, (1,)), grad])

        compiler.submit("fg", fg, xs, ds)

        if m:
            jkey = None
            if store is not None:
                jkey = _store_key(
                    "constraint-jacobian", c_flat, (xs, *ds), mode=jacobian_mode, order=order
                )
            stored = _load(store, jkey)
            if stored is not None:
                jac = value_and_jacobian_from_coloring(
                    c_flat, stored, "values", args=(xs, *ds), argnums=0
                )
            else:
                jac = value_and_jacobian(
                    c_flat, args=(xs, *ds), argnums=0, mode=jacobian_mode, order=order,
                    format="values",
                )  # fmt: skip
                _save(store, jkey, jac.coloring, "constraint-jacobian", n)
            self.jacobian_source = "stored" if stored is not None else "detected"
            s = jac.coloring.sparsity
            idx = index_dtype(max(m, n))
            self.jac_rows, self.jac_cols = s.rows.astype(idx), s.cols.astype(idx)
            self.jacobian_colors = jac.coloring.num_colors

            def cj(x, d):
                value, values = jac(x, *d)
                return jnp.concatenate([jnp.ravel(value), values])

            compiler.submit("cj", cj, xs, ds)
        self.build_timings["jacobian_s"] = time.perf_counter() - t

        def lagrangian(x, sigma, lam, *d):
            value = sigma * jnp.reshape(fun_flat(x, *d), ())
            if m:
                value = value + jnp.vdot(lam, jnp.ravel(c_flat(x, *d)))
            return value

        t = time.perf_counter()
        if hessian == "sparse":
            samples = (xs, ss, ls, *ds)
            if self.coloring is None:
                key = None
                if store is not None:
                    key = _store_key(
                        "lagrangian-hessian", lagrangian, samples, algorithm=algorithm, order=order
                    )
                    self.coloring = _load(store, key)
                    self.coloring_source = "stored" if self.coloring is not None else None
                if self.coloring is None:
                    sparsity = hessian_sparsity(lagrangian, args=samples, argnums=0)
                    self.coloring = hessian_coloring_from_sparsity(
                        sparsity, algorithm=algorithm, order=order
                    )
                    self.coloring_source = "detected"
                    _save(store, key, self.coloring, "lagrangian-hessian", n)
            self.build_timings["coloring_s"] = time.perf_counter() - t
            t = time.perf_counter()
            derivative = hessian_from_coloring(
                lagrangian, self.coloring, mode, "values", args=samples, argnums=0, seeds=seeds
            )
            if derivative.seeds == "auto" and n >= 10_000:
                derivative.tune_seeds(
                    np.asarray(x_sample, dtype), np.ones((), dtype), np.ones((m,), dtype), *data
                )
            s = self.coloring.sparsity
            keep = np.flatnonzero(s.rows >= s.cols)
            idx = index_dtype(n)
            self.hess_rows, self.hess_cols = s.rows[keep].astype(idx), s.cols[keep].astype(idx)
            lower = jnp.asarray(keep.astype(index_dtype(max(s.nnz, 1))))
            self.hessian_colors = self.coloring.num_colors

            def hess(x, sigma, lam, d):
                return derivative(x, sigma, lam, *d)[lower]

            compiler.submit("hess", hess, xs, ss, ls, ds)
        elif hessian == "dense":
            rows, cols = np.tril_indices(n)
            self.hess_rows, self.hess_cols = rows.astype(np.int32), cols.astype(np.int32)

            def hess(x, sigma, lam, d):
                h = jax.hessian(lagrangian)(x, sigma, lam, *d)
                return h[self.hess_rows, self.hess_cols]

            compiler.submit("hess", hess, xs, ss, ls, ds)
        self.build_timings["hessian_s"] = time.perf_counter() - t


class _Compiler:
    """Lowers each program when it is complete (Python, this thread) and compiles it on a
    worker thread at once: XLA releases the GIL while it compiles, so the objective's
    compilation overlaps the Jacobian's and the Lagrangian's detection and coloring."""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(3)
        self._futures: dict[str, concurrent.futures.Future] = {}

    def submit(self, name: str, fn: Callable, *args: Any) -> None:
        """Trace and lower ``jax.jit(fn)`` at the abstract ``args``; compile it in the pool."""
        lowered = jax.jit(fn).trace(*args).lower()
        self._futures[name] = self._pool.submit(lowered.compile)

    def results(self) -> dict[str, Callable]:
        """The compiled programs by name (waits for the compilations)."""
        return {name: future.result() for name, future in self._futures.items()}

    def __enter__(self) -> _Compiler:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def check_problem_inputs(
    hessian: str,
    algorithm: str,
    order: str,
    mode: str,
    hessians: tuple[str, ...],
    seeds: str = "constant",
) -> None:
    """The build options, checked before any tracing."""
    if hessian not in hessians:
        raise ValueError(f"hessian must be one of {hessians}, got {hessian!r}")
    check_one_of(mode, HVP_MODES, "mode")
    check_one_of(algorithm, SYMMETRIC_ALGORITHMS, "algorithm")
    check_one_of(order, ORDERS, "order")
    check_one_of(seeds, SEEDS, "seeds")


def flat_functions(
    fun: Callable, constraints: Callable | None, unravel: Callable
) -> tuple[Callable, Callable | None]:
    """``fun`` and ``constraints`` over the flat vector (data arguments after it)."""

    def fun_flat(z, *d):
        return jnp.reshape(fun(unravel(z), *d), ())

    if constraints is None:
        return fun_flat, None

    def c_flat(z, *d):
        return jnp.ravel(constraints(unravel(z), *d))

    return fun_flat, c_flat


def check_outputs(
    fun: Callable, constraints: Callable | None, unravel: Callable, flat0: np.ndarray, data: tuple
) -> int:
    """``fun`` scalar and ``constraints`` a 1-D float vector at these inputs; returns m."""
    x_tree = jax.tree.map(jnp.asarray, unravel(jnp.asarray(flat0)))
    out = jax.eval_shape(fun, x_tree, *_abstract(data))
    if not isinstance(out, jax.ShapeDtypeStruct) or math.prod(out.shape) != 1:
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(f"fun must return a scalar, got output of shape {got}")
    if constraints is None:
        return 0
    try:
        out = jax.eval_shape(constraints, x_tree, *_abstract(data))
    except Exception as exc:
        raise ValueError(
            f"the constraint function c fails on x0: {type(exc).__name__}: {exc}"
        ) from exc
    return constraint_count(out)


class DataSpec:
    """Structure, shapes and dtypes of the data arguments, fixed at build time."""

    def __init__(self, data: tuple, dtype: Any):
        leaves, self.tree = jax.tree.flatten(tuple(data))
        self.leaves = []
        for leaf in leaves:
            arr = np.asarray(leaf)
            if np.issubdtype(arr.dtype, np.floating):
                arr = arr.astype(dtype)
            self.leaves.append((arr.shape, arr.dtype))
        self.sample = self.cast(data)

    def cast(self, data: tuple) -> tuple:
        """``data`` as numpy arrays of the recorded shapes and dtypes (ValueError else)."""
        leaves, tree = jax.tree.flatten(tuple(data))
        if tree != self.tree:
            raise ValueError(
                f"the data arguments have structure {tree}, but the problem was built for "
                f"{self.tree}"
            )
        out = []
        for i, (leaf, (shape, dt)) in enumerate(zip(leaves, self.leaves, strict=True)):
            arr = np.asarray(leaf, dtype=dt)
            if arr.shape != shape:
                raise ValueError(
                    f"data leaf {i} has shape {arr.shape}, but the problem was built for {shape}"
                )
            out.append(arr)
        return jax.tree.unflatten(tree, out)


def ravel_x0(x0: Any, dtype: Any) -> tuple[np.ndarray, Callable]:
    """``x0`` as a flat host vector of ``dtype`` and its unravel function."""
    cast = jax.tree.map(lambda leaf: np.asarray(leaf, dtype=dtype), x0)
    flat, unravel = ravel_pytree(cast)
    return np.asarray(flat, dtype=dtype), unravel
