"""Jobs of one process see exactly their own configuration, whatever ran before them."""

from __future__ import annotations

import textwrap

import jax
import numpy as np
import pytest

from asdex_pipe import ColoredPattern
from asdex_pipe.pipeline.cli import run_job

# jnp.arange is int32 or int64 depending on jax_enable_x64, so a float32 job's jaxpr (and its
# artifact key) changes if a float64 job before it left x64 on.
OBJECTIVE = textwrap.dedent(
    """
    import jax.numpy as jnp

    def f(x):
        w = jnp.arange(x.shape[0] - 1) % 3 + 1
        return jnp.sum(w * x[:-1] ** 2 * x[1:]) + jnp.sum(x**4)
    """
)


@pytest.fixture
def x64_off():
    """The CLI's starting state (the test suite turns x64 on for the whole session)."""
    saved = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", saved)


def test_float32_job_is_the_same_before_and_after_a_float64_job(
    make_cfg, tmp_path, monkeypatch, x64_off
):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "isolation_objective.py").write_text(OBJECTIVE)
    monkeypatch.syspath_prepend(str(pkg))
    x64_before = jax.config.jax_enable_x64

    def job(name, dtype, store):
        out = tmp_path / name
        out.mkdir()
        cfg = make_cfg(
            "objective=custom",
            "objective.fn=isolation_objective:f",
            "objective.input_shape=[12]",
            f"dtype={dtype}",
            f"store.root={tmp_path / store}",
            "store.compilation_cache=false",
            "stages=[sparsity,coloring]",
        )
        result = run_job(cfg, out)
        assert result["status"] == "ok", result.get("error")
        return result

    first = job("a", "float32", "store_a")
    wide = job("b", "float64", "store_b")
    assert jax.config.jax_enable_x64 == x64_before  # restored after the float64 job
    # A fresh store, so the float32 job computes (and keys) everything again.
    second = job("c", "float32", "store_c")
    assert second["stages"]["sparsity"]["status"] == "computed"
    key = {r["artifacts"]["sparsity"].rsplit("/", 1)[1].split(".")[0] for r in (first, second)}
    assert len(key) == 1  # the same content key before and after the float64 job
    assert wide["artifacts"]["sparsity"].rsplit("/", 1)[1].split(".")[0] not in key
    for name in ("nnz", "colors"):
        assert first[name] == second[name]
    a, b = (ColoredPattern.load(r["artifacts"]["coloring"]) for r in (first, second))
    assert a == b and np.array_equal(a.colors, b.colors)
