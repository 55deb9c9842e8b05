"""check_hessian_correctness / check_jacobian_correctness in both directions."""

import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe.differentiation import HVP_MODES
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.verify import (
    VerificationError,
    check_hessian_correctness,
    check_jacobian_correctness,
)
from tests.differentiation.helpers import (
    drop_entry,
    greedy,
    grid5,
    grid5_acyclic,
    grid5_star,
    grid_energy,
    hvp_coloring,
    is_acyclic,
    is_star,
    rosenbrock,
    tridiagonal,
)

DTYPES = [jnp.float64, jnp.float32]


def _x(n, dtype, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(-2, 2, n), dtype)


def _rosen_colorings(n):
    i = np.arange(n)
    p = tridiagonal(n)
    return {"star": hvp_coloring(p, i % 3, "star"), "acyclic": hvp_coloring(p, i % 2, "acyclic")}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["matvec", "dense"])
@pytest.mark.parametrize("algorithm", ["star", "acyclic"])
def test_passes_on_correct_rosenbrock(dtype, method, algorithm):
    n = 100 if method == "matvec" else 40  # dense materializes jax.hessian
    coloring = _rosen_colorings(n)[algorithm]
    check_hessian_correctness(rosenbrock, _x(n, dtype), coloring, method=method)


@pytest.mark.parametrize("mode", HVP_MODES)
def test_float32_rosenbrock_random_points_never_false_alarm(mode):
    # The peer raises a false VerificationError here; rounding must never raise.
    colorings = _rosen_colorings(100)
    rng = np.random.default_rng(7)
    for trial in range(3):
        x = jnp.asarray(rng.uniform(-3, 3, 100) * rng.choice([0.1, 1.0, 5.0]), jnp.float32)
        for coloring in colorings.values():
            check_hessian_correctness(rosenbrock, x, coloring, mode=mode, seed=trial)


def _without_one_nonzero(p, i, j, algorithm):
    q = drop_entry(p, i, j)
    valid = is_star if algorithm == "star" else is_acyclic
    return hvp_coloring(q, greedy(q, valid, seed=1), algorithm)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["matvec", "dense"])
@pytest.mark.parametrize("algorithm", ["star", "acyclic"])
def test_raises_when_one_nonzero_is_missing(dtype, method, algorithm):
    coloring = _without_one_nonzero(tridiagonal(20), 11, 12, algorithm)
    with pytest.raises(VerificationError) as info:
        check_hessian_correctness(rosenbrock, _x(20, dtype), coloring, method=method)
    msg = str(info.value)
    assert "missing" in msg
    if method == "dense":
        assert "(11, 12)" in msg and "(12, 11)" in msg
    else:
        assert "probe" in msg and "rows" in msg


@pytest.mark.parametrize("dtype", DTYPES)
def test_grid_passes_and_catches_missing_neighbour(dtype):
    p = grid5(5, 5)
    u = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, (5, 5)), dtype)
    for colors, alg in [(grid5_star(5, 5), "star"), (grid5_acyclic(5, 5), "acyclic")]:
        good = hvp_coloring(p, colors, alg)
        check_hessian_correctness(
            grid_energy, u, good, method="dense" if alg == "star" else "matvec"
        )
    # own colors: valid for any pattern, so only the missing neighbour shows
    bad = hvp_coloring(drop_entry(p, 6, 7), np.arange(25), "star")
    with pytest.raises(VerificationError, match="missing"):
        check_hessian_correctness(grid_energy, u, bad)


def test_extra_structural_zeros_are_fine_and_reported_only_on_failure():
    # Dense pattern over-approximates the tridiagonal Hessian: passes silently.
    n = 8
    full = SparsityPattern.from_dense(np.ones((n, n)))
    coloring = hvp_coloring(full, np.arange(n), "star")
    x = _x(n, jnp.float64)
    check_hessian_correctness(rosenbrock, x, coloring, method="dense")
    # Missing one entry and over-approximating others: both are reported.
    q = drop_entry(full, 2, 3)
    bad = hvp_coloring(q, np.arange(n), "star")
    with pytest.raises(VerificationError, match="structural zeros") as info:
        check_hessian_correctness(rosenbrock, x, bad, method="dense")
    assert "(2, 3)" in str(info.value)


def test_custom_tolerances_and_arguments():
    coloring = _rosen_colorings(20)["star"]
    x = _x(20, jnp.float64)
    check_hessian_correctness(rosenbrock, x, coloring, num_probes=3, seed=5, rtol=1e-10, atol=0)
    with pytest.raises(ValueError, match="method"):
        check_hessian_correctness(rosenbrock, x, coloring, method="exact")
    with pytest.raises(ValueError, match="num_probes"):
        check_hessian_correctness(rosenbrock, x, coloring, num_probes=0)
    with pytest.raises(ValueError, match=r"\(7,\)"):
        check_hessian_correctness(rosenbrock, jnp.ones(7), coloring)


def stencil(x):
    return x[:-2] - 2 * x[1:-1] * x[2:] + jnp.sin(x[2:]) ** 2


def _jac_pattern(n):
    i = np.arange(n - 2)
    rows = np.r_[i, i, i]
    cols = np.r_[i, i + 1, i + 2]
    return SparsityPattern.from_coo(rows, cols, (n - 2, n))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["matvec", "dense"])
@pytest.mark.parametrize("which", ["JVP", "VJP"])
def test_jacobian_both_directions(dtype, method, which):
    n = 12
    p = _jac_pattern(n)
    colors = np.arange(n) % 3 if which == "JVP" else np.arange(n - 2) % 3
    good = ColoredPattern(p, colors, which, "column" if which == "JVP" else "row")
    x = _x(n, dtype)
    check_jacobian_correctness(stencil, x, good, method=method)
    # Drop J[4, 6]; own colors keep the remaining entries exact, so only the miss shows.
    keep = ~((p.rows == 4) & (p.cols == 6))
    q = SparsityPattern.from_coo(p.rows[keep], p.cols[keep], p.shape)
    size = n if which == "JVP" else n - 2
    bad = ColoredPattern(q, np.arange(size), which, "column" if which == "JVP" else "row")
    with pytest.raises(VerificationError, match="missing") as info:
        check_jacobian_correctness(stencil, x, bad, method=method)
    if method == "dense":
        assert "(4, 6)" in str(info.value)
