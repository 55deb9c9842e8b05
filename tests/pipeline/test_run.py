"""End-to-end pipeline runs: stages, result.json, artifact reuse, recomputation, loading.

Runs are in-process (``run_job``, or the CLI's ``main()`` through ``cli_in_process``); the
tests that start ``python -m asdex_pipe`` or another interpreter are ``slow`` and each has an
in-process twin here. Only the tests about figures draw them (``plots=true``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from asdex_pipe import ColoredPattern, SparsityPattern
from asdex_pipe.artifacts import find_artifact, format_listing
from asdex_pipe.pipeline.cli import run_job
from asdex_pipe.store.artifact_store import ArtifactStore
from tests.pipeline.conftest import run_cli


def _run(make_cfg, tmp_path, *overrides, name="run"):
    out = tmp_path / name
    out.mkdir()
    cfg = make_cfg(f"store.root={tmp_path / 'store'}", "evaluate.repeats=1", *overrides)
    return run_job(cfg, out), out


def test_default_run_writes_result_and_artifacts(make_cfg, tmp_path):
    result, out = _run(make_cfg, tmp_path, "plots=true")
    assert result["status"] == "ok", result.get("error")
    saved = json.loads((out / "result.json").read_text())
    assert saved["objective"] == "rosenbrock" and saved["n"] == 100
    assert saved["host"] and saved["wall_s"] > 0
    assert saved["nnz"] == 298 and saved["colors"] == 3
    assert [saved["stages"][s]["status"] for s in ("sparsity", "coloring")] == [
        "computed",
        "computed",
    ]
    assert saved["verify"]["passed"] is True
    ev = saved["evaluate"]
    assert ev["hvps_used"] == 3 and ev["dense_hessian_s"] > 0 and ev["sparse_hessian_s"] > 0
    assert (out / "pattern.png").stat().st_size > 1000
    coloring = ColoredPattern.load(saved["artifacts"]["coloring"])
    assert coloring.num_colors == 3 and coloring.sparsity.nnz == 298
    assert SparsityPattern.load(saved["artifacts"]["sparsity"]) == coloring.sparsity


def test_second_run_reuses_and_force_recomputes(make_cfg, tmp_path):
    _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", name="a")
    again, _ = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", name="b")
    assert again["stages"]["sparsity"]["status"] == "reused"
    assert again["stages"]["coloring"]["status"] == "reused"
    assert not list(tmp_path.rglob("*.png"))  # plots=false (make_cfg's default) draws nothing
    forced, _ = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", "force=true", name="c")
    assert forced["stages"]["sparsity"]["status"] == "computed"
    assert forced["stages"]["coloring"]["status"] == "computed"
    other, _ = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", "coloring=acyclic", name="d")
    assert other["stages"]["sparsity"]["status"] == "reused"
    assert other["stages"]["coloring"]["status"] == "computed" and other["colors"] == 2


def test_changed_constants_recompute(make_cfg, tmp_path, monkeypatch):
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    src = textwrap.dedent(
        """
        import jax.numpy as jnp
        import numpy as np
        W = np.array({weights})
        def f(x):
            return jnp.sum(W * x[:-1] ** 2 * x[1:])
        """
    )
    (pkg / "objmod_a.py").write_text(src.format(weights="[1.0, 2.0, 3.0]"))
    (pkg / "objmod_b.py").write_text(src.format(weights="[1.0, 2.0, 4.0]"))
    monkeypatch.syspath_prepend(str(pkg))
    common = ("objective=custom", "objective.input_shape=[4]", "stages=[sparsity]")
    first, _ = _run(make_cfg, tmp_path, *common, "objective.fn=objmod_a:f", name="a")
    same, _ = _run(make_cfg, tmp_path, *common, "objective.fn=objmod_a:f", name="b")
    changed, _ = _run(make_cfg, tmp_path, *common, "objective.fn=objmod_b:f", name="c")
    assert first["stages"]["sparsity"]["status"] == "computed"
    assert same["stages"]["sparsity"]["status"] == "reused"
    assert changed["stages"]["sparsity"]["status"] == "computed"
    assert changed["artifacts"]["sparsity"] != first["artifacts"]["sparsity"]


def test_stage_alone_reads_store_or_names_the_command(make_cfg, tmp_path):
    missing, _ = _run(make_cfg, tmp_path, "stages=[coloring]", "n=40", name="a")
    assert missing["status"] == "failed"
    assert "stages=[sparsity]" in missing["error"] and "python -m asdex_pipe" in missing["error"]
    _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", "n=40", name="b")
    alone, _ = _run(make_cfg, tmp_path, "stages=[verify,evaluate]", "n=40", name="c")
    assert alone["status"] == "ok", alone.get("error")
    assert alone["verify"]["passed"] and alone["colors"] == 3


def test_partial_artifact_is_not_trusted(make_cfg, tmp_path):
    first, _ = _run(make_cfg, tmp_path, "stages=[sparsity]", "n=30", name="a")
    path = first["artifacts"]["sparsity"]
    # Simulate a writer killed after the arrays but before the attributes landed.
    import zarr

    group = zarr.open_group(path, mode="r+")
    group.attrs.clear()
    again, _ = _run(make_cfg, tmp_path, "stages=[sparsity]", "n=30", name="b")
    assert again["stages"]["sparsity"]["status"] == "computed"
    assert again["artifacts"]["sparsity"] != path  # republished under a fresh name
    assert SparsityPattern.load(again["artifacts"]["sparsity"]).nnz == 88


def test_lookup_and_listing(make_cfg, tmp_path):
    _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", "n=50", name="a")
    root = tmp_path / "store"
    path = find_artifact("rosenbrock", 50, algorithm="star", mode="fwd_over_rev", root=root)
    assert ColoredPattern.load(path).sparsity.shape == (50, 50)
    with pytest.raises(FileNotFoundError, match="holds for 'rosenbrock'"):
        find_artifact("rosenbrock", 51, root=root)
    listing = format_listing(ArtifactStore(root))
    assert "rosenbrock" in listing and "coloring" in listing and "148" in listing


def test_loads_with_zarr_alone_and_with_load(make_cfg, tmp_path):
    """In-process twin of test_other_process_loads_with_zarr_alone_and_with_load."""
    import jax
    import numpy as np
    import zarr

    from asdex_pipe import hessian_from_coloring
    from asdex_pipe.objectives import get_objective

    result, _ = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", "n=20", name="a")
    path = result["artifacts"]["coloring"]
    g = zarr.open_group(path, mode="r")
    assert [g.attrs["kind"], g.attrs["num_colors"], g["rows"].shape[0]] == ["ColoredPattern", 3, 58]
    assert int(np.max(g["colors"][:])) + 1 == 3
    c = ColoredPattern.load(path)
    f = get_objective("rosenbrock").fn
    x = np.linspace(-1, 1, 20)
    H = hessian_from_coloring(f, c, format="dense")(x)
    assert np.abs(H - jax.jit(jax.hessian(f))(x)).max() < 1e-9


@pytest.mark.slow  # in-process twin: test_loads_with_zarr_alone_and_with_load
def test_other_process_loads_with_zarr_alone_and_with_load(make_cfg, tmp_path):
    result, _ = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", "n=20", name="a")
    path = result["artifacts"]["coloring"]
    plain = (
        "import sys, zarr, numpy as np\n"
        "g = zarr.open_group(sys.argv[1], mode='r')\n"
        "print(g.attrs['kind'], g.attrs['num_colors'], g['rows'].shape[0], "
        "int(np.max(g['colors'][:])) + 1)"
    )
    out = subprocess.run([sys.executable, "-c", plain, path], capture_output=True, text=True)
    assert out.stdout.split() == ["ColoredPattern", "3", "58", "3"], out.stderr
    code = (
        "import sys, jax, numpy as np\n"
        "jax.config.update('jax_enable_x64', True)\n"
        "from asdex_pipe import ColoredPattern, hessian_from_coloring\n"
        "from asdex_pipe.objectives import get_objective\n"
        "c = ColoredPattern.load(sys.argv[1])\n"
        "f = get_objective('rosenbrock').fn\n"
        "H = hessian_from_coloring(f, c, format='dense')(np.linspace(-1, 1, 20))\n"
        "print(np.abs(H - jax.jit(jax.hessian(f))(np.linspace(-1, 1, 20))).max())"
    )
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 1e-9


def _check_stage_lines(status, stdout, stderr, tmp_path):
    assert status == 0, stderr
    for stage in ("sparsity", "coloring", "verify", "evaluate"):
        assert f"[{stage}" in stdout
    assert "colors=3" in stdout and "result.json" in stdout
    assert (tmp_path / "artifacts" / "coloring").is_dir()


def test_cli_main_in_process_prints_stage_lines(tmp_path, cli_in_process):
    """In-process twin of test_cli_default_run_prints_stage_lines."""
    status, stdout, stderr = cli_in_process(
        "n=30", "evaluate.repeats=1", "plots=false", cwd=tmp_path
    )
    _check_stage_lines(status, stdout, stderr, tmp_path)
    (result,) = tmp_path.glob("outputs/*/*/result.json")
    assert json.loads(result.read_text())["status"] == "ok"


@pytest.mark.slow  # in-process twin: test_cli_main_in_process_prints_stage_lines
def test_cli_default_run_prints_stage_lines(tmp_path):
    out = run_cli("n=30", "evaluate.repeats=1", cwd=tmp_path)
    _check_stage_lines(out.returncode, out.stdout, out.stderr, tmp_path)


MULTIRUN_WITH_A_FAILURE = (
    "-m",
    "objective=rosenbrock,minimal_surface",
    "n=20",
    "stages=[sparsity,coloring]",
)


def test_in_process_multirun_summary_keeps_failed_rows(tmp_path, cli_in_process):
    """In-process twin of test_multirun_summary_keeps_failed_rows."""
    status, _, _ = cli_in_process(*MULTIRUN_WITH_A_FAILURE, "plots=false", cwd=tmp_path)
    _check_summary_with_a_failed_row(status, tmp_path)


@pytest.mark.slow  # in-process twin: test_in_process_multirun_summary_keeps_failed_rows
def test_multirun_summary_keeps_failed_rows(tmp_path):
    out = run_cli(*MULTIRUN_WITH_A_FAILURE, cwd=tmp_path)
    _check_summary_with_a_failed_row(out.returncode, tmp_path)


def _check_summary_with_a_failed_row(status, tmp_path):
    # minimal_surface is 2-D, so n=20 fails validation: its row must still be there.
    assert status != 0
    (summary,) = list(tmp_path.glob("multirun/*/*/summary.csv"))
    lines = summary.read_text().splitlines()
    assert len(lines) == 3
    assert ",ok," in lines[1] and "rosenbrock" in lines[1]
    assert ",failed," in lines[2] and "shorthand for 1-D objectives" in lines[2]
    assert (summary.parent / "summary.md").read_text().count("\n|") >= 3


# The pipeline passes the mode through; the modes themselves are tested below the pipeline
# (tests/differentiation), so the default run takes the default mode, -m slow the others.
@pytest.mark.parametrize(
    "mode",
    [
        "fwd_over_rev",
        pytest.param("rev_over_fwd", marks=pytest.mark.slow),
        pytest.param("rev_over_rev", marks=pytest.mark.slow),
    ],
)
def test_every_mode_and_coloring_verifies(make_cfg, tmp_path, mode):
    for algorithm in ("star", "acyclic", "column", "row"):
        result, _ = _run(
            make_cfg,
            tmp_path,
            f"mode={mode}",
            f"coloring={algorithm}",
            "objective=broyden_tridiagonal",
            "n=24",
            "stages=[sparsity,coloring,verify]",
            name=f"{algorithm}",
        )
        assert result["status"] == "ok", (algorithm, result.get("error"))
        assert result["verify"]["passed"]


@pytest.mark.slow  # in-process twin on S3: tests/store/test_s3.py::test_in_process_multirun_*
def test_parallel_joblib_sweep_shares_one_artifact(tmp_path):
    out = run_cli(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=3",
        "n=60",
        "mode=fwd_over_rev,rev_over_fwd,rev_over_rev",
        "verify.num_probes=3,4",
        "stages=[sparsity,coloring,verify]",
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    store = tmp_path / "artifacts"
    assert len(list((store / "sparsity").glob("*.zarr"))) == 1
    assert len(list((store / "coloring").glob("*.zarr"))) == 1
    assert len(list((store / "sparsity").glob("*.json"))) == 1  # one pointer per key
    assert not [p for p in store.rglob("*") if p.name.endswith(".tmp")]
    (coloring_path,) = (store / "coloring").glob("*.zarr")
    assert ColoredPattern.load(coloring_path).num_colors == 3
    (summary,) = list(tmp_path.glob("multirun/*/*/summary.csv"))
    rows = summary.read_text().splitlines()[1:]
    assert len(rows) == 6 and all(",ok," in r for r in rows)


def test_evaluate_study_optimizers_and_hutchinson(make_cfg, tmp_path):
    result, out = _run(
        make_cfg,
        tmp_path,
        "objective=minimal_surface",
        "objective.input_shape=[10,10]",
        "evaluate.optimizer=trust_ncg",
        "evaluate.hutchinson_probes=[4,64,1024]",
        "plots=true",
    )
    assert result["status"] == "ok", result.get("error")
    runs = result["evaluate"]["optimizers"]
    assert set(runs) == {"trust_ncg_sparse", "trust_ncg_hvp", "lbfgs"}
    for name in ("trust_ncg_sparse", "trust_ncg_hvp"):
        assert runs[name]["success"] and runs[name]["grad_norm"] <= 1e-6
        assert runs[name]["iterations"] < 50
    assert runs["trust_ncg_sparse"]["nhev"] <= runs["trust_ncg_sparse"]["iterations"] + 1
    errors = [p["relative_error"] for p in result["evaluate"]["hutchinson"]]
    assert errors[-1] < errors[0] / 4  # 256x the probes: about 16x smaller error
    for png in ("convergence.png", "hutchinson.png", "pattern.png"):
        assert (out / png).stat().st_size > 1000
    history = json.loads((out / "convergence.json").read_text())
    assert history["trust_ncg_sparse"][-1][1] <= 1e-6


def test_summary_keeps_killed_jobs_with_the_reason(tmp_path):
    from asdex_pipe.pipeline.summary import summarize_sweep, write_result

    for job in ("0", "1", "2"):
        (tmp_path / job / ".hydra").mkdir(parents=True)
    write_result(tmp_path / "0", {"status": "ok", "host": "node-a", "wall_s": 1.5})
    # Job 1 was killed after run_job's first write; job 2 before it.
    write_result(tmp_path / "1", {"status": "running", "host": "node-b", "stages": {}})
    csv_path, md_path, failed = summarize_sweep(tmp_path)
    header, *rows = csv_path.read_text().splitlines()
    assert header.startswith("job,status,host,wall_s,")
    assert rows[0].startswith("0,ok,node-a,1.5,")
    assert rows[1].startswith("1,killed,node-b,,") and "killed, timed out or crashed" in rows[1]
    assert rows[2].startswith("2,killed,,,") and failed == 2
    assert md_path.read_text().count("| killed |") == 2
