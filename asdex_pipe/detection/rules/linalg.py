"""Contractions, matrix decompositions and FFTs.

dot_general law: out[b, i, j] = ∪_k lhs[b, i, k] ∪ rhs[b, k, j], where a constant operand
restricts k to its nonzeros (products with constant sparse matrices stay sparse).
Decompositions and FFTs: every output of a batch element depends on every input of
the same batch element (dense within the matrix, never across the batch).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D
from asdex_pipe.detection.registry import out_shapes, params, register
from asdex_pipe.detection.rules.common import ids, line_union


def _canonical(shape, batch, contract):
    """Permutation bringing an operand to (batch, free, contract) and the three sizes."""
    free = [i for i in range(len(shape)) if i not in batch and i not in contract]
    perm = [*batch, *free, *contract]
    size = lambda dims: int(np.prod([shape[i] for i in dims]))  # noqa: E731
    return perm, size(batch), size(free), size(contract)


@register("dot_general")
def dot_general(eqn, invals, ctx):
    """out[b,i,j] = ∪_k lhs[b,i,k] ∪ rhs[b,k,j], k restricted to nonzeros of a constant
    partner."""
    (shape,) = out_shapes(eqn)
    lhs, rhs = invals
    (lc, rc), (lb, rb) = params(eqn, "dimension_numbers")
    lperm, nb_, ni, nk = _canonical(lhs.shape, tuple(lb), tuple(lc))
    rperm, _, nj, _ = _canonical(rhs.shape, tuple(rb), tuple(rc))
    # Flat ids of the operands in canonical (nb_, ni, nk) and (nb_, nk, nj) layouts.
    lid = np.transpose(ids(lhs.shape), lperm).reshape(nb_, ni, nk)
    rid = np.transpose(ids(rhs.shape), rperm).reshape(nb_, nj, nk).transpose(0, 2, 1)
    oid = ids(shape).reshape(nb_, ni, nj)  # dot_general output is (batch, lhs free, rhs free)
    parts = []
    if not lhs.is_empty:
        parts.append(_side(lhs, lid, rhs, rid, oid, nb_, ni, nj, nk, lhs_side=True))
    if not rhs.is_empty:
        parts.append(_side(rhs, rid, lhs, lid, oid, nb_, ni, nj, nk, lhs_side=False))
    return [D.union(parts, shape)]


def _side(d, did, other, oth_id, oid, nb_, ni, nj, nk, lhs_side):
    """Contribution of one operand ``d`` to the output."""
    shape = oid.shape
    if other.value is None:
        # Two stages: union over k per (b, i) [or (b, j)], then broadcast over the other
        # free index. Linear in the operand size, whatever nk is.
        if lhs_side:
            red = D.aggregate(d, np.repeat(np.arange(nb_ * ni), nk), did.ravel(), (nb_ * ni,))
            idx = np.broadcast_to(np.arange(nb_ * ni).reshape(nb_, ni, 1), (nb_, ni, nj))
        else:
            red_src = did.transpose(0, 2, 1).ravel()  # (nb_, nj, nk) order
            red = D.aggregate(d, np.repeat(np.arange(nb_ * nj), nk), red_src, (nb_ * nj,))
            idx = np.broadcast_to(np.arange(nb_ * nj).reshape(nb_, 1, nj), (nb_, ni, nj))
        return D.gather_rows(red, idx, shape).with_shape(oid.shape)
    # Constant partner: pair out (b,i,j) with d's (b,·,k) only where the partner is nonzero.
    val = np.asarray(other.value).ravel()
    nz = val[oth_id] != 0  # (nb_, nk, nj) for rhs partner, (nb_, ni, nk) for lhs partner
    if lhs_side:
        b, k, j = np.nonzero(nz)
        i = np.arange(ni)
        dst = oid[b[:, None], i[None, :], j[:, None]].ravel()
        src = did[b[:, None], i[None, :], k[:, None]].ravel()
    else:
        b, i, k = np.nonzero(nz)
        j = np.arange(nj)
        dst = oid[b[:, None], i[:, None], j[None, :]].ravel()
        src = did[b[:, None], k[:, None], j[None, :]].ravel()
    return D.aggregate(d, dst, src, shape)


def batched_dense(invals, shapes, nbatch):
    """Every output element of batch b depends on every input element of batch b.

    ``nbatch`` leading dimensions are batch dimensions of every operand and output.
    """
    ncols = max(d.ncols for d in invals)
    ref = next(d for d in invals if len(d.shape) >= nbatch)
    bshape = ref.shape[:nbatch]
    nb = int(np.prod(bshape))
    dsts, srcs, parts, offset = [], [], [], 0
    for d in invals:
        if d.is_empty or d.shape[:nbatch] != bshape:
            if not d.is_empty:  # unexpected layout: conservative for all batches
                dsts.append(np.repeat(np.arange(nb), d.size))
                srcs.append(np.tile(np.arange(d.size) + offset, nb))
                parts.append(d)
                offset += d.size
            continue
        per = d.size // max(nb, 1)
        dsts.append(np.repeat(np.arange(nb), per))
        srcs.append(np.arange(d.size) + offset)
        parts.append(d)
        offset += d.size
    if not parts:
        return [D.empty(s, ncols) for s in shapes]
    red = D.aggregate(D.stack(parts), np.concatenate(dsts), np.concatenate(srcs), (nb,))
    outs = []
    for s in shapes:
        per = int(np.prod(s[nbatch:]))
        outs.append(D.gather_rows(red, np.repeat(np.arange(nb), per), s))
    return outs


# Matrix primitives whose operand is (..., m, n): the last two dims are the matrix.
MATRIX_PRIMS = (
    "cholesky lu qr eigh svd schur eig hessenberg householder_product geqrf geqp3 cholesky_update"
).split()


@register(*MATRIX_PRIMS)
def matrix_decomposition(eqn, invals, ctx):
    """Dense within each matrix of the batch: outputs of batch b depend on all inputs of b."""
    nbatch = len(invals[0].shape) - 2
    return batched_dense(invals, out_shapes(eqn), max(nbatch, 0))


@register("triangular_solve")
def triangular_solve(eqn, invals, ctx):
    """op(A) x = b (left side) or x op(A) = b: x depends on all of its batch's A and on
    the column (left) or row (right) of b it solves for, never on other right-hand sides."""
    a, b = invals
    (shape,) = out_shapes(eqn)
    nbatch = len(shape) - 2
    from_a = batched_dense([a], [shape], nbatch)[0]
    line = len(shape) - 2 if params(eqn, "left_side") else len(shape) - 1
    from_b = line_union([b], (line,), shape)
    return [D.union([from_a, from_b], shape)]


@register("tridiagonal_solve", "tridiagonal")
def tridiagonal(eqn, invals, ctx):
    """Dense within each system of the batch (diagonals are (..., m))."""
    nbatch = len(invals[0].shape) - 1
    return batched_dense(invals, out_shapes(eqn), max(nbatch, 0))


@register("fft")
def fft(eqn, invals, ctx):
    """Dense over the transformed trailing axes, independent across the leading ones."""
    nbatch = len(invals[0].shape) - len(params(eqn, "fft_lengths"))
    return batched_dense(invals, out_shapes(eqn), nbatch)
