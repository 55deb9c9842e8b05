"""Bad input: one clear message, before any work. Checked in-process; one run of the real CLI
checks the exit path (stderr, non-zero status, no traceback)."""

import pytest
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from asdex_pipe.pipeline.cli import run_job
from asdex_pipe.pipeline.context import resolve_objective
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.schema import validate
from tests.pipeline.conftest import run_cli

# Refused by Hydra/OmegaConf while composing the config (the CLI prints their message).
COMPOSITION = [
    (["objective=nope"], "Available options in 'objective'"),
    (["coloring=rainbow"], "Available options in 'coloring'"),
    (["n=2.5"], "could not be converted to Integer"),
    (["objective.input_shape=[ten]"], "could not be converted to Integer"),
]
# Refused by the schema's validation or by the objective check, before any detection.
VALIDATION = [
    (
        ["objective.name=nope"],
        "unknown objective 'nope'; available: arrowhead, broyden_tridiagonal",
    ),
    (["n=0"], "must be a list of positive integers, got [0]"),
    (["mode=sideways"], "unknown mode 'sideways'; choose one of: fwd_over_rev, rev_over_fwd"),
    (
        ["objective.fn=jax.numpy:sin", "objective.input_shape=[4]"],
        "must return a scalar for a Hessian, but it returns shape (4,)",
    ),
    (
        ["objective.fn=no_such_pkg.mod:f", "objective.input_shape=[4]"],
        "cannot import module 'no_such_pkg.mod'",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), COMPOSITION, ids=[" ".join(a) for a, _ in COMPOSITION]
)
def test_composition_errors_name_the_value(make_cfg, args, message):
    with pytest.raises((HydraException, OmegaConfBaseException)) as info:
        make_cfg(*args)
    chain, exc = [], info.value  # Hydra's CLI prints the whole cause chain
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__
    assert message in "\n".join(chain)


@pytest.mark.parametrize(("args", "message"), VALIDATION, ids=[" ".join(a) for a, _ in VALIDATION])
def test_validation_errors_name_the_value(make_cfg, args, message):
    with pytest.raises(PipelineError) as info:
        resolve_objective(validate(make_cfg(*args)))
    assert message in str(info.value)


@pytest.mark.parametrize(("args", "message"), VALIDATION, ids=[" ".join(a) for a, _ in VALIDATION])
def test_a_refused_job_keeps_its_row_and_does_no_work(make_cfg, tmp_path, args, message):
    result = run_job(make_cfg(f"store.root={tmp_path / 'store'}", *args), tmp_path)
    assert result["status"] == "failed" and message in result["error"]
    assert "host" in result and result["wall_s"] >= 0
    assert not (tmp_path / "store" / "sparsity").exists()  # nothing expensive happened


def test_cli_exit_path(tmp_path):
    out = run_cli("mode=sideways", cwd=tmp_path, timeout=120)
    assert out.returncode != 0
    assert "unknown mode 'sideways'" in out.stderr, out.stderr + out.stdout
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "artifacts" / "sparsity").exists()
