"""SparsityPattern and ColoredPattern: construction, validation, conversions, display."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.experimental import sparse as jsparse

from asdex_pipe import ColoredPattern, SparsityPattern
from tests.profiles import examples


@st.composite
def dense_bool(draw, max_side=12):
    m = draw(st.integers(0, max_side))
    n = draw(st.integers(0, max_side))
    bits = draw(st.lists(st.booleans(), min_size=m * n, max_size=m * n))
    return np.array(bits, dtype=bool).reshape(m, n)


def tridiagonal(n):
    i = np.arange(n)
    rows = np.concatenate([i, i[:-1], i[1:]])
    cols = np.concatenate([i, i[1:], i[:-1]])
    return SparsityPattern.from_coo(rows, cols, (n, n))


@settings(max_examples=examples(60), deadline=None)
@given(dense_bool())
def test_dense_coo_scipy_bcoo_roundtrip(a):
    p = SparsityPattern.from_dense(a)
    assert p.nnz == int(a.sum())
    assert np.array_equal(p.todense(), a)
    assert SparsityPattern.from_coo(p.rows, p.cols, p.shape) == p
    assert SparsityPattern.from_scipy(p.to_scipy()) == p
    assert np.array_equal(p.to_scipy().toarray(), a)
    assert SparsityPattern.from_bcoo(p.to_bcoo()) == p
    assert np.array_equal(p.T.todense(), a.T)


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 4)), max_size=40))
def test_from_coo_merges_duplicates_and_sorts(pairs):
    rows = [r for r, _ in pairs]
    cols = [c for _, c in pairs]
    p = SparsityPattern.from_coo(rows, cols, (7, 5))
    assert p.nnz == len(set(pairs))
    keys = p.rows.astype(np.int64) * 5 + p.cols
    assert np.all(np.diff(keys) > 0)
    assert p.indptr[-1] == p.nnz


def test_seed_manual_pattern_snippets():
    dense = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]])
    a = SparsityPattern.from_dense(dense)
    b = SparsityPattern.from_coo(
        rows=[0, 0, 1, 1, 1, 2, 2, 2, 3, 3], cols=[0, 1, 0, 1, 2, 1, 2, 3, 2, 3], shape=(4, 4)
    )
    c = SparsityPattern.from_bcoo(jsparse.BCOO.fromdense(dense))
    assert a == b == c
    assert a.is_symmetric()


def test_bcoo_padding_is_dropped():
    m = jsparse.BCOO.fromdense(np.eye(3), nse=5)  # two padding entries
    assert SparsityPattern.from_bcoo(m).nnz == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": [0, 5], "cols": [0, 1], "shape": (3, 3)}, "out of range"),
        ({"rows": [0, -1], "cols": [0, 1], "shape": (3, 3)}, "negative"),
        ({"rows": [0.5, 1], "cols": [0, 1], "shape": (3, 3)}, "integers"),
        ({"rows": [0, 1], "cols": [0], "shape": (3, 3)}, "same length"),
        ({"rows": [0], "cols": [0], "shape": (-1, 3)}, "non-negative"),
        ({"rows": [0], "cols": [0], "shape": (3,)}, "pair"),
        ({"rows": [[0]], "cols": [[0]], "shape": (3, 3)}, "1-D"),
    ],
)
def test_from_coo_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SparsityPattern.from_coo(**kwargs)


def test_from_dense_rejects_non_2d():
    with pytest.raises(ValueError, match="2-D"):
        SparsityPattern.from_dense(np.ones(3))


def test_pattern_is_immutable():
    p = tridiagonal(5)
    with pytest.raises(ValueError):
        p.rows[0] = 3


def test_density_and_header():
    p = tridiagonal(100)
    assert p.nnz == 298
    assert p.density == pytest.approx(298 / 10_000)
    first = repr(p).splitlines()[0]
    assert first == "SparsityPattern(100×100, nnz=298, sparsity=97.0%)"


def test_braille_preview_matches_seed_rows():
    lines = repr(tridiagonal(100)).splitlines()[1:]
    # The seed shows the 100×100 tridiagonal as 20 lines of 40 braille cells.
    assert len(lines) == 20
    assert lines[0] == "⎡⠻⣦⡀" + "⠀" * 37 + "⎤"
    assert lines[1] == "⎢⠀⠈⠻⣦⡀" + "⠀" * 35 + "⎥"
    assert lines[-1] == "⎣" + "⠀" * 37 + "⠈⠻⣦⎦"


def test_large_preview_is_bounded():
    n = 10**6
    p = SparsityPattern.from_coo(np.arange(n), np.arange(n), (n, n))
    lines = repr(p).splitlines()[1:]
    assert len(lines) == 20
    assert all(len(line) == 42 for line in lines)


def test_colored_pattern_repr_form():
    p = tridiagonal(100)
    cp = ColoredPattern(p, np.arange(100) % 3, "HVP", "star", "natural")
    lines = repr(cp).splitlines()
    assert lines[0] == "ColoredPattern(100×100, nnz=298, sparsity=97.0%, HVP, 3 colors)"
    assert lines[1] == "3 HVPs (instead of 100 HVPs)"
    body = lines[2:]
    assert len(body) == 20
    assert " → " in body[10]
    assert body[0].endswith("⎤") and "⎤   ⎡" in body[0]
    assert cp.compressed_pattern().shape == (100, 3)


@pytest.mark.parametrize(
    ("colors", "mode", "message"),
    [
        (np.zeros(4, dtype=int), "HVP", "one color per column"),
        (np.zeros(5, dtype=float), "HVP", "integers"),
        (np.full(5, -2), "HVP", ">= -1"),
        (np.array([0, 1, -1, 0, 1]), "HVP", "vertex 2 has a diagonal nonzero"),
        (np.array([0, 1, -1, 0, 1]), "JVP", "vertex 2 has nonzeros"),
        (np.zeros(5, dtype=int), "XYZ", "mode must be"),
    ],
)
def test_colored_pattern_rejects_bad_colors(colors, mode, message):
    with pytest.raises(ValueError, match=message):
        ColoredPattern(tridiagonal(5), colors, mode, "star")


def test_colored_pattern_vjp_needs_row_colors_and_allows_empty_rows():
    p = SparsityPattern.from_coo([0, 2], [1, 1], (3, 2))
    cp = ColoredPattern(p, [0, -1, 1], "VJP", "row")
    assert cp.num_colors == 2
    assert cp.compressed_pattern().shape == (2, 2)
    assert "2 VJPs (instead of 3 VJPs)" in repr(cp)


def test_empty_pattern_repr_and_colors():
    p = SparsityPattern.from_coo([], [], (0, 0))
    assert p.nnz == 0 and p.density == 0.0
    cp = ColoredPattern(p, np.zeros(0, dtype=int), "HVP", "star")
    assert cp.num_colors == 0
    assert "0 HVPs (instead of 0 HVPs)" in repr(cp)


def test_large_pattern_round_trip_stays_linear_in_memory(tmp_path):
    """10^6 unsorted nonzeros: build, zarr save, load; peak traced memory O(nnz), not O(n²)."""
    import tracemalloc

    nnz, n = 10**6, 10**5
    rng = np.random.default_rng(0)
    flat = rng.choice(n * n, size=nnz, replace=False)
    rows, cols = np.divmod(flat, n)
    tracemalloc.start()
    p = SparsityPattern.from_coo(rows, cols, (n, n))
    build_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    p.save(tmp_path / "big.zarr")
    q = SparsityPattern.load(tmp_path / "big.zarr")
    io_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert p.nnz == nnz and q == p
    # A handful of index arrays' worth of bytes per nonzero (measured ~33).
    assert build_peak < 64 * nnz and io_peak < 96 * nnz
