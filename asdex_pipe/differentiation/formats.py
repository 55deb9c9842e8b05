"""The output formats: how the (nnz,) values a program decompresses become a result.

One :class:`Format` per name in :data:`asdex_pipe.vocabulary.FORMATS`: ``finish`` runs
inside the jitted program (so a dense scatter or the block split is compiled with the
products), ``wrap`` runs on the host after it (a BCOO around device values, a scipy CSR).
Adding a format means one entry in :data:`FORMAT_TABLE` and its two functions; the builder
reads only the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jax
import numpy as np
import scipy.sparse as sp

from asdex_pipe.differentiation.blocks import Blocks, bcoo_tree, scatter_dense
from asdex_pipe.pattern import SparsityPattern

__all__ = ["FORMAT_TABLE", "Format", "Layout"]


@dataclass(frozen=True)
class Layout:
    """What a format needs to know about the matrix.

    Attributes:
        sparsity: the (m, n) pattern whose row-major entries the values follow.
        indices: (nnz, 2) device array of (row, col) per value.
        blocks: the jax.hessian-like block layout for structured results, or None for
            one flat (m, n) matrix.
    """

    sparsity: SparsityPattern
    indices: jax.Array
    blocks: Blocks | None

    @cached_property
    def bcoo(self) -> Any:
        """Tree structure of the flat result as a sorted, unique BCOO (built once)."""
        return bcoo_tree(self.sparsity.nnz, self.indices, self.sparsity.shape)


@dataclass(frozen=True)
class Format:
    """One output format.

    Attributes:
        finish: ``(values, indices, layout) -> out`` inside the jitted program;
            ``indices`` is the (nnz, 2) index array passed to the program (None unless
            ``needs_indices``), so it is an argument rather than a compiled-in constant.
        wrap: ``(out, layout) -> result`` on the host, after the program.
        needs_indices: ``layout -> bool``: ``finish`` reads ``indices``.
        host_only: the result is a host object; the format cannot run under ``jax.jit``.
    """

    finish: Callable[[jax.Array, Any, Layout], Any]
    wrap: Callable[[Any, Layout], Any]
    needs_indices: Callable[[Layout], bool]
    host_only: bool = False


def _finish_dense(values: jax.Array, indices: Any, layout: Layout) -> Any:
    dense = scatter_dense(values, indices, layout.sparsity.shape)
    return layout.blocks.dense(dense) if layout.blocks is not None else dense


def _wrap_dense(out: Any, layout: Layout) -> Any:
    return layout.blocks.nest(out) if layout.blocks is not None else out


def _finish_bcoo(values: jax.Array, indices: Any, layout: Layout) -> Any:
    return layout.blocks.values(values) if layout.blocks is not None else values


def _wrap_bcoo(out: Any, layout: Layout) -> Any:
    if layout.blocks is None:
        return jax.tree.unflatten(layout.bcoo, [out, layout.indices])
    return layout.blocks.nest(layout.blocks.bcoo(out))


def _wrap_scipy(out: Any, layout: Layout) -> Any:
    s = layout.sparsity
    matrix = sp.csr_array((np.asarray(out), s.cols, s.indptr), shape=s.shape)
    return layout.blocks.nest(layout.blocks.scipy(matrix)) if layout.blocks is not None else matrix


def _values(values: jax.Array, indices: Any, layout: Layout) -> jax.Array:
    return values


def _unchanged(out: Any, layout: Layout) -> Any:
    return out


def _each_matrix(out: Any, convert: Callable[[Any], Any]) -> Any:
    """``convert`` applied to the one matrix or to every block of a structured result."""
    return jax.tree.map(convert, out, is_leaf=lambda a: sp.issparse(a) or hasattr(a, "shape"))


def _wrap_numpy(out: Any, layout: Layout) -> Any:
    return _each_matrix(_wrap_dense(out, layout), np.asarray)


def _scipy_as(layout_name: str) -> Callable[[Any, Layout], Any]:
    def wrap(out: Any, layout: Layout) -> Any:
        return _each_matrix(_wrap_scipy(out, layout), lambda m: m.asformat(layout_name))

    return wrap


FORMAT_TABLE: dict[str, Format] = {
    "bcoo": Format(_finish_bcoo, _wrap_bcoo, lambda layout: layout.blocks is not None),
    "dense": Format(_finish_dense, _wrap_dense, lambda layout: True),
    "scipy": Format(_values, _wrap_scipy, lambda layout: False, host_only=True),
    "values": Format(_values, _unchanged, lambda layout: False),
    "numpy_dense": Format(_finish_dense, _wrap_numpy, lambda layout: True, host_only=True),
    "scipy_csr": Format(_values, _wrap_scipy, lambda layout: False, host_only=True),
    "scipy_coo": Format(_values, _scipy_as("coo"), lambda layout: False, host_only=True),
    "scipy_csc": Format(_values, _scipy_as("csc"), lambda layout: False, host_only=True),
}
