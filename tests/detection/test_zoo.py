"""Every zoo function: detected ⊇ numerical pattern, and == where the case is exact.

The detected patterns come from the one detection pass per case that ``test_snapshot.py``
shares (:func:`tests.detection.snapshot.detect_once`, fallbacks as errors)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.detection.snapshot import detect_once
from tests.numerical import assert_superset, numerical_hessian_pattern, numerical_jacobian_pattern
from tests.zoo import ZOO, scalar_cases

# A conservative fallback anywhere in the zoo is a failure, under every supported jax.
pytestmark = pytest.mark.filterwarnings("error::asdex_pipe.detection.UnknownPrimitiveWarning")


def test_zoo_is_large_and_well_formed():
    names = [c.name for c in ZOO]
    assert len(names) >= 60
    assert len(set(names)) == len(names)
    assert len(scalar_cases()) >= 40
    assert all(int(np.prod(c.input_shape)) <= 64 for c in ZOO)


@pytest.mark.parametrize("c", ZOO, ids=lambda c: c.name)
def test_detected_contains_numerical(c):
    detected = detect_once(c)
    numerical = (numerical_hessian_pattern if c.scalar else numerical_jacobian_pattern)(
        c.f, c.input_shape
    )
    assert_superset(detected, numerical)
    if c.exact:
        extra = detected.todense() & ~numerical.todense()
        assert not extra.any(), f"{int(extra.sum())} extra entries, e.g. {np.argwhere(extra)[:5]}"
    if c.scalar:
        dense = detected.todense()
        assert (dense == dense.T).all()
