"""No invalid coloring leaves the library: a broken kernel makes the public functions raise.

The greedy kernels are replaced by ones returning invalid colorings (what a bug would
return); every public coloring function must raise InvalidColoringError, not return them.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import (
    InvalidColoringError,
    SparsityPattern,
    color_cols,
    color_rows,
    color_symmetric,
    hessian_coloring,
    hessian_coloring_from_sparsity,
    jacobian_coloring,
    jacobian_coloring_from_sparsity,
)
from asdex_pipe.coloring import algorithms, bipartite, columns
from tests.coloring import families as fam


def _one_color(indptr, *_):
    return np.zeros(indptr.shape[0] - 1, dtype=np.int32)


def _alternating(indptr, *_):
    # Proper on a path but neither star (two-colored P4) nor acyclic on a cycle.
    return (np.arange(indptr.shape[0] - 1) % 2).astype(np.int32)


def _energy(x):
    return jnp.sum(x[1:] * x[:-1]) + jnp.sum(x**4)


@pytest.mark.parametrize(
    "call",
    [
        lambda: color_cols(fam.banded(8, 1)),
        lambda: color_rows(fam.banded(8, 1)),
        lambda: color_cols(fam.banded(8, 1), "best"),
        lambda: jacobian_coloring_from_sparsity(fam.banded(8, 1), mode="fwd"),
        lambda: jacobian_coloring_from_sparsity(fam.banded(8, 1), mode="rev"),
        lambda: jacobian_coloring_from_sparsity(fam.banded(8, 1), mode="auto"),
        lambda: jacobian_coloring(lambda x: x[1:] * x[:-1], 8, mode="fwd"),
    ],
    ids=["cols", "rows", "cols-best", "fwd", "rev", "auto", "from-f"],
)
def test_broken_column_kernel_raises(monkeypatch, call):
    monkeypatch.setattr(columns, "greedy_distance1", _one_color)
    with pytest.raises(InvalidColoringError, match=r"internal error.*share color"):
        call()


def _dense_row_and_column(n: int):
    """Diagonal plus a full last row and a full first column: bicolored in 3 products."""
    i = np.arange(n)
    rows = np.concatenate([i, i, np.full(n, n)])
    cols = np.concatenate([i, np.zeros(n, np.int64), i])
    return SparsityPattern.from_coo(rows, cols, (n + 1, n))


@pytest.mark.parametrize("mode", ["bidirectional", "auto"])
def test_broken_column_kernel_breaks_bicolorings_too(monkeypatch, mode):
    monkeypatch.setattr(columns, "greedy_distance1", _one_color)
    with pytest.raises(InvalidColoringError, match=r"internal error.*bidirectional"):
        jacobian_coloring_from_sparsity(_dense_row_and_column(12), mode=mode)


def test_broken_frugal_kernel_raises(monkeypatch):
    # Patterns whose intersection graph is too large are colored on the pattern itself.
    monkeypatch.setattr(bipartite, "greedy_partial_d2", lambda *a: _one_color(a[2]))
    monkeypatch.setattr(bipartite, "GRAM_MIN", 0)
    monkeypatch.setattr(bipartite, "GRAM_FACTOR", 0)
    with pytest.raises(InvalidColoringError, match=r"internal error.*share color"):
        color_cols(fam.banded(8, 1))


@pytest.mark.parametrize("postprocess", [True, False])
@pytest.mark.parametrize("kernel", [_one_color, _alternating])
def test_broken_star_kernel_raises(monkeypatch, kernel, postprocess):
    monkeypatch.setattr(algorithms, "greedy_star", kernel)
    p = fam.banded(8, 1)
    with pytest.raises(InvalidColoringError, match="internal error"):
        color_symmetric(p, "star", postprocess=postprocess)
    with pytest.raises(InvalidColoringError, match="internal error"):
        hessian_coloring_from_sparsity(p, "star", "best", postprocess)
    with pytest.raises(InvalidColoringError, match="internal error"):
        hessian_coloring(_energy, 8, algorithm="star", postprocess=postprocess)


def test_broken_acyclic_kernel_raises(monkeypatch):
    monkeypatch.setattr(algorithms, "greedy_acyclic", _alternating)
    cycle = fam.stencil((4,), [(0,), (1,), (-1,), (3,), (-3,)])  # 0-1-2-3-0
    with pytest.raises(InvalidColoringError, match=r"internal error.*cycle"):
        color_symmetric(cycle, "acyclic")
    monkeypatch.setattr(algorithms, "greedy_acyclic", _one_color)
    with pytest.raises(InvalidColoringError, match=r"internal error.*share color"):
        hessian_coloring(_energy, 8, algorithm="acyclic")


def test_valid_kernels_pass_the_check():
    # The same calls with the real kernels return checked colorings.
    assert color_cols(fam.banded(8, 1)).max() == 2
    assert hessian_coloring(_energy, 8, algorithm="acyclic").num_colors == 2
