"""Real and imaginary parts of complex intermediates and inputs: never an empty pattern
where plain JAX has nonzeros (issue 19: a peer's test reported one for ``jnp.imag``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import asdex_pipe
from tests.numerical import numerical_hessian_pattern, numerical_jacobian_pattern

SCALAR = {
    "imag_of_exp": lambda x: jnp.sum(jnp.imag(jnp.exp(1j * x)) ** 2),
    "real_of_fft": lambda x: jnp.sum(jnp.real(jnp.fft.fft(x)) ** 3),
    "imag_of_product": lambda x: jnp.imag(jnp.prod(x + 1j)),
    "angle": lambda x: jnp.sum(jnp.angle(x[:2] + 1j * x[2:])),
    "abs_squared": lambda x: jnp.sum(jnp.abs(x + 1j * x[::-1]) ** 2),
    "imag_of_square_sum": lambda x: jnp.imag(jnp.sum((x + 1j * jnp.roll(x, 1)) ** 2)),
    "imag_of_vdot": lambda x: jnp.imag(jnp.vdot(x + 1j, x[::-1] * 1j)),
    "imag_of_lax_complex": lambda x: jnp.imag(jax.lax.complex(x, x**2)).sum() ** 2,
}

VECTOR = {
    "imag_of_exp": lambda x: jnp.imag(jnp.exp(1j * x)),
    "real_of_exp": lambda x: jnp.real(jnp.exp(1j * x)),
    "imag_of_constant_product": lambda x: jnp.imag(x * (1 + 2j)),
    "imag_of_fft": lambda x: jnp.imag(jnp.fft.fft(x)),
    "imag_of_conj": lambda x: jnp.imag(jnp.conj(x * 1j)),
}


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_hessian_of_complex_parts_contains_numerical(name):
    f = SCALAR[name]
    detected = asdex_pipe.hessian_sparsity(f, 4).todense()
    missing = numerical_hessian_pattern(f, (4,)).todense() & ~detected
    assert not missing.any(), np.argwhere(missing)


@pytest.mark.parametrize("name", sorted(VECTOR))
def test_jacobian_of_complex_parts_contains_numerical(name):
    f = VECTOR[name]
    detected = asdex_pipe.jacobian_sparsity(f, 4).todense()
    missing = numerical_jacobian_pattern(f, (4,)).todense() & ~detected
    assert not missing.any(), np.argwhere(missing)


@pytest.mark.parametrize("part", [jnp.real, jnp.imag, jnp.abs])
def test_parts_of_a_complex_input_depend_on_it(part):
    z = (np.arange(4.0) + 1) + 1j * (np.arange(4.0) + 2)
    detected = asdex_pipe.jacobian_sparsity(part, z).todense()
    truth = np.abs(np.asarray(jax.jit(jax.jacrev(part))(z))) > 0
    assert not (truth & ~detected).any()
    assert detected.diagonal().all()
