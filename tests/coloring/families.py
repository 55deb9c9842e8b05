"""Structured symmetric patterns shared by the coloring tests and benchmark."""

from __future__ import annotations

import itertools

import numpy as np

from asdex_pipe import SparsityPattern


def banded(n: int, k: int) -> SparsityPattern:
    """Symmetric band of half-bandwidth k (tridiagonal for k = 1)."""
    i = np.arange(n)
    rows = [i]
    cols = [i]
    for d in range(1, k + 1):
        rows += [i[:-d], i[d:]]
        cols += [i[d:], i[:-d]]
    return SparsityPattern.from_coo(np.concatenate(rows), np.concatenate(cols), (n, n))


def diagonal(n: int) -> SparsityPattern:
    """Identity pattern."""
    return SparsityPattern.from_coo(np.arange(n), np.arange(n), (n, n))


def arrowhead(n: int, hub: int = -1) -> SparsityPattern:
    """Diagonal plus a full row and column at index ``hub`` (default: the last)."""
    i = np.arange(n)
    h = hub % n
    rows = np.concatenate([i, np.full(n, h), i])
    cols = np.concatenate([i, i, np.full(n, h)])
    return SparsityPattern.from_coo(rows, cols, (n, n))


def double_hub(n: int, linked: bool) -> SparsityPattern:
    """Symmetric: diagonal, vertices 0 and 1 adjacent to every other vertex (and to each
    other if ``linked``): they share n - 2 neighbours."""
    i = np.arange(2, n)
    r = [np.arange(n), np.zeros(n - 2, np.int64), i, np.ones(n - 2, np.int64), i]
    c = [np.arange(n), i, np.zeros(n - 2, np.int64), i, np.ones(n - 2, np.int64)]
    if linked:
        r += [np.array([0, 1])]
        c += [np.array([1, 0])]
    return SparsityPattern.from_coo(np.concatenate(r), np.concatenate(c), (n, n))


def block_diagonal(blocks: int, size: int) -> SparsityPattern:
    """`blocks` dense size×size blocks on the diagonal."""
    dense = np.kron(np.eye(blocks, dtype=bool), np.ones((size, size), dtype=bool))
    return SparsityPattern.from_dense(dense)


def stencil(shape: tuple[int, ...], offsets: list[tuple[int, ...]]) -> SparsityPattern:
    """Grid stencil: node p couples with p + o for every offset o that stays in the grid."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    rows, cols = [], []
    for off in offsets:
        src = tuple(slice(max(0, -o), s - max(0, o)) for o, s in zip(off, shape, strict=True))
        dst = tuple(slice(max(0, o), s - max(0, -o)) for o, s in zip(off, shape, strict=True))
        rows.append(idx[src].ravel())
        cols.append(idx[dst].ravel())
    n = idx.size
    return SparsityPattern.from_coo(np.concatenate(rows), np.concatenate(cols), (n, n))


FIVE_POINT = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]


def five_point(n: int) -> SparsityPattern:
    """2-D 5-point stencil on an n×n grid."""
    return stencil((n, n), FIVE_POINT)


def nine_point(n: int) -> SparsityPattern:
    """2-D 9-point stencil on an n×n grid."""
    return stencil((n, n), list(itertools.product((-1, 0, 1), repeat=2)))


def seven_point(n: int) -> SparsityPattern:
    """3-D 7-point stencil on an n×n×n grid."""
    offs = [(0, 0, 0)] + [tuple(s * (a == b) for b in range(3)) for a in range(3) for s in (1, -1)]
    return stencil((n, n, n), offs)


def random_symmetric(n: int, per_row: int, seed: int = 0) -> SparsityPattern:
    """Random symmetric pattern with a full diagonal and about 2·per_row off-diagonals a row."""
    rng = np.random.default_rng(seed)
    r = rng.integers(0, n, n * per_row)
    c = rng.integers(0, n, n * per_row)
    i = np.arange(n)
    return SparsityPattern.from_coo(np.r_[r, c, i], np.r_[c, r, i], (n, n))
