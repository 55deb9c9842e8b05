"""Vertex orders for greedy coloring.

* ``natural``: 0, 1, ..., n-1.
* ``largest_first``: by decreasing degree (Welsh & Powell 1967), ties by index.
* ``smallest_last``: repeatedly remove a vertex of minimum degree in the remaining graph and
  color in reverse removal order (Matula & Beck 1983).
* ``incidence_degree``: next the vertex with the most already-ordered neighbours
  (Coleman & Moré 1983).
* ``dynamic_largest_first``: next the vertex with the largest degree among the not yet
  ordered vertices (Gebremedhin, Manne, Pothen 2005, Sec. 4.2).
* ``random``: a seeded permutation.

The dynamic orders use a bucket queue (doubly linked lists per key), O(|V| + |E|).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.coloring.graph import Graph
from asdex_pipe.kernels import kernel

STATIC_ORDERS = ("natural", "largest_first", "random")
DYNAMIC_ORDERS = ("smallest_last", "incidence_degree", "dynamic_largest_first")
ORDERS = (*STATIC_ORDERS, *DYNAMIC_ORDERS, "best")
#: The orders ``"best"`` tries, in tie-break order.
BEST_CANDIDATES = (
    "largest_first",
    "smallest_last",
    "dynamic_largest_first",
    "incidence_degree",
    "natural",
)


@kernel(cache=True)
def _bucket_order(indptr, indices, key, delta, pick_max):  # pragma: no cover - numba
    """Order vertices by repeatedly taking one from the best bucket (max or min key);
    every not-yet-taken neighbour of the taken vertex moves by ``delta``."""
    n = key.shape[0]
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    top = 0
    for v in range(n):
        if key[v] > top:
            top = key[v]
    nb = top + 2 + (n if delta > 0 else 0)
    head = np.full(nb, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    prv = np.full(n, -1, dtype=np.int64)
    for v in range(n - 1, -1, -1):
        k = key[v]
        nxt[v] = head[k]
        if head[k] != -1:
            prv[head[k]] = v
        head[k] = v
    taken = np.zeros(n, dtype=np.bool_)
    ptr = top if pick_max else 0
    for step in range(n):
        if pick_max:
            while head[ptr] == -1:
                ptr -= 1
        else:
            while head[ptr] == -1:
                ptr += 1
        v = head[ptr]
        head[ptr] = nxt[v]
        if nxt[v] != -1:
            prv[nxt[v]] = -1
        taken[v] = True
        order[step] = v
        for p in range(indptr[v], indptr[v + 1]):
            u = indices[p]
            if taken[u]:
                continue
            k = key[u]
            if prv[u] != -1:
                nxt[prv[u]] = nxt[u]
            else:
                head[k] = nxt[u]
            if nxt[u] != -1:
                prv[nxt[u]] = prv[u]
            k += delta
            key[u] = k
            prv[u] = -1
            nxt[u] = head[k]
            if head[k] != -1:
                prv[head[k]] = u
            head[k] = u
            if pick_max and k > ptr:
                ptr = k
            if not pick_max and k < ptr:
                ptr = k
    return order


def vertex_order(graph: Graph, order: str, seed: int = 0) -> np.ndarray:
    """The order (a permutation of 0..n-1, int64) in which greedy coloring visits vertices.

    Args:
        graph: the graph to color.
        order: one of ``ORDERS`` except ``"best"`` (handled by the callers).
        seed: seed of the ``"random"`` order.
    """
    n = graph.n
    degree = graph.degree.astype(np.int64)
    if order == "natural":
        return np.arange(n, dtype=np.int64)
    if order == "largest_first":
        return np.argsort(-degree, kind="stable").astype(np.int64)
    if order == "random":
        return np.random.default_rng(seed).permutation(n).astype(np.int64)
    if order == "smallest_last":
        return _bucket_order(graph.indptr, graph.indices, degree.copy(), -1, False)[::-1].copy()
    if order == "incidence_degree":
        return _bucket_order(graph.indptr, graph.indices, np.zeros(n, np.int64), 1, True)
    if order == "dynamic_largest_first":
        return _bucket_order(graph.indptr, graph.indices, degree.copy(), -1, True)
    raise ValueError(f"unknown order {order!r}; choose one of: {', '.join(ORDERS)}")
