"""``scan``: exact per-step dependencies from one symbolic pass over the body.

The algorithm (see :func:`scan`) never interprets the body more than once and never loops
over the iterations in Python:

1. **Step relation.** The body is propagated once with every carry-in element and every
   element of one ``xs`` slice given its own virtual column (after the ``n`` real ones);
   consts keep their real dependencies (and concrete values). Each carry-out element
   ``i`` then splits into ``carry_from_carry[i]`` (the carry-in elements it reads, the
   matrix ``A`` below), ``carry_from_slice[i]`` (the slice elements it reads, ``B``) and
   ``carry_from_consts[i]`` (the real columns it reads through consts, ``G``); likewise
   each ``ys`` slice element into ``ys_from_carry``, ``ys_from_slice`` and
   ``ys_from_consts``.
2. **Lag matrices.** With ``c_t`` the carry after step ``t`` (``c_-1`` = init) and
   ``X_t`` the slice read at step ``t``, ``c_t = A c_(t-1) ∪ B X_t ∪ G``. Unrolled,
   ``c_t = ∪_s M_(t-s) Z_s`` over source steps ``s = -1..t``, where ``Z_s`` stacks the
   sources of step ``s`` (``X_s`` and ``G`` for ``s >= 0``, init for ``s = -1``) and
   the lag matrix ``M_k = A^k E`` with ``E = step_sources = [B | I | I]``. Boolean powers
   of a fixed matrix are eventually periodic, so ``M_k`` is computed (sparse products)
   only until it repeats: ``M_k = M_(q + (k-q) mod p)`` for ``k >= q``. A nilpotent ``A``
   (the carry forgets: time steppers, the chained example) stops at the first zero power.
3. **Composition.** Lags ``k < q`` are enumerated for every needed ``(t, i)`` at once
   (one group-by union over the sources). Lags ``k >= q`` in residue class ``r`` read
   the prefix union of ``Z_s[j]`` over ``s ≡ t-q-r (mod p)``, ``s <= t-q-r``; that
   prefix union is computed from the first step at which each input column appears in
   each class, so its cost is the size of its result (a cumulative sum costs its
   triangle, a final carry only its one row).
4. **ys.** ``y_t = ys_from_carry c_(t-1) ∪ ys_from_slice X_t ∪ ys_from_consts``, one
   group-by union over the needed carries (only carry elements that ``ys`` read, at
   every step, plus the final carry).

Sizes: ``carry_len`` float carry elements, ``slice_len`` elements of one ``xs`` slice,
``ys_len`` elements of one ``ys`` slice, ``length`` steps.

Hessians need nothing more: they are Jacobian patterns of ``jax.grad``'s jaxpr, whose
forward scan stacks the residuals each step needs and whose transposed scan reads
them, so every nonlinear interaction inside the body is an explicit first-order
dependency of one step. ``reverse=True`` only reverses which slice a step reads and
writes. If the powers do not repeat within a work budget, lags beyond it are bounded
by their union (the reachability closure), which over-approximates but stays sound.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.deps import Deps
from asdex_pipe.detection.registry import (
    UnknownParamsError,
    is_float_aval,
    out_shapes,
    params,
    register,
)

# Total stored nonzeros of the lag matrices before lags are bounded by their union.
POWER_BUDGET = 4_000_000


def scan_layout(eqn: Any) -> tuple[int, int]:
    """(number of consts, number of carries) of a scan equation.

    jax <= 0.10 stores them as ``num_consts``/``num_carry``; jax >= 0.11 stores flat-tree
    descriptions ``ft_in`` (consts, carry, xs) and ``ft_out`` (carry, ys) instead.
    """
    p = eqn.params
    if "num_consts" in p:
        return int(p["num_consts"]), int(p["num_carry"])
    parts = params(eqn, "ft_in").update(list(range(len(eqn.invars)))).unpack()
    consts, carry, xs = (list(part) for part in parts)
    if consts + carry + xs != list(range(len(eqn.invars))):
        raise UnknownParamsError(eqn, "ft_in with consts, carry, xs in operand order")
    return len(consts), len(carry)


def _retag(d: Deps, ncols: int, keep_value: bool = True) -> Deps:
    """The same dependencies in a column space of ``ncols`` columns."""
    d = d.with_ncols(ncols)
    return d if keep_value else d.without_value()


def _coo(n_rows: int, rows: np.ndarray, cols: np.ndarray, n_cols: int) -> sp.csr_array:
    data = np.ones(rows.size, dtype=np.int8)
    m = sp.csr_array((data, (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1
    return m


def _split(d: Deps, n: int, carry_len: int) -> tuple[Deps, sp.csr_array, sp.csr_array, int]:
    """Split a body output (flat) into what it reads of the real columns (through consts),
    of the carry-in columns and of the slice columns: ``(from_consts, from_carry,
    from_slice, slice_len)``, the last two as 0/1 matrices (output element × source)."""
    rows, cols = d.rows(), d.indices
    real = cols < n
    car = (cols >= n) & (cols < n + carry_len)
    sl = cols >= n + carry_len
    from_consts = D.from_coo((d.size,), n, rows[real], cols[real], sorted_unique=True)
    slice_len = d.ncols - n - carry_len
    from_carry = _coo(d.size, rows[car], cols[car] - n, carry_len)
    from_slice = _coo(d.size, rows[sl], cols[sl] - n - carry_len, slice_len)
    return from_consts, from_carry, from_slice, slice_len


def _lag_matrices(carry_from_carry: sp.csr_array, step_sources: sp.csr_array, max_lag: int):
    """The lag matrices ``M_k = A^k E`` (``A = carry_from_carry``, ``E = step_sources``) for
    ``k < q`` (explicit) and ``k = q..q+p-1`` (periodic part).

    Returns (explicit list, periodic list); the periodic list is empty when the powers
    vanish or ``max_lag`` is reached first.
    """
    seen: dict[int, list[int]] = {}
    lags: list[sp.csr_array] = []
    work = 0
    lag = step_sources
    for k in range(max_lag + 1):
        lag.sort_indices()
        if lag.nnz == 0:
            return lags, []
        key = hash((lag.indptr.tobytes(), lag.indices.tobytes()))
        for k0 in seen.get(key, []):
            old = lags[k0]
            if np.array_equal(old.indptr, lag.indptr) and np.array_equal(old.indices, lag.indices):
                return lags[:k0], lags[k0:]
        seen.setdefault(key, []).append(k)
        lags.append(lag)
        work += lag.nnz
        if work > POWER_BUDGET and k < max_lag:
            return lags, [_closure(carry_from_carry, carry_from_carry @ lag)]
        lag = carry_from_carry @ lag
        lag.data[:] = 1
    return lags, []


def _closure(carry_from_carry: sp.csr_array, start: sp.csr_array) -> sp.csr_array:
    """Union of ``carry_from_carry^k @ start`` over all ``k >= 0`` (reachability; converges
    in at most ``carry_len`` steps)."""
    reach = start.copy()
    reach.data[:] = 1
    while True:
        nxt = reach + carry_from_carry @ reach
        nxt.data[:] = 1
        nxt.sort_indices()
        if nxt.nnz == reach.nnz:
            return reach
        reach = nxt


def _triples(mats: list[sp.csr_array], carry_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row pointer over carry element i, lag or class index, source column j) of a list."""
    if not mats:
        return np.zeros(carry_len + 1, dtype=np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    coo = [m.tocoo() for m in mats]
    i = np.concatenate([c.row for c in coo]).astype(np.int64)
    k = np.concatenate([np.full(c.nnz, r, dtype=np.int64) for r, c in enumerate(coo)])
    j = np.concatenate([c.col for c in coo]).astype(np.int64)
    order = np.argsort(i, kind="stable")
    ptr = np.zeros(carry_len + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=carry_len), out=ptr[1:])
    return ptr, k[order], j[order]


def _expand(ptr: np.ndarray, pair_i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs with carry element ``pair_i``: (pair id, position in the triples) of
    every triple of that element."""
    cnt = ptr[pair_i + 1] - ptr[pair_i]
    pid = np.repeat(np.arange(pair_i.size, dtype=np.int64), cnt)
    start = np.repeat(ptr[pair_i] - np.cumsum(cnt) + cnt, cnt)
    return pid, start + np.arange(pid.size, dtype=np.int64)


class _Sources:
    """Rows of ``Z_s[j]``: slice element j < slice_len at step s >= 0, ``carry_from_consts``
    rows (slice_len <= j < slice_len + carry_len, s >= 0) and init rows
    (slice_len + carry_len <= j, s = -1), all stacked in one :class:`Deps`."""

    def __init__(self, xs, slice_sizes, carry_from_consts, init, length, reverse, n):
        self.length, self.reverse = length, reverse
        with_deps = [(d, s) for d, s in zip(xs, slice_sizes, strict=True) if not d.is_empty]
        parts = [d for d, _ in with_deps]
        base, stride, op_start, op_size, row = [], [], [], [], 0
        for d, s in with_deps:
            base.append(row + np.arange(s, dtype=np.int64))
            stride.append(np.full(s, s, dtype=np.int64))
            op_start.append(row)
            op_size.append(s)
            row += d.size
        self.base = np.concatenate(base) if base else np.zeros(0, np.int64)
        self.stride = np.concatenate(stride) if stride else np.zeros(0, np.int64)
        self.slice_len = int(self.base.size)
        self.n_xs_rows = row
        self.carry_len = carry_from_consts.size
        self.op_start, self.op_size = op_start, op_size
        self.deps = (
            D.stack([*parts, carry_from_consts, init])
            if (parts or carry_from_consts.size)
            else D.empty((0,), n)
        )
        self.deps = _retag(self.deps, n, keep_value=False)

    def step_index(self, s: np.ndarray) -> np.ndarray:
        """Index into the stacked ``xs``/``ys`` of processing step ``s``."""
        return self.length - 1 - s if self.reverse else s

    def xs_row(self, s: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.base[j] + self.step_index(s) * self.stride[j]

    def row(self, s: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Row of ``Z_s[j]`` in :attr:`deps`, or -1 where that source does not exist."""
        slice_len, carry_len = self.slice_len, self.carry_len
        out = np.full(s.shape, -1, dtype=np.int64)
        is_x = (j < slice_len) & (s >= 0)
        out[is_x] = self.xs_row(s[is_x], j[is_x])
        is_g = (j >= slice_len) & (j < slice_len + carry_len) & (s >= 0)
        out[is_g] = self.n_xs_rows + (j[is_g] - slice_len)
        is_i = (j >= slice_len + carry_len) & (s == -1)
        out[is_i] = self.n_xs_rows + carry_len + (j[is_i] - slice_len - carry_len)
        return out

    def entries(self, wanted: np.ndarray, p: int) -> tuple[np.ndarray, ...]:
        """(j, u = s + 1, column) of every source entry whose j is wanted, listing only the
        first step of each residue class mod ``p`` for ``carry_from_consts`` (the same
        every step)."""
        d = self.deps
        slice_len, carry_len, length = self.slice_len, self.carry_len, self.length
        rows, cols = d.rows(), d.indices
        js, us, cs = [], [], []
        x = rows < self.n_xs_rows
        if x.any():
            r, c = rows[x], cols[x]
            starts = np.asarray(self.op_start, dtype=np.int64)
            op = np.searchsorted(starts, r, side="right") - 1
            size = np.asarray(self.op_size, dtype=np.int64)[op]
            local = r - starts[op]
            tt, jj = np.divmod(local, size)
            j = np.concatenate([[0], np.cumsum(self.op_size)])[op] + jj
            s = self.length - 1 - tt if self.reverse else tt
            js.append(j)
            us.append(s + 1)
            cs.append(c)
        g = (rows >= self.n_xs_rows) & (rows < self.n_xs_rows + carry_len)
        if g.any():
            r, c = rows[g] - self.n_xs_rows + slice_len, cols[g]
            reps = min(p, length)
            js.append(np.repeat(r, reps))
            us.append(np.tile(np.arange(1, reps + 1, dtype=np.int64), r.size))
            cs.append(np.repeat(c, reps))
        i = rows >= self.n_xs_rows + carry_len
        if i.any():
            js.append(rows[i] - self.n_xs_rows - carry_len + slice_len + carry_len)
            us.append(np.zeros(int(i.sum()), dtype=np.int64))
            cs.append(cols[i])
        if not js:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z
        j, u, c = (np.concatenate(a).astype(np.int64) for a in (js, us, cs))
        keep = wanted[j]
        return j[keep], u[keep], c[keep]


def _periodic(src: _Sources, periodic, q, p, carry_len, pair_t, pair_i, n_src, n):
    """(pair id, column) pairs contributed by lags ``k >= q`` (see the module docstring)."""
    ptr, r, j = _triples(periodic, carry_len)
    pid, pos = _expand(ptr, pair_i)
    r, j = r[pos], j[pos]
    s0 = pair_t[pid] - q - r  # the latest source step of the class
    ok = s0 >= -1
    pid, j, u0 = pid[ok], j[ok], s0[ok] + 1
    if pid.size == 0:
        return pid, pid
    wanted = np.zeros(n_src, dtype=bool)
    wanted[j] = True
    ej, eu, ec = src.entries(wanted, p)
    if ej.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    # First step of each (j, class, column), then each (j, class) group sorted by it.
    ecls = eu % p
    order = np.lexsort((eu, ec, ecls, ej))
    ej, ecls, ec, eu = ej[order], ecls[order], ec[order], eu[order]
    first = np.ones(ej.size, dtype=bool)
    first[1:] = (ej[1:] != ej[:-1]) | (ecls[1:] != ecls[:-1]) | (ec[1:] != ec[:-1])
    ej, ecls, ec, eu = ej[first], ecls[first], ec[first], eu[first]
    gcode = ej * p + ecls
    codes, gid = np.unique(gcode, return_inverse=True)
    span = src.length + 2
    order = np.lexsort((eu, gid))
    gid, ec, eu = gid[order], ec[order], eu[order]
    sorted_key = gid * span + eu
    qcode = j * p + u0 % p
    qg = np.searchsorted(codes, qcode)
    found = (qg < codes.size) & (codes[np.minimum(qg, codes.size - 1)] == qcode)
    pid, qg, u0 = pid[found], qg[found], u0[found]
    lo = np.searchsorted(sorted_key, qg * span, side="left")
    hi = np.searchsorted(sorted_key, qg * span + u0, side="right")
    cnt = hi - lo
    rows = np.repeat(pid, cnt)
    at = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(rows.size, dtype=np.int64)
    return rows, ec[at]


def _carries(src, carry_from_carry, step_sources, length, carry_len, pair_t, pair_i, n) -> Deps:
    """Dependencies of carry element ``pair_i[k]`` after step ``pair_t[k]``, one row per k."""
    explicit, periodic = _lag_matrices(carry_from_carry, step_sources, length)
    q, p = len(explicit), len(periodic)
    n_pairs = pair_t.size
    ptr, k, j = _triples(explicit, carry_len)
    pid, pos = _expand(ptr, pair_i)
    s = pair_t[pid] - k[pos]
    zr = src.row(s, j[pos])
    # Sources without dependencies (a constant init, consts-free carry_from_consts rows)
    # add nothing.
    ok = zr >= 0
    ok[ok] = src.deps.lengths()[zr[ok]] > 0
    part = D.aggregate(src.deps, pid[ok], zr[ok], (n_pairs,), ncols=n)
    if not periodic:
        return part
    rows, cols = _periodic(src, periodic, q, p, carry_len, pair_t, pair_i, step_sources.shape[1], n)
    if rows.size == 0:
        return part
    rows = np.concatenate([part.rows(), rows])
    cols = np.concatenate([part.indices, cols])
    return D.from_coo((n_pairs,), n, rows, cols)


@register("scan")
def scan(eqn, invals, ctx):
    """Exact per-step scan; the algorithm is described in the module docstring.

    A float carry whose initial value is a constant (the zero cotangent that starts
    every transposed scan of a gradient) is first propagated through one step with
    that value, so the body's refinements for constants (a product with zero) apply
    there; the remaining steps use the step relation.
    """
    n_consts, n_carry = scan_layout(eqn)
    length, reverse, body = params(eqn, "length", "reverse", "jaxpr")
    length, reverse = int(length), bool(reverse)
    consts = invals[:n_consts]
    init = invals[n_consts : n_consts + n_carry]
    xs = invals[n_consts + n_carry :]
    shapes = out_shapes(eqn)
    n = max(d.ncols for d in invals)
    if length == 0:
        return [
            *[_retag(d, n, keep_value=False) for d in init],
            *[D.empty(s, n) for s in shapes[n_carry:]],
        ]
    carry_float = [is_float_aval(v.aval) for v in eqn.outvars[:n_carry]]
    if not any(d.value is not None for d, f in zip(init, carry_float, strict=True) if f):
        return _relational(body, consts, init, xs, length, reverse, carry_float, shapes, n, ctx)
    first = length - 1 if reverse else 0
    first_xs = [_steps(d, first, 1).with_shape(d.shape[1:]) for d in xs]
    outs = ctx.eval_jaxpr(body, [*consts, *init, *first_xs], ctx)
    outs = [_retag(o, n) for o in outs]
    carry0, ys0 = outs[:n_carry], outs[n_carry:]
    if length == 1:
        ys = [y.with_shape(s) for y, s in zip(ys0, shapes[n_carry:], strict=True)]
        return [*[_retag(c, n, keep_value=False) for c in carry0], *ys]
    rest_xs = [_steps(d, 0 if reverse else 1, length - 1) for d in xs]
    rest_shapes = [*shapes[:n_carry], *[(length - 1, *s[1:]) for s in shapes[n_carry:]]]
    rest = _relational(
        body, consts, carry0, rest_xs, length - 1, reverse, carry_float, rest_shapes, n, ctx
    )
    ys = []
    for y0, yr, s in zip(ys0, rest[n_carry:], shapes[n_carry:], strict=True):
        parts = [yr, y0] if reverse else [y0, yr]
        ys.append(_retag(D.stack(parts), n).with_shape(s))
    return [*rest[:n_carry], *ys]


def _steps(d: Deps, start: int, count: int) -> Deps:
    """Steps ``start .. start+count-1`` of an ``xs`` operand, leading axis kept (also for
    one step: the rest of a length-2 scan is a scan of length 1 over a stacked operand),
    keeping a constant value."""
    shape = (count, *d.shape[1:])
    if d.value is not None:
        v = np.asarray(d.value)[start : start + count]
        return D.constant(v.reshape(shape), d.ncols)
    step = d.size // d.shape[0] if d.shape[0] else 0
    rows = np.arange(start * step, (start + count) * step, dtype=np.int64)
    return D.gather_rows(d, rows, shape)


def _relational(body, consts, init, xs, length, reverse, carry_float, shapes, n, ctx) -> list[Deps]:
    """Steps 1-4 of the module docstring for a scan of ``length >= 1`` steps."""
    n_carry = len(init)
    carry_sizes = [d.size if f else 0 for d, f in zip(init, carry_float, strict=True)]
    carry_len = int(sum(carry_sizes))
    slice_sizes = [d.size // length if not d.is_empty else 0 for d in xs]
    slice_len = int(sum(slice_sizes))
    total = n + carry_len + slice_len

    args = [_retag(c, total) for c in consts]
    off = n
    for d, size in zip(init, carry_sizes, strict=True):
        args.append(D.identity(d.shape, total, off) if size else D.empty(d.shape, total))
        off += size
    for d, size in zip(xs, slice_sizes, strict=True):
        sl_shape = d.shape[1:]
        args.append(D.identity(sl_shape, total, off) if size else D.empty(sl_shape, total))
        off += size
    outs = ctx.eval_jaxpr(body, args, ctx)

    carry_out = (
        D.stack([o for o, size in zip(outs[:n_carry], carry_sizes, strict=True) if size])
        if carry_len
        else None
    )
    carry_from_consts, carry_from_carry, carry_from_slice, _ = (
        _split(carry_out, n, carry_len) if carry_len else (D.empty((0,), n), None, None, slice_len)
    )
    ys_out = outs[n_carry:]
    y_sizes = [o.size for o in ys_out]
    ys_len = int(sum(y_sizes))
    ys_from_consts, ys_from_carry, ys_from_slice, _ = _split(
        _retag(D.stack(ys_out), n + carry_len + slice_len) if ys_out else D.empty((0,), total),
        n,
        carry_len,
    )
    init_flat = (
        D.stack([_retag(d, n, False) for d, s in zip(init, carry_sizes, strict=True) if s])
        if carry_len
        else (D.empty((0,), n))
    )
    src = _Sources(xs, slice_sizes, carry_from_consts, init_flat, length, reverse, n)

    # Needed carries: every element after the last step, and the elements ys read
    # before every step (c_(t-1) for t = 0..length-1).
    read = (
        np.unique(ys_from_carry.tocoo().col).astype(np.int64)
        if carry_len and ys_len
        else np.zeros(0, np.int64)
    )
    pair_t = np.concatenate(
        [np.full(carry_len, length - 1), np.repeat(np.arange(-1, length - 1), read.size)]
    )
    pair_i = np.concatenate([np.arange(carry_len), np.tile(read, length)]).astype(np.int64)
    if carry_len:
        eye = _coo(
            carry_len, np.arange(carry_len), np.arange(carry_len), carry_len
        )  # (sp.eye_array needs scipy 1.12)
        step_sources = sp.hstack([carry_from_slice, eye, eye], format="csr")
        carries = _carries(
            src,
            carry_from_carry,
            sp.csr_array(step_sources),
            length,
            carry_len,
            pair_t.astype(np.int64),
            pair_i,
            n,
        )
    else:
        carries = D.empty((0,), n)

    results = []
    off = 0
    for size, shape in zip(carry_sizes, shapes[:n_carry], strict=True):
        if size:
            results.append(D.gather_rows(carries, np.arange(off, off + size), shape))
            off += size
        else:
            results.append(D.empty(shape, n))
    results.extend(
        _ys(
            src,
            carries,
            ys_from_carry,
            ys_from_slice,
            ys_from_consts,
            read,
            carry_len,
            length,
            y_sizes,
            shapes[n_carry:],
            n,
        )
    )
    return results


def _ys(
    src,
    carries,
    ys_from_carry,
    ys_from_slice,
    ys_from_consts,
    read,
    carry_len,
    length,
    y_sizes,
    shapes,
    n,
) -> list[Deps]:
    """``y_t = ys_from_carry c_(t-1) ∪ ys_from_slice X_t ∪ ys_from_consts`` for every step,
    split into the ys operands."""
    ys_len = int(sum(y_sizes))
    if ys_len == 0:
        return [D.empty(s, n) for s in shapes]
    src_rows = carries.size
    stacked = D.stack([carries, src.deps, ys_from_consts])
    stacked = _retag(stacked, n, keep_value=False)
    y_start = np.concatenate([[0], np.cumsum(y_sizes)]).astype(np.int64)
    tau = np.arange(length, dtype=np.int64)

    def dst_rows(m: np.ndarray) -> np.ndarray:
        # Output row of slice element m at step tau (outer) in the stacked ys.
        op = np.searchsorted(y_start, m, side="right") - 1
        k = np.asarray(y_sizes, dtype=np.int64)[op]
        idx = src.step_index(tau)[:, None]
        return (length * y_start[op] + idx * k + (m - y_start[op])).ravel()

    dsts, srcs = [], []
    if carry_len and ys_from_carry.nnz:
        a = ys_from_carry.tocoo()
        pos = np.searchsorted(read, a.col)
        dsts.append(dst_rows(a.row.astype(np.int64)))
        srcs.append((carry_len + tau[:, None] * read.size + pos[None, :]).ravel())
    if ys_from_slice.nnz:
        b = ys_from_slice.tocoo()
        j = b.col.astype(np.int64)
        dsts.append(dst_rows(b.row.astype(np.int64)))
        srcs.append(src_rows + src.xs_row(tau[:, None], j[None, :]).ravel())
    if not ys_from_consts.is_empty:
        m = np.flatnonzero(ys_from_consts.lengths()).astype(np.int64)
        dsts.append(dst_rows(m))
        srcs.append(np.tile(src_rows + src.deps.size + m, length))
    if dsts:
        ys = D.aggregate(
            stacked, np.concatenate(dsts), np.concatenate(srcs), (length * ys_len,), ncols=n
        )
    else:
        ys = D.empty((length * ys_len,), n)
    out = []
    for o, shape in enumerate(shapes):
        rows = np.arange(length * y_start[o], length * y_start[o + 1], dtype=np.int64)
        out.append(D.gather_rows(ys, rows, shape))
    return out
