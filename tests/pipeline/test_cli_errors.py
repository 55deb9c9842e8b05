"""Bad input on the command line: a clear message on stderr, non-zero exit, no traceback."""

import pytest

from tests.pipeline.conftest import run_cli

CASES = [
    (["objective=nope"], "Available options in 'objective'"),
    (
        ["objective.name=nope"],
        "unknown objective 'nope'; available: arrowhead, broyden_tridiagonal",
    ),
    (["n=0"], "must be a list of positive integers, got [0]"),
    (["n=2.5"], "could not be converted to Integer"),
    (["objective.input_shape=[ten]"], "could not be converted to Integer"),
    (["mode=sideways"], "unknown mode 'sideways'; choose one of: fwd_over_rev, rev_over_fwd"),
    (["coloring=rainbow"], "Available options in 'coloring'"),
    (
        ["objective.fn=jax.numpy:sin", "objective.input_shape=[4]"],
        "must return a scalar for a Hessian, but it returns shape (4,)",
    ),
    (
        ["objective.fn=no_such_pkg.mod:f", "objective.input_shape=[4]"],
        "cannot import module 'no_such_pkg.mod'",
    ),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_message(tmp_path, args, message):
    out = run_cli(*args, cwd=tmp_path, timeout=120)
    assert out.returncode != 0
    assert message in out.stderr, out.stderr + out.stdout
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "artifacts" / "sparsity").exists()  # nothing expensive happened
