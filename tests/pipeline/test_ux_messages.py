"""Smaller user-facing edges: opt-in Hutchinson, bounded dense verify, durations, shapes,
the constrained summary, sparsity percentages, refused runs leaving no run directory."""

from __future__ import annotations

import logging

from asdex_pipe import SparsityPattern
from asdex_pipe.pipeline.cli import _remove_run_dir, describe_shape, run_job
from asdex_pipe.pipeline.progress import Progress, format_duration
from asdex_pipe.pipeline.schema import validate


def _run(make_cfg, tmp_path, *overrides):
    out = tmp_path / "run"
    out.mkdir()
    cfg = make_cfg(f"store.root={tmp_path / 'store'}", "evaluate.repeats=1", *overrides)
    return run_job(cfg, out), out


def test_default_evaluate_runs_no_hutchinson_study_and_dense_verify_is_bounded(
    make_cfg, tmp_path, caplog
):
    assert list(make_cfg().evaluate.hutchinson_probes) == []
    with caplog.at_level(logging.INFO):
        result, out = _run(make_cfg, tmp_path, "n=50", "verify.method=dense",
                           "verify.dense_max_n=10")  # fmt: skip
    assert result["status"] == "ok", result.get("error")
    assert "hutchinson" not in result["evaluate"] and not (out / "hutchinson.png").exists()
    assert result["verify"]["method"] == "matvec"
    assert any("verify.dense_max_n=10" in r.getMessage() for r in caplog.records)


def test_one_duration_format():
    assert format_duration(5.6e-5) == "0.056 ms"
    assert format_duration(0.153) == "153 ms"
    assert format_duration(15.332) == "15.3 s"
    assert format_duration(300.0) == "5.0 min"


def test_progress_reports_an_eta(caplog, monkeypatch):
    progress = Progress("evaluate", log_every=0.0)
    monkeypatch.setattr(progress, "_live", False)
    with caplog.at_level(logging.INFO, logger="asdex_pipe"):
        progress.advance(1, 4, "step one")
    (line,) = [r.getMessage() for r in caplog.records]
    assert "25% done" in line and "left" in line and "step one" in line


def test_sparsity_percentage_shows_enough_digits():
    n = 100_000
    p = SparsityPattern.from_coo(range(n), range(n), (n, n))
    assert "sparsity=99.999%" in repr(p).splitlines()[0]


def test_pytree_shape_is_shown_as_the_user_set_it(make_cfg):
    spec = validate(make_cfg("objective=graph_energy", "objective.input_shape=[100]"))
    text = describe_shape(spec)
    assert text.startswith("input_shape=[100]") and "300 unknowns" in text


def test_constrained_summary_explains_the_hessian_and_gives_the_violation(
    make_cfg, tmp_path, caplog
):
    with caplog.at_level(logging.INFO):
        result, _ = _run(make_cfg, tmp_path, "objective=optimal_control", "n=20")
    assert result["status"] == "ok", result.get("error")
    assert result["evaluate"]["constraint_violation_x0"] >= 0
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Lagrangian" in text and "largest violation at x0" in text
    assert "HVPs' time" in text


def test_refused_run_directory_is_removed_but_other_files_are_kept(tmp_path):
    run = tmp_path / "outputs" / "2026-01-01" / "10-00-00"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text("{}")
    (run / "asdex_pipe.log").write_text("error\n")
    (run / "result.json").write_text("{}")
    _remove_run_dir(run)
    assert not (tmp_path / "outputs").exists()
    mine = tmp_path / "mine"
    (mine / ".hydra").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep me")
    _remove_run_dir(mine)
    assert (mine / "notes.txt").exists() and not (mine / ".hydra").exists()
