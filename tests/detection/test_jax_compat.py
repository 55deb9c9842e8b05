"""Every name detection takes from JAX, exercised on the installed version.

When JAX moves one of them, these tests fail with the name, instead of detection
silently producing dense patterns.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jex_core

from asdex_pipe.detection import jax_compat


def test_unwrap_gives_constants_for_every_constvar():
    c = np.arange(3.0)
    closed = jax.make_jaxpr(lambda x: x * jnp.asarray(c) + 1.0)(np.ones(3))
    jaxpr, consts = jax_compat.unwrap(closed)
    assert len(consts) == len(jaxpr.constvars) >= 1
    assert any(np.array_equal(np.asarray(k), c) for k in consts)
    assert [e.primitive.name for e in jaxpr.eqns] == ["mul", "add"]
    literal = jaxpr.eqns[1].invars[1]
    assert jax_compat.is_literal(literal) and not jax_compat.is_literal(jaxpr.invars[0])


def test_nested_jaxprs_are_found_and_unwrapped():
    c = np.arange(3.0)

    def f(x):
        y = jax.jit(lambda z: jnp.sin(z) * c)(x)
        return jax.checkpoint(jnp.cos)(y)

    closed = jax.make_jaxpr(f)(np.ones(3))
    assert {"jit", "sin", "mul", "cos"} <= jax_compat.primitive_names(closed)
    (jit_eqn,) = [e for e in jax_compat.unwrap(closed)[0].eqns if e.primitive.name == "jit"]
    (sub,) = list(jax_compat.sub_jaxprs(jit_eqn.params))
    assert jax_compat.is_jaxpr(sub) and not jax_compat.is_jaxpr(c)
    # The called jaxpr as jit stores it is closed: one constant per constvar.
    jaxpr, consts = jax_compat.unwrap(jit_eqn.params["jaxpr"])
    assert len(consts) == len(jaxpr.constvars)
    assert [e.primitive.name for e in jaxpr.eqns] == ["sin", "mul"]


def test_dropvar_is_recognised():
    # JAX writes unused outputs of some transformed jaxprs as DropVar (printed "_").
    aval = jax.make_jaxpr(jnp.sin)(np.ones(3)).out_avals[0]
    assert jax_compat.is_dropvar(jex_core.DropVar(aval))
    assert not jax_compat.is_dropvar(jex_core.Var(aval))


def test_equation_as_function_applies_the_equation():
    closed = jax.make_jaxpr(lambda x, y: jax.lax.atan2(x, y))(np.ones(2), np.ones(2))
    (eqn,) = jax_compat.unwrap(closed)[0].eqns
    fn = jax_compat.equation_as_function(eqn)
    x, y = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    (out,) = fn(x, y)
    assert np.allclose(out, np.arctan2(x, y))
    (tangent,) = jax.jvp(fn, (x, y), (np.ones(2), np.zeros(2)))[1]
    assert np.allclose(tangent, y / (x**2 + y**2))


def test_installed_primitive_names_sees_lax_and_sparse():
    names = jax_compat.installed_primitive_names()
    assert {"sin", "dot_general", "scan", "while", "cond", "jit", "bcoo_dot_general"} <= names
