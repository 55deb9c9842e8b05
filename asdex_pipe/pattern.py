"""Sparsity patterns and colored patterns: the two artifacts everything else passes around.

A :class:`SparsityPattern` is an immutable boolean (m, n) matrix kept as sorted,
duplicate-free COO index arrays (row-major order, i.e. the CSR order). It is
never stored densely.

A :class:`ColoredPattern` is a pattern plus a coloring of its columns (modes
``HVP`` and ``JVP``), rows (mode ``VJP``) or both (mode ``JVP+VJP``, a bidirectional
coloring): one AD product per color recovers every nonzero. Color ``-1`` marks a
vertex that needs no product at all (an empty column or row).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from asdex_pipe import display
from asdex_pipe.indices import index_dtype
from asdex_pipe.sorting import unique_inverse, unique_sorted

#: ``JVP+VJP``: a bidirectional Jacobian coloring (JVPs for column colors, VJPs for row colors).
BIDIRECTIONAL = "JVP+VJP"
MODES = ("HVP", "JVP", "VJP", BIDIRECTIONAL)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _check_shape(shape: Any) -> tuple[int, int]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"shape must be a pair (m, n) of integers, got {shape!r}") from None
    if len(dims) != 2:
        raise ValueError(f"shape must be a pair (m, n) of integers, got {shape!r}")
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int | np.integer):
            raise ValueError(f"shape entries must be integers, got {shape!r}")
        if d < 0:
            raise ValueError(f"shape entries must be non-negative, got {shape!r}")
        out.append(int(d))
    return out[0], out[1]


def _check_index_array(name: str, values: Any) -> np.ndarray:
    a = np.asarray(values)
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of indices, got shape {a.shape}")
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def _fmt_pct(x: float) -> str:
    """A percentage with the digits that tell it from 0% and 100%: 99.998%, not 100.0%."""
    pct = 100.0 * x
    if pct in (0.0, 100.0):
        return f"{pct:.1f}%"
    digits = 1
    while digits < 12 and round(pct, digits) in (0.0, 100.0):
        digits += 1
    return f"{pct:.{digits}f}%"


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


class SparsityPattern:
    """Immutable boolean sparsity pattern of an (m, n) matrix.

    Build one with :meth:`from_coo`, :meth:`from_dense`, :meth:`from_bcoo`,
    :meth:`from_scipy`, or :meth:`load`. ``rows`` and ``cols`` are read-only
    1-D integer arrays of length ``nnz``, sorted row-major without duplicates.
    """

    __slots__ = ("_cols", "_hash", "_indptr", "_rows", "_shape", "provenance")

    def __init__(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        shape: tuple[int, int],
        *,
        provenance: Mapping[str, Any] | None = None,
        _trusted: bool = False,
    ):
        """Prefer the ``from_*`` constructors; this one validates, sorts and merges duplicates.

        Args:
            rows, cols: 1-D integer arrays of equal length (nnz,), the coordinates.
            shape: (m, n), non-negative integers.
            provenance: free-form JSON-serialisable metadata kept with the pattern.
        """
        shape = _check_shape(shape)
        if not _trusted:
            rows, cols = _canonical_coo(rows, cols, shape)
        dtype = index_dtype(max(shape, default=0))
        self._rows = _frozen(np.asarray(rows, dtype=dtype))
        self._cols = _frozen(np.asarray(cols, dtype=dtype))
        self._shape = shape
        self._indptr: np.ndarray | None = None
        self._hash: int | None = None
        self.provenance = dict(provenance or {})

    # ---------------------------------------------------------------- builders
    @classmethod
    def from_coo(
        cls,
        rows: Any,
        cols: Any,
        shape: tuple[int, int],
        *,
        provenance: Mapping[str, Any] | None = None,
    ) -> SparsityPattern:
        """Build from coordinate arrays; duplicates are merged.

        Args:
            rows, cols: sequences of non-negative integers of equal length (nnz,).
            shape: (m, n) of the matrix.
            provenance: optional free-form metadata.

        Raises:
            ValueError: on mismatched lengths, non-integer, negative or out-of-range indices,
                or a bad shape.
        """
        return cls(rows, cols, shape, provenance=provenance)

    @classmethod
    def from_dense(cls, array: Any) -> SparsityPattern:
        """Build from a dense 2-D array; every nonzero (or True) entry is in the pattern.

        Args:
            array: array-like of shape (m, n), numeric or boolean.
        """
        a = np.asarray(array)
        if a.ndim != 2:
            raise ValueError(f"from_dense expects a 2-D array, got {a.ndim}-D shape {a.shape}")
        r, c = np.nonzero(a)
        return cls(r, c, a.shape, _trusted=True)

    @classmethod
    def from_bcoo(cls, matrix: Any) -> SparsityPattern:
        """Build from a 2-D ``jax.experimental.sparse.BCOO`` matrix (its stored indices).

        Every stored index counts, whatever its value; BCOO's out-of-range padding
        entries are dropped.
        """
        if getattr(matrix, "n_batch", 0) or getattr(matrix, "n_dense", 0):
            raise ValueError("from_bcoo supports BCOO matrices without batch or dense dimensions")
        if len(matrix.shape) != 2:
            raise ValueError(f"from_bcoo expects a 2-D BCOO matrix, got shape {matrix.shape}")
        idx = np.asarray(matrix.indices)
        m, n = (int(d) for d in matrix.shape)
        keep = (idx[:, 0] < m) & (idx[:, 1] < n)
        return cls(idx[keep, 0], idx[keep, 1], (m, n))

    @classmethod
    def from_scipy(cls, matrix: Any) -> SparsityPattern:
        """Build from any scipy sparse matrix or array (stored entries, explicit zeros included)."""
        coo = sp.coo_array(matrix)
        return cls(coo.row, coo.col, coo.shape)

    # ------------------------------------------------------------- properties
    @property
    def rows(self) -> np.ndarray:
        """Row index of each nonzero, shape (nnz,), sorted row-major."""
        return self._rows

    @property
    def cols(self) -> np.ndarray:
        """Column index of each nonzero, shape (nnz,)."""
        return self._cols

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n)."""
        return self._shape

    @property
    def nnz(self) -> int:
        """Number of structural nonzeros."""
        return int(self._rows.shape[0])

    @property
    def density(self) -> float:
        """nnz / (m·n); 0 for an empty shape."""
        size = self._shape[0] * self._shape[1]
        return self.nnz / size if size else 0.0

    @property
    def sparsity(self) -> float:
        """1 − density."""
        return 1.0 - self.density

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointer, shape (m + 1,): row i's nonzeros are ``cols[indptr[i]:indptr[i+1]]``."""
        if self._indptr is None:
            counts = np.bincount(self._rows, minlength=self._shape[0])
            ptr = np.zeros(self._shape[0] + 1, dtype=np.int64)
            np.cumsum(counts, out=ptr[1:])
            self._indptr = _frozen(ptr)
        return self._indptr

    # ------------------------------------------------------------ conversions
    def todense(self) -> np.ndarray:
        """Dense boolean array of shape (m, n)."""
        out = np.zeros(self._shape, dtype=bool)
        out[self._rows, self._cols] = True
        return out

    def to_scipy(self) -> sp.csr_array:
        """scipy CSR array of shape (m, n) with boolean True at every nonzero."""
        data = np.ones(self.nnz, dtype=bool)
        return sp.csr_array((data, self._cols, self.indptr), shape=self._shape)

    def to_bcoo(self, dtype: Any = np.float32) -> Any:
        """JAX BCOO matrix with ones at the nonzeros (``dtype`` values, shape (m, n))."""
        import jax.numpy as jnp
        from jax.experimental import sparse as jsparse

        idx = np.stack([self._rows, self._cols], axis=1)
        data = jnp.ones(self.nnz, dtype=dtype)
        return jsparse.BCOO((data, jnp.asarray(idx)), shape=self._shape)

    @property
    def T(self) -> SparsityPattern:
        """The transposed (n, m) pattern."""
        return self.transpose()

    def transpose(self) -> SparsityPattern:
        """Return the transposed (n, m) pattern."""
        m, n = self._shape
        order = np.lexsort((self._rows, self._cols))
        return SparsityPattern(
            self._cols[order], self._rows[order], (n, m), provenance=self.provenance, _trusted=True
        )

    def is_symmetric(self) -> bool:
        """True if the pattern is square and equal to its transpose."""
        return self._shape[0] == self._shape[1] and self == self.transpose()

    def symmetrize(self) -> SparsityPattern:
        """Return the union of the pattern and its transpose (square patterns only)."""
        if self._shape[0] != self._shape[1]:
            raise ValueError(f"symmetrize needs a square pattern, got shape {self._shape}")
        rows = np.concatenate([self._rows, self._cols])
        cols = np.concatenate([self._cols, self._rows])
        return SparsityPattern(rows, cols, self._shape, provenance=self.provenance)

    # ---------------------------------------------------------------- dunders
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SparsityPattern):
            return NotImplemented
        return (
            self._shape == other._shape
            and np.array_equal(self._rows, other._rows)
            and np.array_equal(self._cols, other._cols)
        )

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._shape, self._rows.tobytes(), self._cols.tobytes()))
        return self._hash

    def _header(self) -> str:
        m, n = self._shape
        return f"{m}×{n}, nnz={self.nnz}, sparsity={_fmt_pct(self.sparsity)}"

    def __repr__(self) -> str:
        s = display.preview_scale(self._shape)
        lines = display.braille_lines(self._rows, self._cols, self._shape, s, s)
        return "\n".join([f"SparsityPattern({self._header()})", *display.bracket(lines)])

    __str__ = __repr__

    # ------------------------------------------------------------ persistence
    # The one place the core reaches into store/: these two methods keep the seed's API and
    # delegate, with a function-level import, to asdex_pipe.store.records, which owns the file
    # format. tests/test_layering.py allows exactly these delegations and nothing else.
    def save(self, path: Any) -> None:
        """Write the pattern to a local ``path``; the suffix picks the format (``.npz``/``.zarr``).

        The write is atomic: a crash leaves either the old file or the new one.
        """
        from asdex_pipe.store import records

        records.save(self, path)

    @classmethod
    def load(cls, path: Any, storage_options: Mapping[str, Any] | None = None) -> SparsityPattern:
        """Read a pattern written by :meth:`save` or by an artifact store, validating it.

        Args:
            path: local path, or an fsspec URL (``file://...``, ``s3://bucket/...``) of a
                ``.npz`` file or ``.zarr`` group.
            storage_options: fsspec options for a URL (e.g. ``{"endpoint_url": ...}``).

        Raises:
            asdex_pipe.store.formats.ArtifactError: on a missing, truncated, tampered or
                wrong-kind file.
        """
        from asdex_pipe.store import records

        return records.load(cls, path, storage_options)


def _canonical_coo(rows: Any, cols: Any, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Validate coordinates and return them sorted row-major without duplicates."""
    r = _check_index_array("rows", rows)
    c = _check_index_array("cols", cols)
    if r.shape != c.shape:
        raise ValueError(f"rows and cols must have the same length, got {r.size} and {c.size}")
    if r.size == 0:
        return r, c
    m, n = shape
    for name, a, bound in (("rows", r, m), ("cols", c, n)):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0:
            raise ValueError(f"{name} contains a negative index ({lo})")
        if hi >= bound:
            raise ValueError(f"{name} index {hi} is out of range for shape {shape}")
    keys = r * n + c
    if keys.size > 1 and not bool(np.all(keys[1:] > keys[:-1])):
        r, c = np.divmod(unique_sorted(keys), n)
    return r, c


def _check_bidirectional(sparsity: SparsityPattern, c: np.ndarray) -> None:
    """Raise ``ValueError`` unless every nonzero has a colored column or row and the
    column colors (JVPs) all lie below the row colors (VJPs)."""
    n = sparsity.shape[1]
    cols, rows = c[:n], c[n:]
    k_f = int(cols.max(initial=-1)) + 1
    if rows.size and bool(np.any((rows >= 0) & (rows < k_f))):
        raise ValueError(
            f"a JVP+VJP coloring numbers its row colors after its {k_f} column colors, "
            f"got a row color below {k_f}"
        )
    bare = (cols[sparsity.cols] < 0) & (rows[sparsity.rows] < 0)
    if bool(np.any(bare)):
        e = int(np.argmax(bare))
        raise ValueError(
            f"nonzero ({int(sparsity.rows[e])}, {int(sparsity.cols[e])}) has neither a "
            "colored column nor a colored row"
        )


def _largest_two_colored_tree(sparsity: SparsityPattern, colors: np.ndarray) -> int:
    """Vertices in the largest connected subgraph induced by two colors (a tree for an
    acyclic coloring); 0 without off-diagonal nonzeros. One vertex copy per color pair."""
    c = np.asarray(colors, dtype=np.int64)
    r, q = sparsity.rows.astype(np.int64), sparsity.cols.astype(np.int64)
    keep = (r != q) & (c[r] >= 0) & (c[q] >= 0) & (c[r] != c[q])
    i, j = r[keep], q[keep]
    if i.size == 0:
        return 0
    k = int(c.max()) + 1
    uniq, node = unique_inverse(np.concatenate([i * k + c[j], j * k + c[i]]))
    e = i.size
    graph = sp.coo_array((np.ones(e, dtype=bool), (node[:e], node[e:])), shape=(uniq.size,) * 2)
    from scipy.sparse.csgraph import connected_components  # 60 ms import: when used

    _, label = connected_components(graph, directed=False)
    return int(np.bincount(label).max())


class ColoredPattern:
    """A sparsity pattern with a coloring: one AD product per color recovers every nonzero.

    Attributes:
        sparsity: the (m, n) :class:`SparsityPattern`.
        colors: int32 array; shape (n,) for modes ``HVP``/``JVP`` (column colors),
            (m,) for ``VJP`` (row colors), (n + m,) for ``JVP+VJP`` (the n column colors
            0..k_f-1, each a JVP, then the m row colors k_f..k-1, each a VJP). ``-1``
            marks a vertex no product needs.
        mode: ``"HVP"``, ``"JVP"``, ``"VJP"`` or ``"JVP+VJP"``.
        algorithm: coloring algorithm (``"star"``, ``"acyclic"``, ``"column"``, ``"row"``,
            ``"bicoloring"``).
        order: the vertex order the algorithm used.
        provenance: free-form metadata.
    """

    __slots__ = ("_plan_cache", "algorithm", "colors", "mode", "order", "provenance", "sparsity")

    def __init__(
        self,
        sparsity: SparsityPattern,
        colors: Any,
        mode: str,
        algorithm: str,
        order: str = "natural",
        *,
        provenance: Mapping[str, Any] | None = None,
    ):
        """Validate and build a colored pattern.

        Args:
            sparsity: the pattern that was colored.
            colors: integer color per column (HVP/JVP) or row (VJP), or per column then
                row (JVP+VJP, column colors below row colors); -1 for "needs none".
            mode: ``"HVP"``, ``"JVP"``, ``"VJP"`` or ``"JVP+VJP"``.
            algorithm: name of the coloring algorithm.
            order: name of the vertex order.
            provenance: optional free-form metadata.

        Raises:
            ValueError: when the colors do not fit the pattern (length, range, a nonzero in a
                vertex marked -1 — for HVP a diagonal one) or the mode is unknown.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        m, n = sparsity.shape
        if mode == "HVP" and m != n:
            raise ValueError(f"an HVP coloring needs a square pattern, got shape {sparsity.shape}")
        expected = {"VJP": m, BIDIRECTIONAL: n + m}.get(mode, n)
        c = np.asarray(colors)
        if c.size and (c.dtype == np.bool_ or not np.issubdtype(c.dtype, np.integer)):
            raise ValueError(f"colors must be integers, got dtype {c.dtype}")
        if c.shape != (expected,):
            side = {"VJP": "row", BIDIRECTIONAL: "column and one per row"}.get(mode, "column")
            raise ValueError(
                f"a {mode} coloring needs one color per {side} ({expected}), got shape {c.shape}"
            )
        c = c.astype(np.int32)
        if c.size and int(c.min()) < -1:
            raise ValueError(f"colors must be >= -1 (-1 = needs no product), got {int(c.min())}")
        if mode == BIDIRECTIONAL:
            _check_bidirectional(sparsity, c)
        touched = sparsity.rows if mode == "VJP" else sparsity.cols
        if mode == BIDIRECTIONAL:
            touched = touched[:0]  # checked above
        if mode == "HVP":
            # A neutral vertex of a symmetric coloring may have off-diagonal nonzeros (read
            # through its neighbours' colors) but no diagonal one.
            touched = sparsity.rows[sparsity.rows == sparsity.cols]
        if touched.size and bool(np.any(c[touched] < 0)):
            bad = int(touched[np.argmax(c[touched] < 0)])
            what = "a diagonal nonzero" if mode == "HVP" else "nonzeros"
            raise ValueError(f"vertex {bad} has {what} but color -1")
        self.sparsity = sparsity
        self.colors = _frozen(c)
        self.mode = mode
        self.algorithm = str(algorithm)
        self.order = str(order)
        self.provenance = dict(provenance or {})
        self._plan_cache: dict[str, Any] = {}

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n) of the underlying pattern."""
        return self.sparsity.shape

    @property
    def nnz(self) -> int:
        """Number of nonzeros of the underlying pattern."""
        return self.sparsity.nnz

    @property
    def num_colors(self) -> int:
        """Number of colors, i.e. AD products per evaluation."""
        return int(self.colors.max()) + 1 if self.colors.size else 0

    @property
    def substitution_depth(self) -> int:
        """How many compressed values one recovered entry may sum (0: read directly).

        An acyclic coloring recovers each off-diagonal entry by substitution along a
        two-colored tree: rooted at a centroid, the entry is a signed sum of the compressed
        values of the subtree below it, at most half the tree. This is ``N // 2`` for the
        largest two-colored tree of ``N`` vertices (equal to the depth of a path-shaped
        tree rooted at its centre; an upper bound for bushier trees). Rounding errors grow
        with it (see :mod:`asdex_pipe.differentiation.substitution`): where float32
        accuracy matters and it is large, prefer a star coloring. 0 for star, column and
        row colorings. Computed on first use from the pattern and colors.
        """
        if self.mode != "HVP" or self.algorithm != "acyclic":
            return 0
        if "substitution_depth" not in self._plan_cache:
            largest = _largest_two_colored_tree(self.sparsity, self.colors)
            self._plan_cache["substitution_depth"] = largest // 2
        return self._plan_cache["substitution_depth"]

    def compressed_pattern(self) -> SparsityPattern:
        """Pattern of the compressed matrix: (m, colors) for HVP/JVP, (colors, n) for VJP;
        for JVP+VJP the JVP part, (m, column colors)."""
        s = self.sparsity
        k = self.num_colors
        if self.mode == BIDIRECTIONAL:
            n = s.shape[1]
            c = self.colors[:n][s.cols]
            keep = c >= 0
            k_f = int(self.colors[:n].max(initial=-1)) + 1
            return SparsityPattern.from_coo(s.rows[keep], c[keep], (s.shape[0], k_f))
        if self.mode == "VJP":
            return SparsityPattern(self.colors[s.rows], s.cols, (k, s.shape[1]))
        c = self.colors[s.cols]
        keep = c >= 0  # neutral columns enter no product
        return SparsityPattern.from_coo(s.rows[keep], c[keep], (s.shape[0], k))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColoredPattern):
            return NotImplemented
        return (
            self.sparsity == other.sparsity
            and np.array_equal(self.colors, other.colors)
            and (self.mode, self.algorithm, self.order)
            == (other.mode, other.algorithm, other.order)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        s = self.sparsity
        m, n = s.shape
        k = self.num_colors
        dense_count = m if self.mode == "VJP" else n
        header = f"ColoredPattern({s._header()}, {self.mode}, {_plural(k, 'color')})"
        summary = f"{_plural(k, self.mode)} (instead of {_plural(dense_count, self.mode)})"
        if self.mode == BIDIRECTIONAL:
            k_f = int(self.colors[:n].max(initial=-1)) + 1
            summary = (
                f"{_plural(k, 'product')}: {_plural(k_f, 'JVP')} and {_plural(k - k_f, 'VJP')} "
                f"(instead of {_plural(min(m, n), 'product')})"
            )
        if self.substitution_depth:
            summary += f", substitution depth {self.substitution_depth}"
        scale = display.preview_scale(s.shape)
        left = display.bracket(display.braille_lines(s.rows, s.cols, s.shape, scale, scale))
        comp = self.compressed_pattern()
        if self.mode == "VJP":
            rs, cs = min(1.0, display.MAX_PIXELS / max(k, 1)), scale
        else:
            rs, cs = scale, min(1.0, display.MAX_PIXELS / max(k, 1))
        right = display.bracket(display.braille_lines(comp.rows, comp.cols, comp.shape, rs, cs))
        if not left or not right:
            return "\n".join([header, summary, *left])
        return "\n".join([header, summary, *display.side_by_side(left, right)])

    __str__ = __repr__

    # ------------------------------------------------------------ persistence
    # Delegations to asdex_pipe.store.records, as for SparsityPattern (see there).
    def save(self, path: Any) -> None:
        """Write to a local ``path`` (``.npz`` or ``.zarr`` by suffix), atomically."""
        from asdex_pipe.store import records

        records.save(self, path)

    @classmethod
    def load(cls, path: Any, storage_options: Mapping[str, Any] | None = None) -> ColoredPattern:
        """Read a colored pattern written by :meth:`save` or a store, validating every field.

        Args:
            path: local path, or an fsspec URL (``file://...``, ``s3://bucket/...``) of a
                ``.npz`` file or ``.zarr`` group.
            storage_options: fsspec options for a URL (e.g. ``{"endpoint_url": ...}``).

        Raises:
            asdex_pipe.store.formats.ArtifactError: on a missing, truncated, tampered or
                wrong-kind file.
        """
        from asdex_pipe.store import records

        return records.load(cls, path, storage_options)


# ---------------------------------------------------------------- pytrees
class _ByIdentity:
    """A pattern carried as a pytree's static data: hashed and compared by identity, so
    ``jax.jit`` compiles once per pattern object and never hashes its arrays."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByIdentity) and other.value is self.value


def _register_pytrees() -> None:
    """Patterns are pytrees without leaves, so they pass through ``jax.jit``, ``vmap`` and
    ``tree.map`` as arguments (their arrays are host data a program is built from, never
    traced)."""
    import jax

    for cls in (SparsityPattern, ColoredPattern):
        jax.tree_util.register_pytree_node(
            cls, lambda p: ((), _ByIdentity(p)), lambda aux, _: aux.value
        )


_register_pytrees()
