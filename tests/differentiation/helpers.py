"""Hand-made patterns, colorings and independent brute-force checkers for the tests.

The checkers here are deliberately naive (Python loops, small n) so they share no code
with the vectorised planning they are used to test.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from jax.experimental import sparse as jsparse

from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from tests.coloring import families


# ----------------------------------------------------------------- test functions
def rosenbrock(x):
    return jnp.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)


def arrowhead_energy(x):
    # H couples x[0] with everything, otherwise diagonal.
    return jnp.sum(jnp.sin(x[0]) * x[1:] ** 2) + jnp.sum(jnp.cosh(x))


def banded_energy(x):
    # Bandwidth 2: couples i with i+1 and i+2.
    return jnp.sum(x[:-2] * x[1:-1] * x[2:]) + jnp.sum(x**4)


def grid_energy(u):
    # 5-point gradient energy + quartic: Hessian is the 5-point stencil pattern.
    dx = u[1:, :] - u[:-1, :]
    dy = u[:, 1:] - u[:, :-1]
    return jnp.sum(jnp.cos(dx)) + 1.5 * jnp.sum(dy**2) + jnp.sum(u**4)


@functools.lru_cache(maxsize=64)
def _jitted_hessian(f):
    return jax.jit(jax.hessian(f))


def dense_hessian(f, x):
    """``jax.hessian(f)(x)`` as an (n, n) numpy array (jitted, compiled once per ``f``)."""
    n = x.size
    return np.asarray(_jitted_hessian(f)(x)).reshape(n, n)


def to_dense(h) -> np.ndarray:
    """Dense numpy array from a BCOO, scipy or dense result."""
    if isinstance(h, sp.sparray | sp.spmatrix):
        return h.toarray()
    if isinstance(h, jsparse.BCOO) and h.n_batch == 0 and h.n_dense == 0:
        # On the host: an eager BCOO.todense compiles a scatter for every shape.
        out = np.zeros(h.shape, dtype=np.asarray(h.data).dtype)
        idx = np.asarray(h.indices).reshape(-1, len(h.shape))
        keep = (idx < np.asarray(h.shape)).all(axis=1)  # padding entries point out of range
        np.add.at(out, tuple(idx[keep].T), np.asarray(h.data)[keep])
        return out
    if hasattr(h, "todense"):
        return np.asarray(h.todense())
    return np.asarray(h)


# ------------------------------------------------------------------- patterns
def tridiagonal(n: int) -> SparsityPattern:
    return families.banded(n, 1)


def arrowhead(n: int) -> SparsityPattern:
    """Arrowhead with its dense row and column at index 0."""
    return families.arrowhead(n, hub=0)


def grid5(h: int, w: int) -> SparsityPattern:
    """5-point stencil on an h × w grid."""
    return families.stencil((h, w), families.FIVE_POINT)


# ---------------------------------------------------------- brute-force checks
def _adjacency(p: SparsityPattern) -> list[set[int]]:
    n = p.shape[0]
    adj: list[set[int]] = [set() for _ in range(n)]
    for i, j in zip(p.rows.tolist(), p.cols.tolist(), strict=True):
        if i != j:
            adj[i].add(j)
            adj[j].add(i)
    return adj


def is_star(p: SparsityPattern, colors) -> bool:
    """Distance-1 coloring with no bicolored path on 4 vertices."""
    adj = _adjacency(p)
    c = list(colors)
    for u in range(len(adj)):
        for v in adj[u]:
            if c[u] == c[v]:
                return False
            for w in adj[u] - {v}:
                for x in adj[v] - {u, w}:
                    if c[w] == c[v] and c[x] == c[u]:
                        return False
    return True


def _find(parent: list[int], z: int) -> int:
    while parent[z] != z:
        parent[z] = parent[parent[z]]
        z = parent[z]
    return z


def is_acyclic(p: SparsityPattern, colors) -> bool:
    """Distance-1 coloring whose every two-colored subgraph is a forest (union-find)."""
    adj = _adjacency(p)
    c = list(colors)
    edges = [(u, v) for u in range(len(adj)) for v in adj[u] if u < v]
    if any(c[u] == c[v] for u, v in edges):
        return False
    for a in set(c):
        for b in set(c):
            if a >= b:
                continue
            parent = list(range(len(adj)))
            for u, v in edges:
                if {c[u], c[v]} == {a, b}:
                    ru, rv = _find(parent, u), _find(parent, v)
                    if ru == rv:
                        return False
                    parent[ru] = rv
    return True


@functools.lru_cache(maxsize=64)
def greedy(p: SparsityPattern, valid, seed: int = 0) -> np.ndarray:
    """Greedy coloring in a random order, each vertex taking the smallest color for which
    ``valid(pattern, partial colors)`` holds (uncolored vertices get unique colors)."""
    n = p.shape[0]
    rng = np.random.default_rng(seed)
    colors = np.arange(n) + n  # unique placeholders
    for v in rng.permutation(n):
        for col in range(n):
            colors[v] = col
            if valid(p, colors):
                break
    # compact to 0..k-1
    _, compact = np.unique(colors, return_inverse=True)
    compact = compact.astype(np.int32)
    compact.flags.writeable = False  # cached: callers must copy before editing
    return compact


def grid5_star(h: int, w: int) -> np.ndarray:
    """Lattice coloring (i + 2j) mod 5 of the 5-point grid: distance-2, hence star."""
    i, j = np.divmod(np.arange(h * w), w)
    return ((i + 2 * j) % 5).astype(np.int32)


def grid5_acyclic(h: int, w: int) -> np.ndarray:
    """Lattice coloring (i + 2j) mod 3 of the 5-point grid: acyclic (two-colored parts are
    diagonal paths) but not star."""
    i, j = np.divmod(np.arange(h * w), w)
    return ((i + 2 * j) % 3).astype(np.int32)


def own_colors(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int32)


def hvp_coloring(p: SparsityPattern, colors, algorithm: str) -> ColoredPattern:
    return ColoredPattern(p, np.asarray(colors), "HVP", algorithm)


def drop_entry(p: SparsityPattern, i: int, j: int) -> SparsityPattern:
    """The pattern without (i, j) and (j, i)."""
    keep = ~(((p.rows == i) & (p.cols == j)) | ((p.rows == j) & (p.cols == i)))
    return SparsityPattern.from_coo(p.rows[keep], p.cols[keep], p.shape)
