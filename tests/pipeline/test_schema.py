"""Config validation: every bad value is named in one sentence, before any work."""

import pytest

from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.schema import validate


def test_defaults_resolve(make_cfg):
    spec = validate(make_cfg())
    assert spec.objective_name == "rosenbrock"
    assert spec.input_shape == (100,)
    assert (spec.algorithm, spec.order, spec.mode) == ("star", "largest_first", "fwd_over_rev")
    assert spec.stages == ("sparsity", "coloring", "verify", "evaluate")


def test_n_alias_and_explicit_shape(make_cfg):
    assert validate(make_cfg("n=1000")).input_shape == (1000,)
    spec = validate(make_cfg("objective=minimal_surface", "objective.input_shape=[8,12]"))
    assert spec.input_shape == (8, 12) and spec.n == 96


def test_stage_subset_keeps_pipeline_order(make_cfg):
    assert validate(make_cfg("stages=[evaluate,coloring]")).stages == ("coloring", "evaluate")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["mode=sideways"], "unknown mode 'sideways'; choose one of: fwd_over_rev"),
        (["coloring.algorithm=rainbow"], "unknown coloring algorithm 'rainbow'"),
        (["coloring.order=alphabetical"], "unknown coloring order 'alphabetical'"),
        (["n=0"], "positive integers, got [0]"),
        (["objective.input_shape=[10,-2]"], "positive integers, got [10, -2]"),
        (["objective.name=nope"], "unknown objective 'nope'; available: arrowhead"),
        (["stages=[sparsity,bake]"], "unknown stage 'bake'"),
        (["objective=minimal_surface", "n=100"], "shorthand for 1-D objectives"),
        (["objective=minimal_surface", "objective.input_shape=[100]"], "takes a 2-D input"),
        (["n=1"], "needs at least 2 elements"),
        (["dtype=float16"], "unknown dtype 'float16'"),
        (["objective=custom", "objective.fn=pkg:f"], "objective.input_shape is required"),
    ],
)
def test_bad_values_are_named(make_cfg, overrides, message):
    with pytest.raises(PipelineError) as info:
        validate(make_cfg(*overrides))
    assert message in str(info.value)
