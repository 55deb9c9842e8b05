"""Decompression plans (``differentiation/plans.py``): chosen by the coloring's kind, computed
once per coloring and cached on it, applied inside ``jax.jit`` as gathers (direct) or
gathers and one prefix sum (substitution)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from asdex_pipe.differentiation.plans import apply_plan, device_plan, host_plan
from tests.differentiation.helpers import hvp_coloring, tridiagonal

N = 12


@pytest.mark.parametrize(
    ("algorithm", "colors", "kind"),
    [
        ("star", np.arange(N) % 3, "direct"),
        ("acyclic", np.arange(N) % 2, "substitution"),
        # A coloring labelled star that is only acyclic falls back to substitution.
        ("star", np.arange(N) % 2, "substitution"),
    ],
    ids=["star", "acyclic", "star-label-acyclic-coloring"],
)
def test_plan_is_cached_and_recovers_every_entry_in_jit(algorithm, colors, kind):
    pattern = tridiagonal(N)
    cp = hvp_coloring(pattern, colors, algorithm)
    assert host_plan(cp) is host_plan(cp)  # computed once per coloring
    plan = device_plan(cp, N)
    assert plan["kind"] == kind and device_plan(cp, N) is plan
    rng = np.random.default_rng(0)
    upper = np.where(pattern.todense(), rng.standard_normal((N, N)), 0.0)
    dense = upper + upper.T
    seeds = (colors[None, :] == np.arange(cp.num_colors)[:, None]).astype(float)
    b = jnp.asarray(seeds @ dense.T)  # the exact compressed products, colors-major
    arrays = {key: jnp.asarray(v) for key, v in plan.items() if key != "kind"}
    got = jax.jit(apply_plan, static_argnums=0)(kind, arrays, b)
    np.testing.assert_allclose(got, dense[pattern.rows, pattern.cols], rtol=1e-12, atol=1e-12)
