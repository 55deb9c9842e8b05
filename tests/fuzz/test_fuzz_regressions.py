"""Every failure the differential fuzzer found, as a named regression test.

Each test is the shrunk batch hypothesis printed (or the smallest program showing the same
bug), checked through the public API exactly as the fuzzer checks it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import asdex_pipe
from tests.fuzz.programs import Batch, Program, Step, check_batch


def test_reverse_jacobian_of_code_with_float64_constants():
    # jacobian(mode="rev") looked for complex outputs by tracing f at float32, and code that
    # mixes the input with float64 constants (a conv kernel here) failed there, although
    # detection itself traces at float64.
    check_batch(
        Batch(
            (Program(2, (Step("conv", (0, 0), (1, 0, 0, 0, 0, 0, 0, 0)),), (1,)),),
            jac_mode="rev",
        )
    )


def test_reverse_jacobian_of_a_float64_constant_conv_equals_jacfwd():
    kernel = jnp.asarray(np.array([1.0, 0.0, -2.0]))

    def f(x):
        return jax.lax.conv_general_dilated(
            x.reshape(1, 1, -1), kernel.reshape(1, 1, -1), (1,), [(1, 1)]
        ).ravel()

    x = jnp.asarray(np.linspace(-1.0, 1.0, 6))
    got = asdex_pipe.jacobian(f, 6, mode="rev", format="dense")(x)
    np.testing.assert_allclose(got, jax.jit(jax.jacfwd(f))(x), rtol=1e-12)
