"""The front door: pytree arguments, argnums, has_aux, keyword data, ShapeDtypeStruct inputs.

Every form is compared with ``jax.hessian`` / ``jax.jacobian`` on values and on the block
structure (same treedef, same block shapes), through the public entry points.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from asdex_pipe import (
    ColoredPattern,
    check_hessian_correctness,
    check_jacobian_correctness,
    hessian,
    hessian_coloring,
    hessian_from_coloring,
    hessian_sparsity,
    hvp,
    jacobian,
    jacobian_coloring,
    jacobian_from_coloring,
    jacobian_sparsity,
    value_and_hessian,
    value_and_jacobian,
)
from asdex_pipe.differentiation import HVP_MODES
from tests.differentiation.helpers import to_dense

RNG = np.random.default_rng(0)


def _a(*shape):
    return jnp.asarray(RNG.uniform(-1, 1, shape))


def _same_blocks(ours, ref, rtol=1e-10):
    """Same treedef, same block shapes, same values (blocks densified)."""
    leaves, tree = jax.tree.flatten(ours, is_leaf=lambda a: hasattr(a, "todense"))
    ref_leaves, ref_tree = jax.tree.flatten(ref)
    assert tree == ref_tree
    for a, b in zip(leaves, ref_leaves, strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_dense(a), np.asarray(b), rtol=rtol, atol=1e-12)


# ---------------------------------------------------------------- functions
def loss_dict(p):
    w, b = p["w"], p["b"]
    return jnp.sum(w[1:] * w[:-1] ** 2) + jnp.sum(jnp.sin(b) * w[0]) + jnp.sum(b**4)


def loss_nested(p):
    (u, v), c = p["pair"], p["c"]
    return jnp.sum(u**3 * v[:, 0]) + jnp.sum(v**2) * c[0] + jnp.sum(jnp.cos(c))


def energy(u, v, mesh_w):
    return jnp.sum(mesh_w * (u[1:] - u[:-1]) ** 2 * v[:-1]) + jnp.sum(v**3)


def with_kw(x, *, temperature, shift):
    return jnp.sum(jnp.exp(x / temperature) * x[::-1]) + jnp.sum((x - shift) ** 4)


def with_aux(p):
    value = jnp.sum(p["a"] ** 2 * p["b"][0]) + jnp.sum(p["b"] ** 3)
    return value, {"norm": jnp.sum(p["a"] ** 2), "tag": p["b"] * 2}


PARAMS = {"w": _a(5), "b": _a(2, 2)}
NESTED = {"pair": (_a(3), _a(3, 2)), "c": _a(2)}
U, V, W = _a(6), _a(6), _a(5)
X = _a(4)
KW = {"temperature": jnp.asarray(1.7), "shift": _a(4)}
AUX_P = {"a": _a(3), "b": _a(2)}

CASES = {
    "dict": (loss_dict, (PARAMS,), {}, 0, False),
    "nested": (loss_nested, (NESTED,), {}, 0, False),
    "argnums01": (energy, (U, V, W), {}, (0, 1), False),
    "argnums1": (energy, (U, V, W), {}, 1, False),
    "kwargs": (with_kw, (X,), KW, 0, False),
    "has_aux": (with_aux, (AUX_P,), {}, 0, True),
}


@functools.cache
def _hessian_ref(case):
    """``jax.hessian`` of a case at its arguments, jitted (one program instead of op-by-op
    dispatch) and computed once for all modes and algorithms."""
    f, args, kwargs, argnums, has_aux = CASES[case]
    return jax.jit(jax.hessian(f, argnums=argnums, has_aux=has_aux))(*args, **kwargs)


def _shape_structs(tree):
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), tree)


def _forms_grid():
    """Every form × mode × algorithm. The default run takes half: each form in every mode,
    the algorithm alternating, so each form and each mode meets both algorithms; the other
    half is ``slow``."""
    return [
        pytest.param(
            case, mode, algorithm, id=f"{algorithm}-{mode}-{case}",
            marks=() if (i + j + k) % 2 == 0 else pytest.mark.slow,
        )
        for k, algorithm in enumerate(["star", "acyclic"])
        for j, mode in enumerate(HVP_MODES)
        for i, case in enumerate(CASES)
    ]  # fmt: skip


@pytest.mark.parametrize("case, mode, algorithm", _forms_grid())
def test_hessian_forms_match_jax_hessian(case, mode, algorithm):
    f, args, kwargs, argnums, has_aux = CASES[case]
    fn = hessian(
        f, args=args, kwargs=kwargs, argnums=argnums, has_aux=has_aux,
        mode=mode, algorithm=algorithm,
    )  # fmt: skip
    ours = fn(*args, **kwargs)
    ref = _hessian_ref(case)
    if has_aux:
        (ours, aux), (ref, ref_aux) = ours, ref
        _same_blocks(aux, ref_aux)
    _same_blocks(ours, ref)


@pytest.mark.parametrize("case", ["dict", "argnums01", "kwargs"])
def test_shape_dtype_struct_inputs_and_dense_blocks(case):
    f, args, kwargs, argnums, _ = CASES[case]
    fn = hessian(
        f, args=_shape_structs(args), kwargs=_shape_structs(kwargs), argnums=argnums,
        format="dense",
    )  # fmt: skip
    ref = jax.jit(jax.hessian(f, argnums=argnums))(*args, **kwargs)
    _same_blocks(fn(*args, **kwargs), ref)
    _same_blocks(jax.jit(fn)(*args, **kwargs), ref)


def test_flat_view_and_unravel():
    fn = hessian(loss_dict, args=(PARAMS,), structure="flat", format="dense")
    h = fn(PARAMS)
    flat, unravel = ravel_pytree(PARAMS)
    ref = jax.jit(jax.hessian(lambda z: loss_dict(unravel(z))))(flat)
    np.testing.assert_allclose(h, ref, rtol=1e-10, atol=1e-12)
    back = fn.unravel(flat)
    assert jax.tree.structure(back) == jax.tree.structure(PARAMS)
    np.testing.assert_allclose(back["b"], PARAMS["b"])
    values = hessian(loss_dict, args=(PARAMS,), format="values")(PARAMS)
    s = fn.coloring.sparsity
    np.testing.assert_allclose(values, np.asarray(ref)[s.rows, s.cols], rtol=1e-10)


def test_value_and_hessian_with_aux():
    f, args = with_aux, (AUX_P,)
    (value, aux), h = value_and_hessian(f, args=args, has_aux=True)(*args)
    ref_value, ref_aux = f(*args)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    _same_blocks(aux, ref_aux)
    _same_blocks(h, _hessian_ref("has_aux")[0])


JAC_CASES = {
    "dict": (lambda p: {"y": p["w"][1:] * p["w"][:-1], "z": jnp.sin(p["b"]) * p["w"][0]},
             (PARAMS,), {}, 0, False),
    "argnums01": (lambda u, v, w: (u[1:] - u[:-1]) * v[:-1] * w, (U, V, W), {}, (0, 1), False),
    "argnums1": (lambda u, v, w: jnp.cumsum(v) * u, (U, V, W), {}, 1, False),
    "kwargs": (lambda x, *, temperature, shift: x[::-1] * temperature + shift,
               (X,), KW, 0, False),
    "has_aux": (lambda p: (p["a"] * p["b"][0], p["b"].sum()), (AUX_P,), {}, 0, True),
}  # fmt: skip


# Each form in one mode by default, the mode alternating (so both run); the rest are slow.
@pytest.mark.parametrize(
    "case, mode",
    [
        pytest.param(
            case, mode, id=f"{mode}-{case}", marks=() if (i + j) % 2 == 0 else pytest.mark.slow
        )
        for j, mode in enumerate(["fwd", "rev"])
        for i, case in enumerate(JAC_CASES)
    ],
)
def test_jacobian_forms_match_jax_jacobian(case, mode):
    f, args, kwargs, argnums, has_aux = JAC_CASES[case]
    fn = jacobian(f, args=args, kwargs=kwargs, argnums=argnums, has_aux=has_aux, mode=mode)
    ours = fn(*args, **kwargs)
    ref = jax.jit(jax.jacobian(f, argnums=argnums, has_aux=has_aux))(*args, **kwargs)
    if has_aux:
        (ours, aux), (ref, ref_aux) = ours, ref
        np.testing.assert_allclose(aux, ref_aux)
    _same_blocks(ours, ref)
    value, _ = value_and_jacobian(f, args=args, kwargs=kwargs, argnums=argnums)(*args, **kwargs)
    if not has_aux:
        _same_blocks(value, f(*args, **kwargs))


def test_sparsity_and_coloring_entry_points_take_pytrees():
    p = hessian_sparsity(energy, args=(U, V, W), argnums=(0, 1))
    assert p.shape == (12, 12)
    dense = np.abs(
        np.asarray(jax.jit(jax.hessian(lambda z: energy(z[:6], z[6:], W)))(jnp.concatenate([U, V])))
    )
    assert np.all(p.todense()[dense > 0])  # detected ⊇ numerical
    j = jacobian_sparsity(JAC_CASES["argnums1"][0], args=(U, V, W), argnums=1)
    assert j.shape == (6, 6) and j.nnz == 21  # cumsum: lower triangle
    record = hessian_coloring(loss_dict, args=(PARAMS,)).sparsity.provenance["input_structure"]
    assert record["leaves"] == [[[2, 2], "float64"], [[5], "float64"]]
    assert "PyTreeDef" in record["treedef"]
    assert jacobian_coloring(JAC_CASES["dict"][0], args=(PARAMS,)).shape == (8, 9)


# ---------------------------------------------------------------- data are unknowns
def masked(x, mask):
    # With an all-False sample mask, treating the mask as a constant would drop x**2's
    # diagonal: the pattern must hold for every mask.
    return jnp.sum(jnp.where(mask, x**2 * x[0], x)) + jnp.sum(x[1:] * x[:-1])


def test_pattern_is_global_over_data_arguments():
    x = _a(6)
    off, on = jnp.zeros(6, bool), jnp.ones(6, bool)
    p_off = hessian_sparsity(masked, args=(x, off))
    p_on = hessian_sparsity(masked, args=(x, on))
    assert p_off == p_on
    assert all(p_off.todense()[i, i] for i in range(6))  # only right for mask=True
    # The coloring built from the all-False sample gives correct Hessians for any mask.
    fn = hessian(masked, args=(x, off), format="dense")
    for mask in (off, on, jnp.arange(6) % 2 == 0):
        np.testing.assert_allclose(fn(x, mask), jax.jit(jax.hessian(masked))(x, mask), rtol=1e-12)


def weighted(x, w):
    return jnp.sum(w * x[1:] * x[:-1]) + jnp.sum(x**4)


def test_float_data_same_pattern_for_two_values():
    x = _a(7)
    zero, ones = jnp.zeros(6), jnp.ones(6)
    assert hessian_sparsity(weighted, args=(x, zero)) == hessian_sparsity(weighted, args=(x, ones))
    assert hessian_sparsity(weighted, args=(x, zero)).nnz == 7 + 2 * 6
    fn = hessian(weighted, args=(x, zero))
    np.testing.assert_allclose(
        to_dense(fn(x, ones)), jax.jit(jax.hessian(weighted))(x, ones), rtol=1e-12
    )


def gathered(x, idx):
    return jnp.sum(x[idx] ** 2 * x[0]) + jnp.sum(x**2)


def test_integer_data_driving_indexing_is_conservative():
    x = _a(5)
    fn = hessian(gathered, args=(x, jnp.array([1, 1])), format="dense")
    for idx in (jnp.array([1, 1]), jnp.array([3, 4]), jnp.array([0, 2])):
        np.testing.assert_allclose(fn(x, idx), jax.jit(jax.hessian(gathered))(x, idx), rtol=1e-12)


# ---------------------------------------------------------------- artifacts
def test_loaded_coloring_is_checked_against_the_inputs(tmp_path):
    coloring = hessian_coloring(energy, args=(U, V, W), argnums=(0, 1))
    coloring.save(tmp_path / "c.npz")
    loaded = ColoredPattern.load(tmp_path / "c.npz")
    assert loaded.sparsity.provenance["input_structure"]["argnums"] == [0, 1]
    fn = hessian_from_coloring(energy, loaded)
    _same_blocks(fn(U, V, W), jax.jit(jax.hessian(energy, argnums=(0, 1)))(U, V, W))
    with pytest.raises(ValueError, match="leaves"):
        hessian_from_coloring(energy, loaded)(_a(7), _a(7), _a(6))
    with pytest.raises(ValueError, match="names argument 1"):
        hessian_from_coloring(loss_dict, loaded)({"w": U, "b": V})
    with pytest.raises(ValueError, match="treedef"):
        hessian_from_coloring(energy, loaded)({"w": U}, V, W)
    with pytest.raises(ValueError, match="leaves"):
        hessian_from_coloring(energy, loaded, args=(_a(3), _a(9), W), argnums=(0, 1))
    same = hessian_from_coloring(energy, loaded, args=_shape_structs((U, V, W)), argnums=(0, 1))
    _same_blocks(same(U, V, W), jax.jit(jax.hessian(energy, argnums=(0, 1)))(U, V, W))
    with pytest.raises(ValueError, match="shape"):
        same(U, _a(5), W)


# ---------------------------------------------------------------- errors before work
def _untraceable(*args, **kwargs):
    raise AssertionError("f must not be traced before the arguments are checked")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"args": (U, V), "argnums": 2}, "names argument 2"),
        ({"args": (U, V), "argnums": (0, 0)}, "repeats"),
        ({"args": (U, V), "argnums": ()}, "non-empty"),
        ({"args": ({"a": U, "b": "text"},)}, r"\['b'\] is a str"),
        ({"args": ({"a": U, "i": jnp.arange(3)},)}, "floating-point"),
        ({"args": (U,), "input_shape": 6}, "not both"),
    ],
)
def test_bad_inputs_fail_before_tracing(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hessian(_untraceable, **kwargs)


def test_has_aux_without_a_pair_and_wrong_calls():
    with pytest.raises(ValueError, match="pair"):
        hessian(lambda p: jnp.sum(p["w"] ** 2), args=(PARAMS,), has_aux=True)
    fn = hessian(loss_dict, args=(PARAMS,))
    with pytest.raises(ValueError, match="structure"):
        fn({"w": PARAMS["w"]})
    with pytest.raises(ValueError, match="shape"):
        fn({"w": _a(6), "b": PARAMS["b"]})
    with pytest.raises(ValueError, match="positional"):
        fn(PARAMS, PARAMS)


# ---------------------------------------------------------------- hvp and verification
def test_hvp_and_checks_take_the_same_forms():
    v = (_a(6), _a(6))
    ours = hvp(energy, v=v, args=(U, V, W), argnums=(0, 1), mode="rev_over_fwd")
    grad = jax.grad(energy, argnums=(0, 1))
    ref = jax.jit(lambda t: jax.jvp(lambda a, b: grad(a, b, W), (U, V), t)[1])(v)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    tree_v = jax.tree.map(jnp.ones_like, PARAMS)
    tree_hv = hvp(loss_dict, PARAMS, tree_v)
    assert jax.tree.structure(tree_hv) == jax.tree.structure(PARAMS)
    coloring = hessian_coloring(energy, args=(U, V, W), argnums=(0, 1))
    check_hessian_correctness(energy, None, coloring, args=(U, V, W), argnums=(0, 1))
    jc = jacobian_coloring(JAC_CASES["dict"][0], args=(PARAMS,))
    check_jacobian_correctness(JAC_CASES["dict"][0], PARAMS, jc, method="dense")
    jf = jacobian_from_coloring(JAC_CASES["dict"][0], jc)
    _same_blocks(jf(PARAMS), jax.jit(jax.jacobian(JAC_CASES["dict"][0]))(PARAMS))
