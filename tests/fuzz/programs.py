"""Random JAX programs for the differential fuzzer, and the check each one must pass.

A :class:`Program` is a straight-line list of :class:`Step`\\ s over a value pool that
starts with its input ``x`` (shape ``(n,)``) and, if it has one, a float data argument.
Each step applies one entry of :data:`tests.fuzz.ops.OPS` to one or two pool values and
appends the result; the output concatenates some pool values (raveled).

A :class:`Batch` runs several programs side by side on disjoint blocks of one input
vector (and of one data vector): its Jacobian and Hessian are block diagonal, one block
per program, so checking the batch checks every program, while plain JAX and asdex_pipe
compile once per batch instead of once per program (compilation is most of the cost of a
check). The Hessian objective is ``sum(w * out**2) + sum(sin(out))`` over the batch's
output, so every output entry's first and second derivatives reach the Hessian.

Programs and batches are frozen dataclasses: hypothesis prints a failing (shrunk) batch in
full, and that text pasted into ``test_fuzz_regressions.py`` is its regression test.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import asdex_pipe
from tests.fuzz.ops import NUM_PARAMS, OPS

HVP_MODES = ("fwd_over_rev", "rev_over_fwd", "rev_over_rev")
ALGORITHMS = ("star", "acyclic")
NUM_POINTS = 3
# Derivatives beyond this size are compared by pattern only (see _check).
OVERFLOW_SCALE = 1e100


@dataclass(frozen=True)
class Step:
    """``pool.append(OPS[op].fn(p, *(pool[i] for i in args)))``."""

    op: str
    args: tuple[int, ...]
    p: tuple[int, ...]


@dataclass(frozen=True)
class Program:
    """One generated program.

    Attributes:
        n: size of its input ``x``.
        steps: the operations, in order.
        outputs: pool indices whose values (raveled, concatenated) form its output.
        data: size of its float data argument (0: none; then the pool starts with x only).
    """

    n: int
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]
    data: int = 0

    def __call__(self, x, data):
        """The output, a flat vector, from ``x`` (n,) and ``data`` (data,) or None."""
        pool = [x] if not self.data else [x, data]
        for s in self.steps:
            out = OPS[s.op].fn(s.p, *(pool[i] for i in s.args))
            pool.append(jnp.asarray(out, dtype=jnp.float64))
        return jnp.concatenate([jnp.ravel(pool[i]) for i in self.outputs])


@dataclass(frozen=True)
class Batch:
    """Programs on disjoint blocks of one input, and how the batch is differentiated.

    Attributes:
        programs: the programs, in input order.
        mode: the Hessian's HVP mode.
        algorithm: the Hessian's coloring algorithm.
        jac_mode: the Jacobian's mode (``"fwd"`` or ``"rev"``).
        pytree: call the public API in the general form, ``f({"a": x[:n//2],
            "b": x[n//2:]}, data)`` with ``argnums=0``; otherwise ``f(x)`` with the data
            (if any) fixed to a constant inside ``f``.
    """

    programs: tuple[Program, ...]
    mode: str = "fwd_over_rev"
    algorithm: str = "star"
    jac_mode: str = "fwd"
    pytree: bool = False

    @property
    def n(self) -> int:
        return sum(p.n for p in self.programs)

    @property
    def num_data(self) -> int:
        return sum(p.data for p in self.programs)

    @property
    def fwd(self) -> bool:
        """Plain JAX can take forward derivatives of every step."""
        return all(OPS[s.op].fwd for p in self.programs for s in p.steps)

    @property
    def rev(self) -> bool:
        """Plain JAX can take reverse derivatives (and so Hessians) of every step."""
        return all(OPS[s.op].rev for p in self.programs for s in p.steps)

    # ---------------------------------------------------------------- functions
    def core(self, x, data):
        """Every program on its block of ``x`` (n,) and ``data`` (num_data,), outputs
        concatenated."""
        outs, i, j = [], 0, 0
        for p in self.programs:
            outs.append(p(x[i : i + p.n], data[j : j + p.data] if p.data else None))
            i, j = i + p.n, j + p.data
        return jnp.concatenate(outs)

    @staticmethod
    def objective(out):
        w = 1.0 + jnp.arange(out.size, dtype=jnp.float64) / 7.0
        return jnp.sum(w * out**2) + jnp.sum(jnp.sin(out))

    def fixed_data(self) -> np.ndarray:
        """The data of the one-array form (a constant inside ``f``)."""
        return np.random.default_rng(1).uniform(-1.5, 1.5, self.num_data)

    def public_functions(self):
        """``(f, g)`` as handed to the public API (Jacobian of f, Hessian of g)."""
        if self.pytree:

            def f(params, data):
                return self.core(jnp.concatenate([params["a"], params["b"]]), data)

        else:
            fixed = self.fixed_data()

            def f(x):
                return self.core(x, jnp.asarray(fixed))

        return f, lambda *a: self.objective(f(*a))

    def public_inputs(self) -> dict:
        """The input arguments of the public API calls."""
        if not self.pytree:
            return {"input_shape": self.n}
        return {"args": self._args(np.zeros(self.n), np.zeros(self.num_data)), "argnums": 0}

    def _args(self, x, data) -> tuple:
        x = jnp.asarray(x)
        return ({"a": x[: self.n // 2], "b": x[self.n // 2 :]}, jnp.asarray(data))

    def call(self, fn, x, data):
        """``fn`` (built by the public API) at flat ``x`` and ``data``."""
        return fn(*self._args(x, data)) if self.pytree else fn(x)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """:data:`NUM_POINTS` random inputs and data vectors (fixed data in the one-array
        form, where the data is part of ``f``)."""
        rng = np.random.default_rng(0)
        xs = rng.uniform(-1.5, 1.5, (NUM_POINTS, self.n))
        if self.pytree:
            return xs, rng.uniform(-1.5, 1.5, (NUM_POINTS, self.num_data))
        return xs, np.tile(self.fixed_data(), (NUM_POINTS, 1))


# ------------------------------------------------------------------ the strategy
@st.composite
def program_st(draw, max_steps: int, ops: tuple[str, ...]) -> Program:
    """One :class:`Program` of 1-``max_steps`` steps drawn from ``ops``, each reading earlier
    pool values (biased to the newest, so that steps compose)."""
    n = draw(st.integers(1, 10))
    data = draw(st.sampled_from([0, 0, 0, 1, 3]))
    pool = 1 + (1 if data else 0)
    steps = []
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(ops))
        args = tuple(pool - 1 - draw(st.integers(0, pool - 1)) for _ in range(OPS[name].arity))
        steps.append(Step(name, args, tuple(draw(st.integers(0, 50)) for _ in range(NUM_PARAMS))))
        pool += 1
    extra = draw(st.lists(st.integers(0, pool - 1), max_size=2))
    return Program(n, tuple(steps), (pool - 1, *extra), data)


@st.composite
def batches(
    draw,
    min_programs: int = 1,
    max_programs: int = 8,
    max_steps: int = 5,
    ops: tuple[str, ...] | None = None,
) -> Batch:
    """Random :class:`Batch`\\ es of ``min_programs``-``max_programs`` programs over ``ops``
    (all operations by default), with a mode, algorithm and calling form each."""
    ops = tuple(sorted(OPS)) if ops is None else ops
    progs = tuple(
        draw(st.lists(program_st(max_steps, ops), min_size=min_programs, max_size=max_programs))
    )
    probe = Batch(progs)
    assume(probe.fwd or probe.rev)  # a while loop and a custom_vjp: JAX differentiates neither
    pytree = draw(st.booleans()) and probe.n >= 2
    modes = list(HVP_MODES) if probe.fwd else ["rev_over_rev"]
    jac_modes = [m for m, ok in (("fwd", probe.fwd), ("rev", probe.rev)) if ok]
    return Batch(
        progs,
        draw(st.sampled_from(modes)),
        draw(st.sampled_from(ALGORITHMS)),
        draw(st.sampled_from(jac_modes)),
        pytree,
    )


# ----------------------------------------------------------------------- checks
class PlainJaxFailed(Exception):
    """Plain JAX itself cannot compute the reference derivatives of a batch (an XLA internal
    error, e.g. XLA:CPU's FFT thunk rejecting a transposed layout under ``vmap(jacfwd(
    jacrev(...)))`` in jax 0.10): there is nothing to compare with, so the batch is skipped."""


def numerical(batch: Batch) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Plain JAX's derivatives at :data:`NUM_POINTS` random points, one compiled program
    for all: ``{"jacobian": (union of nonzeros, value at the first point), "hessian": ...}``
    (no Hessian where reverse mode is missing)."""
    outer = jax.jacfwd if batch.fwd else jax.jacrev
    derivs = {"jacobian": outer(batch.core)}
    if batch.rev:
        derivs["hessian"] = outer(jax.jacrev(lambda x, d: batch.objective(batch.core(x, d))))
    xs, data = batch.points()
    try:
        values = jax.jit(jax.vmap(lambda x, d: {k: fn(x, d) for k, fn in derivs.items()}))(xs, data)
    except jax.errors.JaxRuntimeError as err:
        if "RET_CHECK" not in str(err):
            raise
        raise PlainJaxFailed(str(err)) from err
    out = {}
    for kind, v in values.items():
        v = np.asarray(v).reshape(NUM_POINTS, -1, batch.n)
        out[kind] = ((np.abs(v) > 0).any(axis=0), v[0])
    return out


def check_batch(batch: Batch) -> None:
    """Detection ⊇ plain JAX's nonzeros, and asdex_pipe's values equal plain JAX's (float64),
    for the Jacobian of ``f`` and (where reverse mode exists) the Hessian of ``g``; both
    through the public builders, whose pattern is the public detection's."""
    f, g = batch.public_functions()
    inputs = batch.public_inputs()
    structure = {"structure": "flat"} if batch.pytree else {}
    xs, data = batch.points()
    truth = numerical(batch)

    jac = asdex_pipe.jacobian(f, mode=batch.jac_mode, format="dense", **inputs, **structure)
    _check(batch, "Jacobian", jac, truth["jacobian"], xs[0], data[0])
    if batch.rev:
        hess = asdex_pipe.hessian(
            g, mode=batch.mode, algorithm=batch.algorithm, format="dense", **inputs, **structure
        )
        _check(batch, "Hessian", hess, truth["hessian"], xs[0], data[0])


def _check(batch: Batch, what: str, fn, truth, x, data) -> None:
    nonzero, want = truth
    detected = fn.coloring.sparsity.todense()
    assert detected.shape == nonzero.shape, (detected.shape, nonzero.shape)
    missing = np.argwhere(nonzero & ~detected)
    assert not missing.size, f"{what} pattern misses {missing[:10].tolist()} of {batch}"
    got = np.asarray(batch.call(fn, x, data)).reshape(want.shape)
    finite = np.isfinite(want)
    scale = max(1.0, float(np.abs(want[finite]).max(initial=0.0)))
    if scale > OVERFLOW_SCALE:
        return  # near overflow, equally valid evaluation orders give inf or nan at will
    np.testing.assert_allclose(
        np.where(finite, got, 0.0), np.where(finite, want, 0.0), rtol=1e-7, atol=1e-9 * scale,
        err_msg=f"{what} values of {batch}",
    )  # fmt: skip
