"""Public API: input forms, outputs, errors, warnings, provenance, and the headline cases."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.extend.core import Primitive

from asdex_pipe import hessian_sparsity, jacobian_sparsity
from asdex_pipe.detection import DETECTOR_VERSION, UnknownPrimitiveWarning
from asdex_pipe.detection.registry import RULES, RuleError, params, register
from tests.numerical import numerical_hessian_pattern
from tests.zoo import rosenbrock


def test_rosenbrock_100_has_298_nonzeros():
    p = hessian_sparsity(rosenbrock, 100)
    assert p.shape == (100, 100) and p.nnz == 298
    assert p.provenance["detector"] == DETECTOR_VERSION
    assert isinstance(DETECTOR_VERSION, str) and DETECTOR_VERSION


def test_input_shape_forms_agree():
    f = lambda x: jnp.sum(x[1:] * x[:-1])  # noqa: E731
    a = hessian_sparsity(f, 6)
    assert a == hessian_sparsity(f, (6,))
    assert a == hessian_sparsity(f, np.zeros(6))
    assert a == hessian_sparsity(f, (6,), dtype=jnp.float64)


def test_multidim_input_and_scalar_output_shape():
    p = jacobian_sparsity(lambda u: jnp.sum(u**2), (2, 3))
    assert p.shape == (1, 6) and p.nnz == 6


def test_pytree_outputs_are_flattened_and_concatenated():
    def f(x):
        return {"a": x[:2] * x[2:4], "b": jnp.sum(x)}

    p = jacobian_sparsity(f, 4)
    ref = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 1]], dtype=bool)
    assert (p.todense() == ref).all()


def test_hessian_of_non_scalar_function_is_rejected_with_shape():
    with pytest.raises(ValueError, match=r"scalar-valued.*\(3,\)"):
        hessian_sparsity(lambda x: x**2, 3)


@pytest.mark.parametrize(
    "f, shape, match",
    [
        (42, 3, "callable"),
        (jnp.sin, -1, "non-negative"),
        (jnp.sin, (2, 1.5), "integers"),
        (jnp.sin, "abc", "integers"),
        (jnp.sin, object(), "input_shape"),
    ],
)
def test_bad_input_raises_value_error(f, shape, match):
    with pytest.raises(ValueError, match=match):
        jacobian_sparsity(f, shape)


def test_hessian_rejects_integer_dtype():
    with pytest.raises(ValueError, match="floating"):
        hessian_sparsity(lambda x: jnp.sum(x), 3, dtype=jnp.int32)


def _mystery_primitive(impl):
    prim = Primitive(f"mystery_op_for_tests_{impl.__name__}")
    prim.def_impl(impl)
    prim.def_abstract_eval(lambda x: jax.core.ShapedArray(x.shape, x.dtype))
    return prim


def _host_only(x):
    # Only works on concrete arrays, so it cannot be traced into a jaxpr.
    return jnp.asarray(np.asarray(x)[::-1] * 2)


def _traceable(x):
    return x[::-1] * 2


def _bind_twice(prim):
    def f(x):
        y = prim.bind(x[:3]) + prim.bind(x[:3] * 2)
        return jnp.concatenate([y, x[3:] ** 2])

    return f


def test_unknown_primitive_warns_once_and_is_conservative():
    prim = _mystery_primitive(_host_only)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        p = jacobian_sparsity(_bind_twice(prim), 5)
    hits = [w for w in rec if issubclass(w.category, UnknownPrimitiveWarning)]
    assert len(hits) == 1 and prim.name in str(hits[0].message)
    ref = np.zeros((5, 5), dtype=bool)
    ref[:3, :3] = True  # conservative inside the unknown op ...
    ref[3, 3] = ref[4, 4] = True  # ... but the rest stays exact
    assert (p.todense() == ref).all()


def test_unknown_primitive_with_traceable_impl_is_exact_and_silent():
    prim = _mystery_primitive(_traceable)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        p = jacobian_sparsity(_bind_twice(prim), 5)
    ref = np.zeros((5, 5), dtype=bool)
    ref[[0, 1, 2], [2, 1, 0]] = True  # reversed: y[i] depends on x[2 - i] only
    ref[3, 3] = ref[4, 4] = True
    assert (p.todense() == ref).all()


def test_integer_and_boolean_outputs_have_no_dependencies():
    p = jacobian_sparsity(lambda x: jnp.argsort(x).astype(jnp.float32), 4)
    assert p.nnz == 0


@pytest.mark.slow
def test_million_rosenbrock_runs():
    p = hessian_sparsity(rosenbrock, 10**6)
    assert p.nnz == 3 * 10**6 - 2


def test_rule_that_misses_a_parameter_falls_back_conservatively(monkeypatch):
    # What a primitive whose parameters changed in another jax version looks like to
    # its rule (scan lost num_consts/num_carry in jax 0.11).
    def outdated_rule(eqn, invals, ctx):
        return params(eqn, "num_carry")

    monkeypatch.setitem(RULES, "cumsum", outdated_rule)

    def f(x):
        return jnp.concatenate([jnp.cumsum(x[:3]), x[3:] ** 2])

    with pytest.warns(UnknownPrimitiveWarning, match="does not understand the parameters"):
        p = jacobian_sparsity(jax.jit(f), 5)
    ref = np.zeros((5, 5), dtype=bool)
    ref[:3, :3] = True
    ref[3, 3] = ref[4, 4] = True
    assert (p.todense() == ref).all()


def _buggy_rule(eqn, invals, ctx):
    return {}["a bug, not a parameter layout"]


def test_a_bug_inside_a_nested_jaxpr_raises_instead_of_going_dense(monkeypatch):
    monkeypatch.setitem(RULES, "cumsum", _buggy_rule)

    @jax.jit
    def f(x):
        return jax.jit(lambda y: jnp.cumsum(y) * 2)(x)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownPrimitiveWarning)
        with pytest.raises(KeyError, match="a bug"):
            jacobian_sparsity(f, 5)


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda eqn, invals, ctx: [], "returned 0 results for 1 outputs"),
        (lambda eqn, invals, ctx: [invals[0], invals[0]], "returned 2 results"),
        (lambda eqn, invals, ctx: [invals[0].with_shape((5,))], r"shape \(5,\) for output 0"),
        (lambda eqn, invals, ctx: invals[0], "returned Deps"),
    ],
)
def test_rule_results_are_checked(monkeypatch, wrong, match):
    monkeypatch.setitem(RULES, "cumsum", wrong)
    with pytest.raises(RuleError, match=match):
        jacobian_sparsity(lambda x: jnp.cumsum(x.reshape(5, 1), axis=0), 5)


def test_registering_a_name_twice_raises():
    with pytest.raises(ValueError, match="already has the rule"):
        register("sin")(_buggy_rule)
    assert RULES["sin"] is not _buggy_rule


@pytest.mark.parametrize("low", [jnp.bfloat16, jnp.float8_e4m3fn])
def test_low_precision_floats_carry_dependencies(low):
    def f(x):
        return (x.astype(low) * x[::-1].astype(low)).astype(jnp.float32)

    expected = np.eye(6, dtype=bool) | np.eye(6, dtype=bool)[::-1]
    assert (jacobian_sparsity(f, 6).todense() == expected).all()


def test_bfloat16_input_dtype_is_accepted():
    p = hessian_sparsity(lambda x: jnp.sum(x * x[::-1]), 4, dtype=jnp.bfloat16)
    assert (p.todense() == np.eye(4, dtype=bool)[::-1]).all()
    assert jacobian_sparsity(lambda x: 2 * x, 4, dtype=jnp.bfloat16).nnz == 4


def test_tiny_constants_do_not_underflow_by_default():
    # 1e-50 is zero in float32; a float64 user still has a nonzero Hessian.
    p = hessian_sparsity(lambda x: jnp.sum(x**2 * 1e-50 * jnp.roll(x, 1)), 5)
    ref = numerical_hessian_pattern(lambda x: jnp.sum(x**2 * 1e-50 * jnp.roll(x, 1)), (5,))
    assert ref.nnz > 0 and (p.todense() >= ref.todense()).all()


def test_float32_only_code_is_traced_at_float32():
    w = jnp.arange(1.0, 5.0, dtype=jnp.float32)

    def f(x):
        return jax.lax.mul(x, w)  # lax insists on equal dtypes: fails at float64

    assert (jacobian_sparsity(f, 4).todense() == np.eye(4, dtype=bool)).all()


def test_float64_constants_in_lax_ops_trace_by_default():
    # lax.conv insists on equal dtypes: a float64 kernel needs a float64 trace.
    kernel = np.ones((1, 1, 3, 3))

    def f(u):
        return jnp.sum(jax.lax.conv(u, kernel, (1, 1), "SAME") ** 2)

    with jax.enable_x64(True):
        p = hessian_sparsity(f, (1, 1, 4, 4))
    ref = numerical_hessian_pattern(f, (1, 1, 4, 4))
    assert ref.nnz > 0 and (p.todense() >= ref.todense()).all()
