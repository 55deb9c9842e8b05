"""The vectorized dependency matrix and its set algebra.

A :class:`Deps` describes one intermediate array of a traced function: for every
element (row, in row-major flat order) the set of input indices (columns) it
depends on, stored as CSR index arrays (``indptr``, ``indices``) with the indices of
each row sorted and duplicate-free. A value known at trace time additionally keeps
its concrete ``value`` (then it depends on no input).

Every operation here is a handful of numpy array operations whose cost is linear
in rows + nonzeros (plus one sort of the nonzeros when rows are merged); nothing
loops over elements in Python.

A matrix too large and dense to be worth building raises
:class:`~asdex_pipe.detection.budget.DensePatternError` (see there): before allocation
where its size is known in advance (:func:`gather_rows`, which every broadcast goes
through), on construction otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asdex_pipe.detection import budget
from asdex_pipe.sorting import unique_sorted

_EMPTY = np.zeros(0, dtype=np.int64)


def _size(shape: tuple[int, ...]) -> int:
    s = 1
    for d in shape:
        s *= int(d)
    return s


class Deps:
    """Dependency sets of the elements of one array.

    Attributes:
        shape: the array's shape; the matrix has ``prod(shape)`` rows.
        ncols: number of columns (input elements) of the column space.
        value: the concrete numpy value if known at trace time, else None.
        bounds: ``(lo, hi)`` of every element of an integer value computed from the
            input (set by ``detection/ranges.py``), else None.
    """

    __slots__ = ("_indices", "_indptr", "bounds", "ncols", "shape", "size", "value")

    def __init__(
        self,
        shape: tuple[int, ...],
        ncols: int,
        indptr: np.ndarray | None = None,
        indices: np.ndarray | None = None,
        value: np.ndarray | None = None,
    ):
        """Args: shape of the array; ncols; CSR arrays (None for no dependencies);
        concrete value (only for constants)."""
        self.shape = tuple(int(d) for d in shape)
        self.size = _size(self.shape)
        self.ncols = int(ncols)
        if indices is not None:
            budget.check_dependencies(self.size, self.ncols, int(indices.shape[0]))
        self._indptr = indptr
        self._indices = indices
        self.value = value
        # (lo, hi) of an integer value computed from the input (see detection/ranges.py).
        self.bounds: tuple[int, int] | None = None

    # ------------------------------------------------------------ accessors
    @property
    def indptr(self) -> np.ndarray:
        """Row pointer array, shape (size + 1,)."""
        if self._indptr is None:
            self._indptr = np.zeros(self.size + 1, dtype=np.int64)
        return self._indptr

    @property
    def indices(self) -> np.ndarray:
        """Column indices of all rows, concatenated, shape (nnz,)."""
        return _EMPTY if self._indices is None else self._indices

    @property
    def nnz(self) -> int:
        """Total number of (element, input) dependencies."""
        return 0 if self._indices is None else int(self._indices.shape[0])

    @property
    def is_empty(self) -> bool:
        """True when no element depends on any input."""
        return self.nnz == 0

    def lengths(self) -> np.ndarray:
        """Number of dependencies of each row, shape (size,)."""
        if self._indptr is None:
            return np.zeros(self.size, dtype=np.int64)
        return np.diff(self._indptr)

    def rows(self) -> np.ndarray:
        """Row index of each stored dependency, shape (nnz,)."""
        if self.is_empty:
            return _EMPTY
        return np.repeat(np.arange(self.size, dtype=np.int64), self.lengths())

    def with_shape(self, shape: tuple[int, ...]) -> Deps:
        """Same rows under a new shape of equal size (a reshape)."""
        value = None if self.value is None else self.value.reshape(shape)
        return Deps(shape, self.ncols, self._indptr, self._indices, value)

    def with_ncols(self, ncols: int) -> Deps:
        """Same rows in a column space of ``ncols`` columns (``ncols`` must exceed every
        stored column; used to add or drop virtual columns after the real ones)."""
        out = Deps(self.shape, ncols, self._indptr, self._indices, self.value)
        out.bounds = self.bounds
        return out

    def without_value(self) -> Deps:
        """Same dependencies, concrete value (and integer bounds) forgotten (a loop carry:
        the value changes between iterations, so it is not a trace-time constant)."""
        return Deps(self.shape, self.ncols, self._indptr, self._indices)

    def __repr__(self) -> str:
        kind = "const" if self.value is not None else f"nnz={self.nnz}"
        return f"Deps(shape={self.shape}, ncols={self.ncols}, {kind})"


# ------------------------------------------------------------------ builders
def empty(shape: tuple[int, ...], ncols: int) -> Deps:
    """No element depends on anything."""
    return Deps(shape, ncols)


def constant(value: np.ndarray, ncols: int) -> Deps:
    """A value known at trace time (depends on no input)."""
    value = np.asarray(value)
    return Deps(value.shape, ncols, value=value)


def identity(shape: tuple[int, ...], ncols: int | None = None, offset: int = 0) -> Deps:
    """Element i depends on input column ``offset + i`` only (an input argument)."""
    size = _size(shape)
    ncols = size + offset if ncols is None else ncols
    return Deps(
        shape,
        ncols,
        np.arange(size + 1, dtype=np.int64),
        np.arange(offset, offset + size, dtype=np.int64),
    )


def from_coo(
    shape: tuple[int, ...], ncols: int, rows: np.ndarray, cols: np.ndarray, *, sorted_unique=False
) -> Deps:
    """Build from (row, col) pairs; duplicates are merged unless ``sorted_unique``."""
    size = _size(shape)
    if rows.size == 0:
        return Deps(shape, ncols)
    if not sorted_unique:
        shift = _shift(ncols)
        if size << shift < 2**62:
            keys = (rows.astype(np.int64) << shift) | cols.astype(np.int64)
            keys = _unique_sorted(np.sort(keys))
            rows, cols = keys >> shift, keys & ((1 << shift) - 1)
        else:  # keys would overflow: fall back to a lexicographic sort
            order = np.lexsort((cols, rows))
            rows, cols = rows[order], cols[order]
            keep = np.ones(rows.size, dtype=bool)
            keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            rows, cols = rows[keep], cols[keep]
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=size), out=indptr[1:])
    return Deps(shape, ncols, indptr, cols.astype(np.int64, copy=False))


def _shift(ncols: int) -> int:
    return max(1, int(ncols).bit_length())


def _unique_sorted(keys: np.ndarray) -> np.ndarray:
    if keys.size < 2:
        return keys
    keep = np.empty(keys.size, dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys if keep.all() else keys[keep]


def _from_keys(shape: tuple[int, ...], ncols: int, keys: np.ndarray, shift: int) -> Deps:
    """Sorted duplicate-free keys (row << shift | col) to Deps."""
    size = _size(shape)
    if keys.size == 0:
        return Deps(shape, ncols)
    rows = keys >> shift
    cols = keys & ((1 << shift) - 1)
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=size), out=indptr[1:])
    return Deps(shape, ncols, indptr, cols)


# -------------------------------------------------------------- operations
def gather_rows(d: Deps, idx: np.ndarray, shape: tuple[int, ...]) -> Deps:
    """Row ``k`` of the result is row ``idx[k]`` of ``d`` (empty where ``idx[k] < 0``).

    Args:
        d: source dependencies.
        idx: integer array of ``prod(shape)`` source row ids (any shape; raveled), -1 = none.
        shape: shape of the result.
    """
    idx = np.asarray(idx).ravel()
    if d.is_empty:
        return Deps(shape, d.ncols)
    lengths = d.lengths()
    valid = idx >= 0
    all_valid = bool(valid.all())
    safe = idx if all_valid else np.where(valid, idx, 0)
    out_len = lengths[safe]
    if not all_valid:
        out_len[~valid] = 0
    indptr = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum(out_len, out=indptr[1:])
    total = int(indptr[-1])
    if total == 0:
        return Deps(shape, d.ncols)
    budget.check_dependencies(idx.size, d.ncols, total)  # before the (total,) arrays
    starts = d.indptr[safe]
    if total == idx.size and bool((out_len == 1).all()):
        # One dependency per row (inputs, slices of inputs): a single gather.
        return Deps(shape, d.ncols, indptr, d.indices[starts])
    # Position of each output nonzero in the source: start of its source row plus
    # its offset within the row.
    src = np.repeat(starts - indptr[:-1], out_len) + np.arange(total, dtype=np.int64)
    return Deps(shape, d.ncols, indptr, d.indices[src])


def union(ds: Sequence[Deps], shape: tuple[int, ...] | None = None) -> Deps:
    """Row-wise union of dependency matrices with equal row counts."""
    nonempty = [d for d in ds if not d.is_empty]
    shape = ds[0].shape if shape is None else shape
    ncols = max(d.ncols for d in ds)
    if not nonempty:
        return Deps(shape, ncols)
    first = nonempty[0]
    rest = [d for d in nonempty[1:] if d._indices is not first._indices]
    if not rest:
        return Deps(shape, ncols, first._indptr, first._indices)
    # Distinct patterns: merge all (row, col) keys. Each operand's keys are already
    # sorted, so a stable sort of the concatenation is a linear multi-way merge.
    parts = [first, *rest]
    shift = _shift(ncols)
    size = first.size
    if size << shift >= 2**62:
        rows = np.concatenate([p.rows() for p in parts])
        cols = np.concatenate([p.indices for p in parts])
        return from_coo(shape, ncols, rows, cols)
    keys = np.concatenate([(p.rows() << shift) | p.indices for p in parts])
    keys = _unique_sorted(np.sort(keys, kind="stable"))
    return _from_keys(shape, ncols, keys, shift)


def mask_rows(d: Deps, keep: np.ndarray) -> Deps:
    """Empty every row ``i`` with ``keep[i]`` False (e.g. multiplication by a constant zero)."""
    keep = np.asarray(keep, dtype=bool).ravel()
    if d.is_empty or keep.all():
        return d
    idx = np.where(keep, np.arange(d.size, dtype=np.int64), -1)
    return gather_rows(d, idx, d.shape)


def stack(ds: Sequence[Deps]) -> Deps:
    """Concatenate the rows of several matrices (flat result of shape (sum of sizes,))."""
    size = sum(d.size for d in ds)
    ncols = max((d.ncols for d in ds), default=0)
    if all(d.is_empty for d in ds):
        return Deps((size,), ncols)
    indptrs = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for d in ds:
        indptrs.append(d.indptr[1:] + offset)
        offset += d.nnz
    return Deps((size,), ncols, np.concatenate(indptrs), np.concatenate([d.indices for d in ds]))


def aggregate(
    d: Deps, dst: np.ndarray, src: np.ndarray, shape: tuple[int, ...], ncols: int | None = None
) -> Deps:
    """Group-by union: row ``r`` of the result is the union of rows ``src[p]`` of ``d`` over
    all pairs ``p`` with ``dst[p] == r`` (the product with a 0/1 aggregation matrix).

    Args:
        d: source dependencies.
        dst, src: 1-D integer arrays of equal length (pairs), result row and source row.
        shape: shape of the result.
        ncols: column count of the result (default ``d.ncols``).
    """
    ncols = d.ncols if ncols is None else ncols
    size = _size(shape)
    if d.is_empty or dst.size == 0:
        return Deps(shape, ncols)
    dst = np.asarray(dst, dtype=np.int64).ravel()
    src = np.asarray(src, dtype=np.int64).ravel()
    g = gather_rows(d, src, (src.size,))
    if g.is_empty:
        return Deps(shape, ncols)
    cols = g.indices
    rows = np.repeat(dst, g.lengths())
    if size == 1:
        return _single_row(shape, ncols, cols)
    if size * ncols <= max(4 * cols.size, 1 << 22):
        # Small key space: a boolean mask avoids sorting.
        mask = np.zeros(size * ncols, dtype=bool)
        mask[rows * ncols + cols] = True
        keys = np.flatnonzero(mask)
        r, c = np.divmod(keys, ncols)
        indptr = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=size), out=indptr[1:])
        return Deps(shape, ncols, indptr, c)
    return from_coo(shape, ncols, rows, cols)


def _single_row(shape: tuple[int, ...], ncols: int, cols: np.ndarray) -> Deps:
    if cols.size * 8 >= ncols:
        mask = np.zeros(ncols, dtype=bool)
        mask[cols] = True
        cols = np.flatnonzero(mask)
    else:
        cols = unique_sorted(cols)
    return Deps(shape, ncols, np.array([0, cols.size], dtype=np.int64), cols.astype(np.int64))


def reduce_all(d: Deps, shape: tuple[int, ...]) -> Deps:
    """Every element of the result depends on the union of all rows of ``d``."""
    if d.is_empty:
        return Deps(shape, d.ncols)
    one = _single_row((), d.ncols, d.indices)
    return broadcast_row(one, shape)


def broadcast_row(one: Deps, shape: tuple[int, ...]) -> Deps:
    """Every element of the result has the dependencies of the single row of ``one``."""
    return gather_rows(one, np.zeros(_size(shape), dtype=np.int64), shape)


def drop_columns_from(d: Deps, start: int) -> tuple[Deps, Deps]:
    """Split columns into [0, start) (kept, ncols=start) and [start, ncols) (shifted to 0)."""
    if d.is_empty:
        return Deps(d.shape, start), Deps(d.shape, d.ncols - start)
    rows, cols = d.rows(), d.indices
    lo = cols < start
    a = from_coo(d.shape, start, rows[lo], cols[lo], sorted_unique=True)
    b = from_coo(d.shape, d.ncols - start, rows[~lo], cols[~lo] - start, sorted_unique=True)
    return a, b


def equal(a: Deps, b: Deps) -> bool:
    """True when both matrices hold the same dependencies (concreteness ignored)."""
    if a.nnz != b.nnz or a.size != b.size:
        return False
    if a.nnz == 0:
        return True
    return bool(np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices))
