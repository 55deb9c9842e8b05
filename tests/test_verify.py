"""check_hessian_correctness / check_jacobian_correctness in both directions."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import asdex_pipe.verify as verify_module
from asdex_pipe import jacobian_from_coloring
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
SLOW = pytest.mark.slow


def _half(grid):
    """The product of two-valued parameters (lists of ``(value, id)``): the half whose value
    indices sum to an even number runs by default, the other half is ``slow``. Every value
    of each parameter, and every pair of values of two parameters, still runs by default."""
    params = []
    for combo in itertools.product(*[list(enumerate(axis)) for axis in grid]):
        values = [v for _, (v, _) in combo]
        ids = "-".join(name for _, (_, name) in combo)
        marks = () if sum(i for i, _ in combo) % 2 == 0 else SLOW
        params.append(pytest.param(*values, id=ids, marks=marks))
    return params


_ALGORITHMS = [("star", "star"), ("acyclic", "acyclic")]
_METHODS = [("matvec", "matvec"), ("dense", "dense")]
_DTYPES = [(jnp.float64, "float64"), (jnp.float32, "float32")]


def _x(n, dtype, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(-2, 2, n), dtype)


def _rosen_colorings(n):
    i = np.arange(n)
    p = tridiagonal(n)
    return {"star": hvp_coloring(p, i % 3, "star"), "acyclic": hvp_coloring(p, i % 2, "acyclic")}


@pytest.mark.parametrize("algorithm, method, dtype", _half([_ALGORITHMS, _METHODS, _DTYPES]))
def test_passes_on_correct_rosenbrock(dtype, method, algorithm):
    n = 100 if method == "matvec" else 40  # dense materializes jax.hessian
    coloring = _rosen_colorings(n)[algorithm]
    check_hessian_correctness(rosenbrock, _x(n, dtype), coloring, method=method)


# fwd_over_rev (the default mode) by default; the other modes round differently and are slow.
@pytest.mark.parametrize(
    "mode", [pytest.param(m, marks=() if i == 0 else SLOW) for i, m in enumerate(HVP_MODES)]
)
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


@pytest.mark.parametrize("algorithm, method, dtype", _half([_ALGORITHMS, _METHODS, _DTYPES]))
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


def _forbidden(*args, **kwargs):
    raise AssertionError("no AD work may happen before the arguments are validated")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rtol": -1.0}, "rtol"),
        ({"rtol": float("nan")}, "rtol"),
        ({"rtol": "tight"}, "rtol"),
        ({"atol": -1e-12}, "atol"),
        ({"atol": float("inf")}, "atol"),
        ({"num_probes": 0}, "num_probes"),
        ({"num_probes": -3}, "num_probes"),
        ({"num_probes": 2.5}, "num_probes"),
        ({"num_probes": True}, "num_probes"),
        ({"method": "exact"}, "method"),
    ],
)
def test_bad_arguments_raise_before_any_work(monkeypatch, kwargs, match):
    monkeypatch.setattr(verify_module, "hessian_from_coloring", _forbidden)
    monkeypatch.setattr(verify_module, "jacobian_from_coloring", _forbidden)
    hess = _rosen_colorings(6)["star"]
    x = _x(6, jnp.float64)
    with pytest.raises(ValueError, match=match):
        check_hessian_correctness(rosenbrock, x, hess, **kwargs)
    jac = ColoredPattern(_jac_pattern(6), np.arange(6) % 3, "JVP", "column")
    with pytest.raises(ValueError, match=match):
        check_jacobian_correctness(stencil, x, jac, **kwargs)
    with pytest.raises(ValueError, match="mode"):
        check_hessian_correctness(rosenbrock, x, hess, mode="fwd_over_fwd")


@pytest.mark.parametrize("method", ["matvec", "dense"])
def test_empty_inputs_have_nothing_to_verify(method):
    empty = SparsityPattern.from_coo(np.zeros(0, int), np.zeros(0, int), (0, 0))
    hess = hvp_coloring(empty, np.zeros(0, int), "star")
    x = jnp.zeros(0)
    check_hessian_correctness(lambda y: jnp.sum(y**2), x, hess, method=method)
    jac = ColoredPattern(empty, np.zeros(0, int), "JVP", "column")
    check_jacobian_correctness(jnp.sin, x, jac, method=method)
    # m = 0 outputs of n = 3 inputs
    no_rows = SparsityPattern.from_coo(np.zeros(0, int), np.zeros(0, int), (0, 3))
    jac = ColoredPattern(no_rows, np.zeros(3, int), "JVP", "column")
    check_jacobian_correctness(lambda y: y[:0], jnp.ones(3), jac, method=method)


def _self_attention_case():
    # The tester's repro: a correct, fully dense 20 x 20 Hessian whose HVPs differ from
    # sparse H @ v by ~2e-13 on entries of ~0.1 because of cancellation inside softmax;
    # the old purely entry-wise tolerance raised at this point (seed 8).
    rng = np.random.default_rng(42)
    wq, wk, wv = (rng.normal(size=(4, 4)) for _ in range(3))

    def self_attention(x):
        q, k, v = x @ wq, x @ wk, x @ wv
        a = jax.nn.softmax(q @ k.T / 2.0, axis=-1)
        return jnp.sum((a @ v) ** 2)

    x = jnp.asarray(0.7 * np.random.default_rng(8).normal(size=(5, 4)))
    full = SparsityPattern.from_dense(np.ones((20, 20)))
    return self_attention, x, full


def test_rounding_from_cancellation_is_not_a_failure():
    f, x, full = _self_attention_case()
    check_hessian_correctness(f, x, hvp_coloring(full, np.arange(20), "star"))
    # still sharp: drop one entry of the dense Hessian
    i, j = 6, 13
    e_j = jnp.zeros(20).at[j].set(1.0).reshape(5, 4)
    column = np.asarray(jax.jit(lambda t: jax.jvp(jax.grad(f), (x,), (t,))[1])(e_j)).ravel()
    assert abs(column[i]) > 1e-2 * np.abs(column).max()
    bad = hvp_coloring(drop_entry(full, i, j), np.arange(20), "star")
    with pytest.raises(VerificationError, match="missing"):
        check_hessian_correctness(f, x, bad)


def _weighted_with_small_coupling(relative):
    # Diagonal Hessian with entries in [1, 2] plus one symmetric coupling H[3, 9] of
    # `relative` times the largest entry.
    d = jnp.linspace(1.0, 2.0, 12)

    def f(x):
        return 0.5 * jnp.sum(d * x**2) + 2.0 * relative * x[3] * x[9] + jnp.sum(jnp.cos(x))

    return f


@pytest.mark.parametrize("method", ["matvec", "dense"])
@pytest.mark.parametrize("relative", [1e-6, 1e-10])
def test_small_missing_entry_is_caught_in_float64(method, relative):
    # The norm-wise allowance is ~128 (1 + sqrt(k)) eps times the largest row scale, about
    # 1e-13 relative here, so couplings far above that must be reported.
    f = _weighted_with_small_coupling(relative)
    x = _x(12, jnp.float64)
    h = np.asarray(jax.jit(jax.hessian(f))(x))
    assert np.isclose(abs(h[3, 9]) / np.abs(h).max(), relative, rtol=0.5)
    diag = SparsityPattern.from_coo(np.arange(12), np.arange(12), (12, 12))
    with_entry = SparsityPattern.from_coo(
        np.r_[np.arange(12), 3, 9], np.r_[np.arange(12), 9, 3], (12, 12)
    )
    check_hessian_correctness(f, x, hvp_coloring(with_entry, np.arange(12), "star"), method=method)
    with pytest.raises(VerificationError, match="missing") as info:
        check_hessian_correctness(f, x, hvp_coloring(diag, np.arange(12), "star"), method=method)
    if method == "dense":
        assert "(3, 9)" in str(info.value) and "(9, 3)" in str(info.value)


def _with_nan_at(entry):
    """Wrap hessian_from_coloring so one stored value becomes NaN (a faulty decompression)."""
    real = verify_module.hessian_from_coloring

    def faulty(*args, **kwargs):
        evaluate = real(*args, **kwargs)

        def run(x):
            h = evaluate(x)
            return type(h)((h.data.at[entry].set(jnp.nan), h.indices), shape=h.shape)

        return run

    return faulty


@pytest.mark.parametrize("method", ["matvec", "dense"])
def test_nan_where_the_reference_is_finite_fails(monkeypatch, method):
    coloring = _rosen_colorings(10)["star"]
    x = _x(10, jnp.float64)
    check_hessian_correctness(rosenbrock, x, coloring, method=method)
    monkeypatch.setattr(verify_module, "hessian_from_coloring", _with_nan_at(4))
    with pytest.raises(VerificationError, match="finite on one side"):
        check_hessian_correctness(rosenbrock, x, coloring, method=method)


def test_nonfinite_hessians_agree_only_where_both_are_nonfinite():
    # x[3] = inf: rows 2..4 of the Hessian are non-finite. Star decompression reads each
    # entry from its own product, so its NaN/inf sit exactly where jax.hessian's do:
    # agreement. Substitution (acyclic) propagates them along the tree into entries that
    # jax.hessian keeps finite: failure (before, NaN compared as "equal" and passed).
    x = _x(10, jnp.float64).at[3].set(jnp.inf)
    colorings = _rosen_colorings(10)
    check_hessian_correctness(rosenbrock, x, colorings["star"])
    for method in ("matvec", "dense"):
        with pytest.raises(VerificationError, match="finite on one side"):
            check_hessian_correctness(rosenbrock, x, colorings["acyclic"], method=method)
    # jax.hessian itself puts NaN (0 * inf) outside the pattern in rows 2..4, which the
    # entry-wise dense method reports, and says why.
    with pytest.raises(VerificationError, match=r"0 \* inf"):
        check_hessian_correctness(rosenbrock, x, colorings["star"], method="dense")


def stencil(x):
    return x[:-2] - 2 * x[1:-1] * x[2:] + jnp.sin(x[2:]) ** 2


def _jac_pattern(n):
    i = np.arange(n - 2)
    rows = np.r_[i, i, i]
    cols = np.r_[i, i + 1, i + 2]
    return SparsityPattern.from_coo(rows, cols, (n - 2, n))


@pytest.mark.parametrize(
    "which, method, dtype", _half([[("JVP", "JVP"), ("VJP", "VJP")], _METHODS, _DTYPES])
)
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


def complex_stencil(x):
    return jnp.exp(1j * x[:-2]) * x[1:-1] + (2.0 - 1j) * jnp.sin(x[2:]) ** 2


@pytest.mark.parametrize("method", ["matvec", "dense"])
def test_complex_jacobian_compares_imaginary_parts(monkeypatch, method):
    n = 12
    good = ColoredPattern(_jac_pattern(n), np.arange(n) % 3, "JVP", "column")
    x = _x(n, jnp.float64)
    jac = jacobian_from_coloring(complex_stencil, good, format="dense")(x)
    assert np.abs(np.imag(jac)).max() > 0.1  # really complex
    check_jacobian_correctness(complex_stencil, x, good, method=method)

    # Same real parts, conjugated imaginary parts: must be rejected.
    real = verify_module.jacobian_from_coloring

    def conjugated(*args, **kwargs):
        evaluate = real(*args, **kwargs)

        def run(y):
            j = evaluate(y)
            return type(j)((jnp.conj(j.data), j.indices), shape=j.shape)

        return run

    monkeypatch.setattr(verify_module, "jacobian_from_coloring", conjugated)
    with pytest.raises(VerificationError):
        check_jacobian_correctness(complex_stencil, x, good, method=method)
