"""Greedy star coloring (Gebremedhin, Manne, Pothen 2005, Sec. 4.1; the exact test of
Gebremedhin, Tarafdar, Manne, Pothen 2007, Alg. 4.1, applied to the current partial
coloring), with hubs reached through (vertex, color) counts so that they cost no more than
their edges.

A star coloring is a distance-1 coloring in which every path on four vertices uses at least
three colors; then every nonzero H_ij can be read directly from the compressed Hessian.
Each vertex v takes the smallest color that creates no two-colored path on four vertices
with the already colored ones. For a colored neighbour w of v:

* v has another neighbour of color c(w) (v will be the centre of a star): v must differ
  from every colored neighbour x of w (else u - v - w - x is two-colored);
* otherwise v must differ from every neighbour x of w that has another neighbour y of
  color c(w) (else v - w - x - y is two-colored).

Any two-colored P4 of the final coloring is caught when its last vertex is colored, so the
result is a star coloring by construction.

Cost. Scanning N(w), and N(x) for each x in it, costs at least the sum of squared degrees:
an arrowhead of n = 16 384 took 3.4 s and one of 10^6 did not finish in 300 s. So a vertex
of degree above ``BIG`` (a hub) is never scanned. It keeps the list of distinct colors among
its colored neighbours, each with how many neighbours have it and which came first, in a
table keyed by (hub, color) (:mod:`asdex_pipe.coloring.pairs`):

* w a hub: both tests run over w's color list (at most min(degree, colors) entries; one
  for a hub whose leaves share a color). In the second, a color held by two or more
  neighbours of w makes w their centre (no x qualifies); a color held once names its x;
* x a hub: "x has another neighbour of color c(w)" is the count of (x, c(w)) ≥ 2.

Vertices of small degree are scanned as before (their adjacency is contiguous, which is
faster for them than any look-up). Coloring v updates the counts of v's hub neighbours and,
if v is a hub, its own: one table operation per edge. The forbidden sets, and so the
colors, are exactly those of the textbook kernel. Memory: O(|V| + |E|).
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.coloring.pairs import find_slot, table_bits
from asdex_pipe.kernels import kernel

#: Vertices of larger degree are hubs: reached through their color counts, never scanned.
BIG = 32


def greedy_star(indptr, indices, order, big: int = BIG):
    """Star-color the graph visiting vertices in ``order``.

    Args:
        indptr, indices: CSR adjacency (n vertices, no self loops), int64.
        order: (n,) int64 visiting order.
        big: vertices of larger degree are treated as hubs (the colors do not depend on
            it; only the speed does).

    Returns:
        (n,) int32 colors starting at 0.
    """
    degree = np.diff(indptr)
    is_hub = degree > big
    hub_edges = int(degree[is_hub].sum())
    # Vertices whose coloring updates some hub's counts: the hubs and their neighbours.
    touches_hub = is_hub.copy()
    if hub_edges:
        touches_hub[indices[np.repeat(is_hub, degree)]] = True
    return _greedy_star(indptr, indices, order, big, touches_hub, hub_edges, table_bits(hub_edges))


@kernel(cache=True, inline="always")
def _other_of_color(
    indptr, indices, color, keys, slot_node, node_count, bits, big, x, w, c
):  # pragma: no cover - numba
    """Whether vertex x has a neighbour other than w of color c (w is one of color c)."""
    if indptr[x + 1] - indptr[x] > big:
        key = x * np.int64(indptr.shape[0]) + c
        slot = find_slot(keys, key, bits)
        return keys[slot] == key and node_count[slot_node[slot]] >= 2
    for r in range(indptr[x], indptr[x + 1]):
        y = indices[r]
        if y != w and color[y] == c:
            return True
    return False


@kernel(cache=True)
def _greedy_star(
    indptr, indices, order, big, touches_hub, hub_edges, bits
):  # pragma: no cover - numba
    n = indptr.shape[0] - 1
    stride = np.int64(n + 1)  # > every color
    color = np.full(n, -1, dtype=np.int32)
    forbidden = np.full(n + 1, -1, dtype=np.int64)
    first_of = np.full(n + 1, -1, dtype=np.int64)
    repeated = np.full(n + 1, -1, dtype=np.int64)  # == v when v has 2+ neighbours of a color
    # Hubs only: (hub, color) -> node of the hub's list of neighbour colors; a node has at
    # least one edge at its hub, so hub_edges bounds their number (nothing for a stencil).
    keys = np.full(np.int64(1) << bits, -1, dtype=np.int64)
    slot_node = np.empty(np.int64(1) << bits, dtype=np.int64)
    head = np.full(n, -1, dtype=np.int64)
    node_next = np.empty(hub_edges + 1, dtype=np.int64)
    node_color = np.empty(hub_edges + 1, dtype=np.int64)
    node_count = np.empty(hub_edges + 1, dtype=np.int64)  # neighbours of that color
    node_first = np.empty(hub_edges + 1, dtype=np.int64)  # the first of them
    num_nodes = 0
    for v in order:
        for p in range(indptr[v], indptr[v + 1]):
            cw = color[indices[p]]
            if cw < 0:
                continue
            forbidden[cw] = v
            if first_of[cw] == v:
                repeated[cw] = v
            first_of[cw] = v
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            cw = color[w]
            if cw < 0:
                continue
            inner = repeated[cw] == v
            if indptr[w + 1] - indptr[w] > big:
                node = head[w]
                while node >= 0:
                    cx = node_color[node]
                    if forbidden[cx] != v and (
                        inner
                        or (
                            node_count[node] == 1
                            and _other_of_color(indptr, indices, color, keys, slot_node,
                                                node_count, bits, big, node_first[node], w, cw)
                        )
                    ):  # fmt: skip
                        forbidden[cx] = v
                    node = node_next[node]
                continue
            for q in range(indptr[w], indptr[w + 1]):
                x = indices[q]
                cx = color[x]
                if cx < 0 or forbidden[cx] == v:
                    continue
                if inner:
                    forbidden[cx] = v
                elif indptr[x + 1] - indptr[x] > big:
                    if _other_of_color(indptr, indices, color, keys, slot_node, node_count,
                                       bits, big, x, w, cw):  # fmt: skip
                        forbidden[cx] = v
                else:
                    # The hot path, written out: as a call it ran 4x slower on stencils.
                    for r in range(indptr[x], indptr[x + 1]):
                        y = indices[r]
                        if y != w and color[y] == cw:
                            forbidden[cx] = v
                            break
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
        if not touches_hub[v]:
            continue
        # Count v's color at its hub neighbours, and its neighbours' colors at v if a hub.
        v_is_hub = indptr[v + 1] - indptr[v] > big
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            cw = color[w]
            if cw < 0:
                continue
            if indptr[w + 1] - indptr[w] > big:
                num_nodes = _count(keys, slot_node, head, node_next, node_color, node_count,
                                   node_first, bits, stride, num_nodes, w, c, v)  # fmt: skip
            if v_is_hub:
                num_nodes = _count(keys, slot_node, head, node_next, node_color, node_count,
                                   node_first, bits, stride, num_nodes, v, cw, w)  # fmt: skip
    return color


@kernel(cache=True, inline="always")
def _count(
    keys,
    slot_node,
    head,
    node_next,
    node_color,
    node_count,
    node_first,
    bits,
    stride,
    num_nodes,
    hub,
    col,
    neighbour,
):  # pragma: no cover - numba
    """Count one more neighbour of color ``col`` at ``hub``; returns the node total."""
    key = hub * stride + col
    slot = find_slot(keys, key, bits)
    if keys[slot] == key:
        node_count[slot_node[slot]] += 1
        return num_nodes
    keys[slot] = key
    slot_node[slot] = num_nodes
    node_color[num_nodes] = col
    node_count[num_nodes] = 1
    node_first[num_nodes] = neighbour
    node_next[num_nodes] = head[hub]
    head[hub] = num_nodes
    return num_nodes + 1
