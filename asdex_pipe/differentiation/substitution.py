"""Substitution decompression for acyclic (symmetric) colorings.

Setting (Gebremedhin, Manne & Pothen 2005, Sec. 4.2; Coleman & Cai 1986): in an acyclic
coloring every subgraph induced by two colors ``a, b`` is a forest. For a vertex ``v`` of
color ``a`` in such a tree, its compressed entry ``w(v) = B[b, v]`` sums ``H_vu`` over the
neighbours ``u`` of ``v`` colored ``b`` — exactly its tree neighbours. Rooting the tree,
for ``v`` with parent ``p``::

    H_vp = w(v) − Σ_{children u of v} H_uv
         = s(v) · Σ_{d in subtree(v)} s(d) · w(d),      s(d) = ±1 alternating by depth

(unroll the recursion). A subtree is a contiguous range of a preorder, so every
off-diagonal entry is a difference of two prefix sums of one preorder vector: at
evaluation time one gather, one prefix sum and two gathers, whatever the tree depth (a
tridiagonal matrix with two colors is a single path of ``n`` vertices). Each tree's slots
start with its root, so each tree's signed total is zero (each edge enters twice with
opposite signs) and the prefix sums never drift from one tree to the next.

Rooting: each tree is rooted at a centroid (a vertex whose removal leaves parts of at
most half the tree; for a path, its middle, which is also its centre). Then every
subtree, and so the number ``s_e`` of compressed values summed for entry ``e``, is at
most half its tree: ``ColoredPattern.substitution_depth`` reports that maximum.

Accuracy. Entry ``e`` is a signed sum of ``s_e`` compressed values, computed as the
difference of two prefix sums, so its error has two parts: the AD rounding of those
``s_e`` values (each about eps times the tree's scale), and the rounding of the prefix
sum between the two ends of the range (what precedes the range is common to both ends
and cancels): about ``s_e / 16`` block totals plus a fixed number of within-block and
per-level additions, each rounded at the size ``M`` of the partial sums. Stated bound::

    |H_e(computed) − H_e| <= 2 · eps · (s_e + 64) · M,    s_e <= substitution_depth

with ``M`` the largest ``|partial sum|`` of the tree's signed values; a partial sum is the
signed sum of the tree edges leaving the visited part, so for path-shaped trees (bands,
stencil diagonals) ``M`` is the largest ``|compressed value| W`` of the tree, and it is
at most ``(height + 1)`` times the largest absolute tree-row sum in general. The error is
relative to the scale of the whole tree, not of the entry's row: a row much smaller than
its tree (Rosenbrock near x = 0) can see thousands of eps relative to its own largest
entry in float32. Measured on float32 (tests/differentiation/test_substitution.py): the
Rosenbrock path n = 2·10^4 and a comb of 2·10^4 vertices use at most 3% of the bound
(max error 26-91 eps·W); 3·10^4 three-vertex trees 1.8 eps·W (1.2·10^4 before the roots
were put in the tour). Where float32 accuracy matters and ``substitution_depth`` is
large, a star coloring reads every entry directly.

The diagonal ``H_ii = B[c(i), i]`` is direct: no neighbour shares ``i``'s color.

Host planning is vectorised too: trees come from ``scipy.sparse.csgraph``, the Euler tour
from the standard successor rule (next arc after the reverse arc in cyclic adjacency
order) and its order from one linear walk per tour (numba); the rest is sorting and gathers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from asdex_pipe.differentiation.decompress import DecompressionError, symmetric_edges
from asdex_pipe.kernels import kernel
from asdex_pipe.pattern import SparsityPattern
from asdex_pipe.sorting import first_index, unique_inverse


@dataclass(frozen=True)
class SubstitutionPlan:
    """Host-side plan for :func:`substitution_plan`; ``E`` = off-diagonal edges ``i < j``.

    Tree nodes are laid out in preorder, tree after tree: a subtree is then a contiguous
    slot range. Each non-root node stands for the edge to its parent.

    Attributes:
        tour_color, tour_vertex: (E + T,) the compressed entry ``B[color, vertex]`` of the
            node in each preorder slot (T trees: each tree's root, then its other nodes).
        tour_sign: (E + T,) int8, ``s(d)`` of the node in each slot.
        edge_lo, edge_hi: (E,) inclusive slot range of the subtree below each edge.
        edge_sign: (E,) int8, ``s(child)``.
        entry_edge: (nnz,) for each pattern entry (row-major) the edge holding it, or -1
            for a diagonal entry read directly.
        entry_color, entry_vertex: (nnz,) the direct source ``B[color, vertex]`` of
            diagonal entries (0 for off-diagonal ones).
    """

    tour_color: np.ndarray
    tour_vertex: np.ndarray
    tour_sign: np.ndarray
    edge_lo: np.ndarray
    edge_hi: np.ndarray
    edge_sign: np.ndarray
    entry_edge: np.ndarray
    entry_color: np.ndarray
    entry_vertex: np.ndarray

    @property
    def num_edges(self) -> int:
        """Number of off-diagonal edges (pairs i < j) recovered by substitution."""
        return int(self.edge_lo.shape[0])


@kernel(cache=True)
def _list_rank(succ):  # pragma: no cover - numba
    """Distance of each node to the end of its linked list (``succ == -1`` ends a list).

    One sequential walk per list, O(length): pointer jumping in numpy needs log2(length)
    passes of random gathers and took 4 s on the 9-point 1000² stencil's tours.
    """
    m = succ.shape[0]
    has_pred = np.zeros(m, dtype=np.bool_)
    for a in range(m):
        if succ[a] >= 0:
            has_pred[succ[a]] = True
    dist = np.zeros(m, dtype=np.int64)
    walk = np.empty(m, dtype=np.int64)
    for head in range(m):
        if has_pred[head]:
            continue
        length = 0
        a = head
        while a >= 0:
            walk[length] = a
            length += 1
            a = succ[a]
        for i in range(length):
            dist[walk[i]] = length - 1 - i
    return dist


def _centroids(
    local: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    order: np.ndarray,
    num_e: int,
    label: np.ndarray,
    num_trees: int,
    tree_len: np.ndarray,
) -> np.ndarray:
    """A centroid of each tree: a node whose removal leaves no part with more than half
    the tree's nodes (Jordan 1869). Rooted there, every subtree holds at most half.

    Args:
        local: (2E,) position of each (sorted) arc in its tree's tour from any root.
        src, dst: (2E,) the sorted arcs.
        order: (2E,) the sort permutation (arc e and e + E are the two arcs of edge e).
        label, num_trees, tree_len: tree of each node, tree count, 2·(nodes - 1) per tree.

    Returns:
        (num_trees,) node index of a centroid per tree (the smallest on ties).
    """
    num_nodes = label.size
    at = np.empty(2 * num_e, dtype=np.int64)
    at[order] = np.arange(2 * num_e)  # sorted index of original arc e
    a, b = at[:num_e], at[num_e:]
    down = np.where(local[a] < local[b], a, b)  # the arc entering the child
    up = np.where(local[a] < local[b], b, a)
    child, parent = dst[down], src[down]
    # The tour between entering and leaving a child covers its subtree's edges twice.
    size = (local[up] - local[down] + 1) // 2
    nodes = tree_len // 2 + 1
    sub = nodes[label]  # a root's subtree is its whole tree
    sub[child] = size
    largest_part = np.zeros(num_nodes, dtype=np.int64)
    np.maximum.at(largest_part, parent, size)
    np.maximum(largest_part, nodes[label] - sub, out=largest_part)
    # Per tree, the node with the smallest largest part (ties: smallest index).
    smallest = np.full(num_trees, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, label, largest_part)
    best = np.flatnonzero(largest_part == smallest[label])
    centroid = np.full(num_trees, num_nodes, dtype=np.int64)
    np.minimum.at(centroid, label[best], best)
    return centroid


def substitution_plan(sparsity: SparsityPattern, colors: np.ndarray) -> SubstitutionPlan:
    """Plan substitution decompression of a symmetric pattern under an acyclic coloring.

    Args:
        sparsity: (n, n) pattern; it is symmetrized for planning.
        colors: (n,) integer colors (``-1`` only for vertices without nonzeros).

    Raises:
        DecompressionError: if two adjacent vertices share a color or some two-colored
            subgraph has a cycle (not an acyclic coloring).
    """
    n = sparsity.shape[0]
    colors = np.asarray(colors, dtype=np.int64)
    k = max(int(colors.max()) + 1 if colors.size else 0, 1)
    sr, sc = symmetric_edges(sparsity)
    if sr.size and np.any(colors[sr] < 0):
        v = int(sr[np.argmax(colors[sr] < 0)])
        raise DecompressionError(
            f"vertex {v} has nonzeros but color -1: neutral colors belong to star colorings "
            "(direct decompression), substitution needs every vertex with nonzeros colored"
        )
    upper = sr < sc
    ei, ej = sr[upper], sc[upper]  # edges i < j, sorted by (i, j)
    num_e = ei.size
    ci, cj = colors[ei], colors[ej]
    if np.any(ci == cj):
        e = int(np.argmax(ci == cj))
        raise DecompressionError(
            f"not an acyclic coloring: adjacent vertices {ei[e]} and {ej[e]} share color {ci[e]}"
        )

    # Tree nodes are (vertex, other color) pairs; the value at node (v, b) is B[b, v].
    node_keys = np.concatenate([ei * k + cj, ej * k + ci])
    uniq, inv = unique_inverse(node_keys)
    a_node, b_node = inv[:num_e], inv[num_e:]
    num_nodes = uniq.size
    node_vertex, node_other = uniq // k, uniq % k
    # s(d): +1 on the tree's lower color, -1 on the other; adjacent nodes alternate.
    node_sign = np.where(colors[node_vertex] < node_other, 1, -1).astype(np.int8)

    if num_e:
        graph = sp.coo_array((np.ones(num_e), (a_node, b_node)), shape=(num_nodes, num_nodes))
        from scipy.sparse.csgraph import connected_components  # 60 ms import: when used

        num_trees, label = connected_components(graph, directed=False)
    else:
        num_trees, label = 0, np.zeros(0, dtype=np.int64)
    if num_e != num_nodes - num_trees:
        raise DecompressionError(
            "not an acyclic coloring: some subgraph induced by two colors contains a cycle "
            "(substitution needs every two-colored subgraph to be a forest)"
        )

    # Arcs in both directions, sorted by (src, dst): each node's adjacency list is contiguous.
    src = np.concatenate([a_node, b_node])
    dst = np.concatenate([b_node, a_node])
    arc_edge = np.concatenate([np.arange(num_e), np.arange(num_e)])
    order = np.lexsort((dst, src))
    src, dst, arc_edge = src[order], dst[order], arc_edge[order]
    arc_key = src * num_nodes + dst
    twin = np.searchsorted(arc_key, dst * num_nodes + src)
    deg = np.bincount(src, minlength=num_nodes)
    start = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(deg, out=start[1:])
    # Euler tour successor of u->v: the arc after v->u in v's cyclic adjacency list.
    succ = start[dst] + (twin - start[dst] + 1) % deg[dst]
    # Cut each tree's cycle just before the root's first arc (root = smallest node).
    root = first_index(label, num_trees)
    last = twin[start[root] + deg[root] - 1]
    succ[last] = -1
    to_end = _list_rank(succ)
    tree_of_arc = label[src]
    tree_len = np.bincount(tree_of_arc, minlength=num_trees)
    tree_off = np.zeros(num_trees, dtype=np.int64)
    np.cumsum(tree_len[:-1], out=tree_off[1:])
    local = tree_len[tree_of_arc] - 1 - to_end  # position within the tree's tour
    # Re-root every tree at a centroid: the Euler tour is one cycle whatever the root, so
    # starting it at the centroid's first arc is a rotation of the positions.
    centroid = _centroids(local, src, dst, order, num_e, label, num_trees, tree_len)
    shift = local[start[centroid]]
    pos = tree_off[tree_of_arc] + (local - shift[tree_of_arc]) % tree_len[tree_of_arc]

    # Per edge: the earlier arc goes down (to the child), the later one comes back up.
    tour_len = 2 * num_e
    arc_at = np.empty(tour_len, dtype=np.int64)
    arc_at[pos] = np.arange(tour_len)  # arc at each tour position
    # Tour positions of the two arcs of each edge (arcs e and e + E before sorting); the
    # first visit is the down arc.
    pos_orig = np.empty(tour_len, dtype=np.int64)
    pos_orig[order] = pos
    first_pos = np.minimum(pos_orig[:num_e], pos_orig[num_e:])
    last_pos = np.maximum(pos_orig[:num_e], pos_orig[num_e:])
    is_down = np.zeros(tour_len, dtype=bool)
    is_down[first_pos] = True
    child = dst[arc_at[first_pos]]
    # Keep only the down arcs (= non-root nodes in preorder): the subtree below an edge is
    # the preorder range [rank of its down arc, number of down arcs up to its up arc).
    rank = np.cumsum(is_down) - 1
    # Each tree's slots start with its root (tree t's run of down arcs begins at rank
    # tree_off[t] / 2): with it, a tree's signed values sum to zero, so the running prefix
    # returns to ~0 after every tree instead of drifting by one root value per tree
    # (without it: 1e4 eps of the entries' scale after 3·10^4 three-vertex trees).
    tree = label[child]
    lo = rank[first_pos] + tree + 1
    hi = rank[last_pos] + tree + 1
    slot_node = np.empty(num_e + num_trees, dtype=np.int64)
    slot_node[lo] = child
    slot_node[tree_off // 2 + np.arange(num_trees)] = centroid
    tour_sign = node_sign[slot_node]
    tour_color = node_other[slot_node]
    tour_vertex = node_vertex[slot_node]

    # Map the user's entries (row-major) to edges or to the diagonal.
    r = sparsity.rows.astype(np.int64)
    c = sparsity.cols.astype(np.int64)
    diag = r == c
    lo_rc, hi_rc = np.minimum(r, c), np.maximum(r, c)
    entry_edge = np.where(diag, -1, np.searchsorted(ei * n + ej, lo_rc * n + hi_rc))
    entry_color = np.where(diag, colors[r], 0)
    entry_vertex = np.where(diag, r, 0)
    return SubstitutionPlan(
        tour_color=tour_color,
        tour_vertex=tour_vertex,
        tour_sign=tour_sign,
        edge_lo=lo,
        edge_hi=hi,
        edge_sign=node_sign[child],
        entry_edge=entry_edge.astype(np.int64),
        entry_color=entry_color.astype(np.int64),
        entry_vertex=entry_vertex.astype(np.int64),
    )
