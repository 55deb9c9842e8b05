"""Pipeline objectives with pytree parameters and data arguments (objective.inputs etc.)."""

from __future__ import annotations

import json
import sys
import textwrap

import jax
import numpy as np
from jax.flatten_util import ravel_pytree

from asdex_pipe import SparsityPattern
from asdex_pipe.objectives.pytree import graph_energy, graph_inputs
from asdex_pipe.pipeline.cli import run_job


def _run(make_cfg, tmp_path, *overrides):
    out = tmp_path / "run"
    out.mkdir()
    cfg = make_cfg(
        f"store.root={tmp_path / 'store'}", "stages=[sparsity,coloring,verify]", *overrides
    )
    return run_job(cfg, out), out


def test_builtin_graph_energy_runs_with_a_global_pattern(make_cfg, tmp_path):
    result, out = _run(make_cfg, tmp_path, "objective=graph_energy", "objective.input_shape=[12]")
    assert result["status"] == "ok", result.get("error")
    saved = json.loads((out / "result.json").read_text())
    assert saved["verify"]["passed"] is True
    pattern = SparsityPattern.load(saved["artifacts"]["sparsity"])
    record = pattern.provenance["input_structure"]
    assert record["leaves"] == [[[24], "float64"], [[12], "float64"]]  # k, u (sorted keys)
    # detected ⊇ numerical, at the sample and at other data values
    (params, data), _ = graph_inputs((12,))
    flat, unravel = ravel_pytree(params)
    for load in (data["load"], np.zeros(12)):
        other = {**data, "load": load}
        ref = np.asarray(jax.jit(jax.hessian(lambda z, d=other: graph_energy(unravel(z), d)))(flat))
        assert np.all(pattern.todense()[np.abs(ref) > 0])


def test_user_function_with_inputs_factory_argnums_and_aux(make_cfg, tmp_path, monkeypatch):
    (tmp_path / "my_obj.py").write_text(
        textwrap.dedent(
            """
            import jax.numpy as jnp
            import numpy as np

            def loss(params, batch, *, scale):
                r = params["w"] * batch["x"][:-1] - batch["y"] + params["b"][0]
                return scale * jnp.sum(r**2) + jnp.sum(params["w"] ** 4), {"r": r}

            def make_inputs():
                params = {"w": np.linspace(0.1, 1.0, 5), "b": np.zeros(1)}
                batch = {"x": np.arange(6.0), "y": np.ones(5)}
                return (params, batch), {"scale": np.asarray(0.5)}
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("my_obj", None)
    result, out = _run(
        make_cfg,
        tmp_path,
        "objective.fn=my_obj:loss",
        "objective.inputs=my_obj:make_inputs",
        "objective.has_aux=true",
        "objective.argnums=0",
    )
    assert result["status"] == "ok", result.get("error")
    saved = json.loads((out / "result.json").read_text())
    assert saved["n"] == 6 and saved["verify"]["passed"] is True
