"""Result layouts: the jax.hessian / jax.jacobian-like block structure of a flat matrix.

The differentiation core produces the (nnz,) values of one flat (m, n) matrix over the
raveled arguments. :class:`Blocks` cuts it along the leaves of the rows (output leaves of
a Jacobian, differentiated leaves of a Hessian) and of the columns (differentiated
leaves), with the index work planned once on the host.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
from jax.experimental import sparse as jsparse

from asdex_pipe.pattern import ColoredPattern

__all__ = ["Blocks", "bcoo_tree", "scatter_dense"]


def scatter_dense(values: jax.Array, idx: jax.Array, shape: tuple[int, int]) -> jax.Array:
    out = jnp.zeros(shape, values.dtype)
    return out.at[idx[:, 0], idx[:, 1]].set(
        values, indices_are_sorted=True, unique_indices=True, mode="promise_in_bounds"
    )


def bcoo_tree(nnz: int, indices: jax.Array, shape: tuple[int, ...]) -> Any:
    """Tree structure of a sorted, unique BCOO: unflattening it skips BCOO's argument
    validation (~0.1 ms per call, as much as a whole n = 1000 evaluation)."""
    return jax.tree.structure(
        jsparse.BCOO(
            (jnp.zeros(nnz, jnp.float32), indices),
            shape=shape,
            indices_sorted=True,
            unique_indices=True,
        )
    )


def _unravel_index(flat: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """``np.unravel_index`` that also takes the shape ``()`` (no coordinates)."""
    return list(np.unravel_index(flat, shape)) if shape else []


class Blocks:
    """Host layout of the jax.hessian / jax.jacobian-like block structure.

    The flat (m, n) matrix is cut along the leaves of the rows (the output leaves of a
    Jacobian, the differentiated leaves of a Hessian) and of the columns (the
    differentiated leaves); block (i, j) has shape ``row_shape_i + col_shape_j``.
    """

    def __init__(self, coloring: ColoredPattern, row_tree, row_shapes, col_tree, col_shapes):
        s = coloring.sparsity
        self.row_tree, self.col_tree = row_tree, col_tree
        self.row_shapes, self.col_shapes = list(row_shapes), list(col_shapes)
        self.row_off = np.cumsum([0, *[math.prod(t) for t in row_shapes]])
        self.col_off = np.cumsum([0, *[math.prod(t) for t in col_shapes]])
        q = len(col_shapes)
        r_leaf = np.searchsorted(self.row_off, s.rows, side="right") - 1
        c_leaf = np.searchsorted(self.col_off, s.cols, side="right") - 1
        block = r_leaf.astype(np.int64) * q + c_leaf
        self.positions, self.indices, self.trees = [], [], []
        for i, rshape in enumerate(self.row_shapes):
            for j, cshape in enumerate(self.col_shapes):
                pos = np.flatnonzero(block == i * q + j)
                lr = s.rows[pos].astype(np.int64) - self.row_off[i]
                lc = s.cols[pos].astype(np.int64) - self.col_off[j]
                coords = [*_unravel_index(lr, rshape), *_unravel_index(lc, cshape)]
                shape = (*rshape, *cshape)
                idx = np.stack(coords, axis=1) if coords else np.zeros((pos.size, 0), int)
                idx = jnp.asarray(idx.astype(np.int32))
                self.positions.append(jnp.asarray(pos.astype(np.int32)))
                self.indices.append(idx)
                self.trees.append(bcoo_tree(pos.size, idx, shape) if shape else None)

    def shapes(self):
        """Block shapes in row-major block order."""
        return [(*r, *c) for r in self.row_shapes for c in self.col_shapes]

    def nest(self, blocks: list[Any]) -> Any:
        """Blocks (row-major block order) as the nested structure of jax.hessian."""
        q = len(self.col_shapes)
        rows = [
            jax.tree.unflatten(self.col_tree, blocks[i * q : (i + 1) * q])
            for i in range(len(self.row_shapes))
        ]
        return jax.tree.unflatten(self.row_tree, rows)

    def dense(self, flat: jax.Array) -> list[jax.Array]:
        """Blocks of a dense (m, n) matrix, in jit."""
        out = []
        for i, r in enumerate(self.row_shapes):
            for j, c in enumerate(self.col_shapes):
                part = flat[
                    self.row_off[i] : self.row_off[i + 1], self.col_off[j] : self.col_off[j + 1]
                ]
                out.append(part.reshape((*r, *c)))
        return out

    def values(self, values: jax.Array) -> list[jax.Array]:
        """Each block's nonzero values, gathered from the flat values, in jit."""
        return [values.at[pos].get(mode="promise_in_bounds") for pos in self.positions]

    def bcoo(self, block_values: list[jax.Array]) -> list[Any]:
        """BCOO blocks around the gathered values (0-d blocks as dense scalars)."""
        out = []
        for vals, idx, tree in zip(block_values, self.indices, self.trees, strict=True):
            if tree is None:
                out.append(vals.sum() if vals.size else jnp.zeros((), vals.dtype))
            else:
                out.append(jax.tree.unflatten(tree, [vals, idx]))
        return out

    def scipy(self, matrix: sp.csr_array) -> list[sp.csr_array]:
        """2-D CSR blocks (row leaf size × column leaf size) of a host matrix."""
        out = []
        for i in range(len(self.row_shapes)):
            for j in range(len(self.col_shapes)):
                part = matrix[self.row_off[i] : self.row_off[i + 1], :]
                out.append(sp.csr_array(part[:, self.col_off[j] : self.col_off[j + 1]]))
        return out
