"""Choosing, caching and applying decompression plans.

A plan is computed once per coloring on the host (numpy) and cached in the coloring's
``_plan_cache``. :func:`device_plan` turns it into flat int32 gather indices into the
colors-major compressed matrix ``B`` of shape (k, L); :func:`apply_plan` runs inside jit
and only gathers, multiplies and (for substitution) takes one cumulative sum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from asdex_pipe.coloring.algorithms import DIRECT, SUBSTITUTION, plan_of
from asdex_pipe.differentiation.decompress import DecompressionError, DirectPlan, direct_plan
from asdex_pipe.differentiation.substitution import SubstitutionPlan, substitution_plan
from asdex_pipe.indices import index_dtype
from asdex_pipe.pattern import BIDIRECTIONAL, ColoredPattern

_BLOCK = 16  # block length of prefix_sum


def host_plan(coloring: ColoredPattern) -> DirectPlan | SubstitutionPlan:
    """The host plan for ``coloring``, computed once and cached on it.

    The plan is the one the algorithm table names for the coloring
    (:func:`asdex_pipe.coloring.algorithms.plan_of`): substitution for acyclic ``HVP``
    colorings, a direct read otherwise. A symmetric (``HVP``) coloring read directly falls
    back to substitution when it turns out not to be a star coloring but is acyclic.

    Raises:
        DecompressionError: when the coloring cannot recover the pattern either way.
    """
    cache = coloring._plan_cache
    if "host" in cache:
        return cache["host"]
    plan = _HOST_PLANS[plan_of(coloring.mode, coloring.algorithm)](coloring)
    cache["host"] = plan
    return plan


def _direct(coloring: ColoredPattern) -> DirectPlan | SubstitutionPlan:
    if coloring.mode != "HVP":
        return direct_plan(coloring)
    try:
        return direct_plan(coloring)
    except DecompressionError as direct_err:
        try:
            return substitution_plan(coloring.sparsity, coloring.colors)
        except DecompressionError:
            raise direct_err from None


def _substitution(coloring: ColoredPattern) -> SubstitutionPlan:
    return substitution_plan(coloring.sparsity, coloring.colors)


#: How each decompression of the algorithm table is planned on the host.
_HOST_PLANS: dict[str, Callable[[ColoredPattern], DirectPlan | SubstitutionPlan]] = {
    DIRECT: _direct,
    SUBSTITUTION: _substitution,
}


def _flat(color: np.ndarray, vertex: np.ndarray, length: int) -> np.ndarray:
    return color * length + vertex


def device_colors(coloring: ColoredPattern) -> jax.Array:
    """The coloring's colors as the narrowest signed integer device array that holds them.

    Indexed seeds are built in the program from this array (``colors == c``), so a
    narrow dtype keeps what the program streams small; -1 (no product) must fit too.

    Args:
        coloring: any :class:`ColoredPattern`.

    Returns:
        (n,) int8, int16 or int32 array (one color per vertex, -1 for neutral vertices).
    """
    k = coloring.num_colors
    id_dtype = np.int8 if k < 2**7 else np.int16 if k < 2**15 else np.int32
    return jnp.asarray(np.asarray(coloring.colors).astype(id_dtype))


def device_plan(coloring: ColoredPattern, length: int) -> dict[str, Any]:
    """Gather indices for ``apply_plan``, for a compressed matrix of shape (k, length).

    For a bidirectional (``JVP+VJP``) coloring ``length`` is ignored: the compressed values
    are the (k_f, m) JVP products followed by the (k_r, n) VJP products, flattened into one
    vector (see :func:`~asdex_pipe.differentiation.compress.bidirectional_products`).

    Returns a dict of numpy arrays (moved to the device by the caller) plus the ``kind``
    (``"direct"`` or ``"substitution"``). Cached per ``length``.
    """
    key = ("device", length)
    cache = coloring._plan_cache
    if key in cache:
        return cache[key]
    plan = host_plan(coloring)
    k = coloring.num_colors
    total = k * length
    if coloring.mode == BIDIRECTIONAL:
        m, n = coloring.shape
        k_f = int(coloring.colors[:n].max(initial=-1)) + 1
        jvp = plan.color < k_f
        entry = np.where(
            jvp,
            _flat(plan.color, plan.vertex, m),
            k_f * m + _flat(plan.color - k_f, plan.vertex, n),
        )
        out = {"kind": "direct", "entry": entry.astype(index_dtype(k_f * m + (k - k_f) * n))}
    elif isinstance(plan, DirectPlan):
        dt = index_dtype(total)
        out = {"kind": "direct", "entry": _flat(plan.color, plan.vertex, length).astype(dt)}
    else:
        num_e = plan.num_edges
        dt = index_dtype(total + num_e + 1)
        # Diagonal entries index B directly; off-diagonal ones index the edge values,
        # appended after B (position total + edge). Measured at n = 10^6 this (edge
        # values, then one gather) beats gathering prefix sums per entry by ~15%.
        entry = np.where(
            plan.entry_edge >= 0,
            total + plan.entry_edge,
            _flat(plan.entry_color, plan.entry_vertex, length),
        )
        # Pad the preorder vector to whole blocks of the prefix sum (sign 0 adds nothing),
        # which spares the jitted code a pad and a slice of the longest array.
        pad = (-num_e) % _BLOCK
        out = {
            "kind": "substitution",
            "tour": np.pad(_flat(plan.tour_color, plan.tour_vertex, length), (0, pad)).astype(dt),
            "tour_sign": np.pad(plan.tour_sign, (0, pad)).astype(np.int8),
            "lo": plan.edge_lo.astype(dt),
            "hi_plus_1": (plan.edge_hi + 1).astype(dt),
            "edge_sign": plan.edge_sign.astype(np.int8),
            "entry": entry.astype(dt),
        }
    cache[key] = out
    return out


def _take(a: jax.Array, idx: jax.Array) -> jax.Array:
    # Indices are valid by construction; skipping the bounds clamp saves a pass.
    return a.at[idx].get(mode="promise_in_bounds")


def prefix_sum(a: jax.Array) -> jax.Array:
    """Inclusive cumulative sum of a 1-D array, blocked for speed on CPU.

    ``jnp.cumsum`` on XLA:CPU costs several passes over memory (about 1.7 HVPs of
    Rosenbrock at 10^6); summing blocks of 16 with a small triangular matmul, recursing on
    the block totals and adding the offsets back is 4x faster. Each level adds at most 16
    terms, so rounding stays at the level of a pairwise sum.
    """
    n = a.shape[0]
    if n <= _BLOCK:
        return a @ jnp.triu(jnp.ones((n, n), a.dtype))
    pad = (-n) % _BLOCK
    blocks = jnp.pad(a, (0, pad)).reshape(-1, _BLOCK)
    within = jnp.matmul(
        blocks,
        jnp.triu(jnp.ones((_BLOCK, _BLOCK), a.dtype)),
        precision=jax.lax.Precision.HIGHEST,
    )
    totals = within[:, -1]
    offsets = prefix_sum(totals) - totals
    return (within + offsets[:, None]).reshape(-1)[:n]


def _after(operands: tuple[jax.Array, ...], fn: Callable[..., jax.Array]) -> jax.Array:
    """``fn(*operands)`` with the operands computed in full before ``fn`` reads them.

    Left alone, XLA fuses the computation of a gathered array into the gather and
    recomputes it per gathered element in scalar code: the compressed HVPs of Rosenbrock
    at n = 10^6 then cost 6.7 ms instead of 2.2 ms with the products materialised.
    ``optimization_barrier`` does not stop this on XLA:CPU (it is expanded away before
    fusion), but a conditional is a fusion boundary. Both branches are ``fn``, so the
    predicate's value does not matter; it only has to be unknown to XLA's constant folder,
    which a random draw is (a predicate passed in as an argument would be folded as soon
    as the caller wraps the function in ``jax.jit``).
    """
    unknown = jax.random.bits(jax.random.key(0), dtype=jnp.uint32) > 1
    return jax.lax.cond(unknown, fn, fn, *operands)


def apply_plan(kind: str, arrays: dict[str, jax.Array], b: jax.Array) -> jax.Array:
    """Nonzero values (nnz,) in the pattern's row-major order from compressed ``b`` (k, L).

    Args:
        kind: ``"direct"`` or ``"substitution"`` (static).
        arrays: the device arrays of :func:`device_plan` (without ``kind``).
        b: compressed matrix, colors-major.
    """
    # ``b`` crosses each boundary in its (k, L) shape: reshaping it first would fuse the
    # reshape into the products and make their loop index flat (a division per element,
    # measured 1.4 ms of 4.4 ms on Rosenbrock at 10^6).
    if kind == "direct":
        return _after((b,), lambda b: _take(b.reshape(-1), arrays["entry"]))
    dtype = b.dtype
    # A boundary after every stage: fused, each stage would be recomputed per element
    # gathered by the next.
    tour = _after(
        (b,), lambda b: arrays["tour_sign"].astype(dtype) * _take(b.reshape(-1), arrays["tour"])
    )
    prefix = _after((tour,), lambda t: jnp.concatenate([jnp.zeros((1,), dtype), prefix_sum(t)]))
    edges = _after(
        (prefix,),
        lambda p: (
            arrays["edge_sign"].astype(dtype)
            * (_take(p, arrays["hi_plus_1"]) - _take(p, arrays["lo"]))
        ),
    )
    return _after(
        (b, edges), lambda b, e: _take(jnp.concatenate([b.reshape(-1), e]), arrays["entry"])
    )
