"""The pipeline with a constrained objective: the stages store the Lagrangian pattern and
``evaluate.optimizer=ipopt`` solves the problem with it; result.json and the sweep summary
report IPOPT's figures."""

import csv
import json

import pytest

pytest.importorskip("cyipopt")

from asdex_pipe import ColoredPattern
from asdex_pipe.objectives.constrained import (
    optimal_control,
    optimal_control_constraints,
)
from asdex_pipe.optimize.lagrangian import lagrangian_sparsity
from asdex_pipe.pipeline.cli import run_job
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.schema import validate
from asdex_pipe.pipeline.summary import summarize_sweep
from tests.pipeline.conftest import make_cfg  # noqa: F401  (fixture)


@pytest.mark.slow  # a whole pipeline job: ~15 s of CPU
def test_optimal_control_through_the_pipeline(make_cfg, tmp_path):  # noqa: F811
    out = tmp_path / "sweep" / "0"
    out.mkdir(parents=True)
    cfg = make_cfg(
        "objective=optimal_control",
        "n=200",
        "coloring=acyclic",
        f"store.root={tmp_path / 'store'}",
        "evaluate.repeats=1",
        "evaluate.hutchinson_probes=[]",
        "evaluate.optimizer=ipopt",
        "evaluate.gtol=1e-8",
    )
    result = run_job(cfg, out)
    assert result["status"] == "ok", result.get("error")
    saved = json.loads((out / "result.json").read_text())
    # What the stages detected and stored is the pattern valid for every multiplier.
    stored = ColoredPattern.load(saved["artifacts"]["coloring"])
    assert stored.sparsity == lagrangian_sparsity(optimal_control, optimal_control_constraints, 200)
    assert saved["verify"]["passed"] is True
    ipopt = saved["evaluate"]["optimizers"]["ipopt"]
    assert ipopt["status"] == 0 and ipopt["success"] is True
    assert ipopt["constraint_violation"] < 1e-8 and ipopt["constraints"] == 100
    assert ipopt["hessian_colors"] == stored.num_colors  # the stored coloring was reused
    assert 0 < ipopt["iterations"] < 100
    csv_path, _, failed = summarize_sweep(tmp_path / "sweep")
    assert failed == 0
    (row,) = list(csv.DictReader(csv_path.open()))
    assert row["ipopt_status"] == "0" and int(row["ipopt_iterations"]) == ipopt["iterations"]
    assert float(row["ipopt_f"]) == pytest.approx(ipopt["f"], rel=1e-3)


def test_constrained_objective_refuses_unconstrained_optimizer(make_cfg):  # noqa: F811
    with pytest.raises(PipelineError, match=r"use evaluate\.optimizer=ipopt"):
        validate(make_cfg("objective=hs071", "evaluate.optimizer=trust_ncg"))
    with pytest.raises(PipelineError, match="float64"):
        validate(make_cfg("objective=hs071", "evaluate.optimizer=ipopt", "dtype=float32"))
