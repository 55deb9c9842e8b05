"""Sweeps against one shared store: summary rows, reuse on a re-run, and no job writing outside
its own output directory (with version_base 1.3 jobs do not chdir).

The default run sweeps in-process (Hydra's basic launcher, every job in this process); the
``slow`` twin runs the same sweep through Hydra's submitit launcher (``submitit_local``: each
job its own process, as on a cluster) from a ``python -m asdex_pipe`` subprocess.
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.pipeline.conftest import run_cli

SWEEP = ("-m", "n=20,30", "stages=[sparsity,coloring]", "store.compilation_cache=false")
SUBMITIT = ("hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10")


def _read(tmp_path, name):
    with open(tmp_path / "sweeps" / name / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    results = [
        json.loads((tmp_path / "sweeps" / name / r["job"] / "result.json").read_text())
        for r in rows
    ]
    return rows, results


def _check_two_sweeps(tmp_path, sweep, job_files):
    """Run ``sweep(name)`` twice into one store and check the summaries, the reuse and that
    each job directory holds ``job_files`` at most."""
    sweep("first")
    rows, results = _read(tmp_path, "first")
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert all(r["host"] and float(r["wall_s"]) > 0 for r in rows)
    assert sorted(int(r["n"]) for r in rows) == [20, 30]
    assert {r["stages"]["sparsity"]["status"] for r in results} == {"computed"}
    sweep("second")
    again_rows, again = _read(tmp_path, "second")
    assert [r["status"] for r in again_rows] == ["ok", "ok"]
    # The re-run reuses every artifact the first one built, and they are the same ones.
    assert {r["stages"][s]["status"] for r in again for s in ("sparsity", "coloring")} == {"reused"}
    assert sorted(r["artifacts"]["coloring"] for r in again) == sorted(
        r["artifacts"]["coloring"] for r in results
    )
    # Jobs wrote only into their own directories (and the shared store): nothing else in the
    # launch directory, nothing in a job directory that is not the job's own output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifacts", "sweeps"]
    for name in ("first", "second"):
        for job in ("0", "1"):
            names = {p.name for p in (tmp_path / "sweeps" / name / job).iterdir()}
            assert names <= job_files, names


def test_in_process_sweep_shares_the_store_and_reuses(tmp_path, cli_in_process):
    def sweep(name):
        status, _, err = cli_in_process(
            *SWEEP, "plots=false", f"hydra.sweep.dir=sweeps/{name}", cwd=tmp_path
        )
        assert status == 0, err[-3000:]

    _check_two_sweeps(tmp_path, sweep, {".hydra", "result.json", "asdex_pipe.log"})


@pytest.mark.slow  # in-process twin: test_in_process_sweep_shares_the_store_and_reuses
def test_submitit_local_sweep_shares_the_store_and_reuses(tmp_path):
    def sweep(name):
        out = run_cli(
            *SWEEP, *SUBMITIT, f"hydra.sweep.dir=sweeps/{name}", cwd=tmp_path, timeout=600
        )
        assert out.returncode == 0, out.stderr[-3000:]

    _check_two_sweeps(tmp_path, sweep, {".hydra", "result.json", "pattern.png", "asdex_pipe.log"})
