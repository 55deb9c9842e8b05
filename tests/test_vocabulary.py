"""One vocabulary: the same choices everywhere, and one meaning of "scalar output"."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe import (
    hessian,
    hessian_sparsity,
    hutchinson_diagonal,
    hvp,
    minimize_trust_ncg,
)
from asdex_pipe import vocabulary as V
from asdex_pipe.coloring.orders import ORDERS as COLORING_ORDERS
from asdex_pipe.pipeline import schema


def test_the_algorithm_table_agrees_with_the_vocabulary():
    # One list of names: the table's keys, and what each offers, come from vocabulary.py.
    from pathlib import Path

    from asdex_pipe.coloring.algorithms import ALGORITHMS as TABLE

    assert tuple(TABLE) == V.COLORING_ALGORITHMS
    assert tuple(n for n, e in TABLE.items() if e.symmetric) == V.SYMMETRIC_ALGORITHMS
    assert tuple(n for n, e in TABLE.items() if e.for_hvps) == V.ALGORITHMS
    jacobian = {e.jacobian_mode for e in TABLE.values() if e.jacobian_mode}
    assert jacobian | {"auto"} == set(V.JACOBIAN_MODES)
    assert all(e.name == n for n, e in TABLE.items())
    conf = Path(__file__).resolve().parents[1] / "conf" / "coloring"
    assert {p.stem for p in conf.glob("*.yaml")} == set(V.ALGORITHMS)


def test_the_stage_table_agrees_with_the_schema():
    from asdex_pipe.pipeline.stages import STAGES

    assert tuple(STAGES) == schema.STAGES
    produced = {s.produces for s in STAGES.values() if s.produces}
    for i, stage in enumerate(STAGES.values()):
        # A stage reads what an earlier stage produces (this job's or a stored one).
        earlier = {s.produces for s in list(STAGES.values())[:i]}
        assert set(stage.reads) <= earlier & produced, stage.name


def test_pipeline_and_library_share_the_choices():
    assert schema.HVP_MODES is V.HVP_MODES
    assert schema.ALGORITHMS is V.ALGORITHMS
    assert schema.ORDERS is V.ORDERS
    assert set(COLORING_ORDERS) == set(V.ORDERS)


def keepdims_quartic(x):
    return jnp.sum((x - 1.0) ** 4 + x**2, keepdims=True)  # shape (1,): a scalar


def vector(x):
    return x**2


def test_size_one_output_is_a_scalar_everywhere():
    x = jnp.linspace(-1.0, 1.0, 6)
    ref = jax.jit(jax.hessian(lambda y: keepdims_quartic(y)[0]))(x)
    assert hessian_sparsity(keepdims_quartic, 6).nnz == 6
    np.testing.assert_allclose(hessian(keepdims_quartic, 6, format="dense")(x), ref, rtol=1e-12)
    np.testing.assert_allclose(hvp(keepdims_quartic, x, jnp.ones(6)), ref @ np.ones(6), rtol=1e-12)
    diag = hutchinson_diagonal(keepdims_quartic, x, 64, jax.random.key(0))
    np.testing.assert_allclose(diag, np.diag(ref), rtol=1e-12)  # diagonal H: exact
    result = minimize_trust_ncg(keepdims_quartic, np.zeros(6), gtol=1e-8)
    assert result.success


def test_non_scalar_output_gets_one_message_everywhere():
    x = jnp.ones(3)
    calls = [
        lambda: hessian_sparsity(vector, 3),
        lambda: hessian(vector, 3),
        lambda: hvp(vector, x, x),
        lambda: hutchinson_diagonal(vector, x, 4, jax.random.key(0)),
        lambda: minimize_trust_ncg(vector, np.ones(3)),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"must return a scalar \(shape \(\) or any shape of"):
            call()


def test_checks_name_the_argument_and_the_choices():
    with pytest.raises(ValueError, match="unknown mode 'fwd'; mode must be one of: fwd_over_rev"):
        V.check_one_of("fwd", V.HVP_MODES, "mode")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        V.check_positive_int(True, "chunk_size", allow_none=True)
    assert V.check_positive_int(np.int64(3), "k") == 3
    assert V.is_scalar_output(jax.ShapeDtypeStruct((1, 1), jnp.float32))
    assert not V.is_scalar_output((jnp.ones(()), jnp.ones(())))
