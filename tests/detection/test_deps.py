"""Set algebra of the dependency matrix against dense boolean references."""

from __future__ import annotations

import numpy as np

from asdex_pipe.detection import deps as D


def _dense(d):
    out = np.zeros((d.size, d.ncols), dtype=bool)
    out[d.rows(), d.indices] = True
    return out


def _random(rng, rows, ncols, density=0.3):
    m = rng.random((rows, ncols)) < density
    r, c = np.nonzero(m)
    return D.from_coo((rows,), ncols, r, c), m


def test_from_coo_merges_duplicates_and_sorts():
    d = D.from_coo((3,), 5, np.array([2, 0, 2, 0]), np.array([4, 1, 4, 0]))
    assert d.indptr.tolist() == [0, 2, 2, 3]
    assert d.indices.tolist() == [0, 1, 4]


def test_gather_rows_with_fill():
    rng = np.random.default_rng(0)
    d, m = _random(rng, 6, 7)
    idx = np.array([5, -1, 0, 0, 3])
    g = D.gather_rows(d, idx, (5,))
    ref = np.where((idx >= 0)[:, None], m[np.maximum(idx, 0)], False)
    assert (_dense(g) == ref).all()


def test_union_matches_logical_or():
    rng = np.random.default_rng(1)
    a, ma = _random(rng, 8, 9)
    b, mb = _random(rng, 8, 9)
    c, mc = _random(rng, 8, 9, 0.1)
    assert (_dense(D.union([a, b, c])) == (ma | mb | mc)).all()
    assert D.union([a, a]).indices is a.indices  # identical operands are not copied


def test_aggregate_is_boolean_matrix_product():
    rng = np.random.default_rng(2)
    d, m = _random(rng, 10, 12)
    agg = rng.random((4, 10)) < 0.4
    dst, src = np.nonzero(agg)
    out = D.aggregate(d, dst, src, (4,))
    ref = (agg.astype(int) @ m.astype(int)) > 0
    assert (_dense(out) == ref).all()


def test_aggregate_large_key_space_uses_sort_path():
    rng = np.random.default_rng(3)
    d, m = _random(rng, 50, 200_000, 0.0001)
    dst = rng.integers(0, 40, 80)
    src = rng.integers(0, 50, 80)
    out = D.aggregate(d, dst, src, (40,))
    ref = np.zeros((40, 200_000), dtype=bool)
    for i, j in zip(dst, src, strict=True):
        ref[i] |= m[j]
    assert (_dense(out) == ref).all()


def test_mask_stack_and_column_split():
    rng = np.random.default_rng(4)
    a, ma = _random(rng, 5, 6)
    keep = np.array([True, False, True, False, True])
    assert (_dense(D.mask_rows(a, keep)) == (ma & keep[:, None])).all()
    b, mb = _random(rng, 3, 6)
    assert (_dense(D.stack([a, b])) == np.vstack([ma, mb])).all()
    lo, hi = D.drop_columns_from(a, 4)
    assert (_dense(lo) == ma[:, :4]).all() and (_dense(hi) == ma[:, 4:]).all()


def test_reduce_all_and_identity():
    ident = D.identity((2, 3))
    assert (_dense(ident) == np.eye(6, dtype=bool)).all()
    r = D.reduce_all(ident, (2,))
    assert (_dense(r) == np.ones((2, 6), dtype=bool)).all()
    assert D.equal(ident, D.identity((6,)))


def test_retagging_columns_and_forgetting_values_keep_the_pattern():
    rng = np.random.default_rng(5)
    d, m = _random(rng, 6, 5)
    wide = d.with_ncols(9)
    assert wide.ncols == 9 and (_dense(wide)[:, :5] == m).all() and not _dense(wide)[:, 5:].any()
    c = D.constant(np.arange(4.0), 3)
    assert c.value is not None and c.without_value().value is None
    assert D.equal(c.without_value(), D.empty((4,), 3))
    assert D.equal(d.without_value(), d) and d.without_value().ncols == 5
