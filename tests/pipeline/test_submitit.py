"""Sweeps through Hydra's submitit launcher (``submitit_local``: each job its own process, as on
a cluster) against one shared store: summary rows, reuse on a re-run, and no job writing
outside its own output directory (with version_base 1.3 jobs do not chdir)."""

from __future__ import annotations

import csv
import json

from tests.pipeline.conftest import run_cli

SWEEP = (
    "-m",
    "hydra/launcher=submitit_local",
    "hydra.launcher.timeout_min=10",
    "n=20,30",
    "stages=[sparsity,coloring]",
    "store.compilation_cache=false",
)


def _sweep(tmp_path, name):
    out = run_cli(*SWEEP, f"hydra.sweep.dir=sweeps/{name}", cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    with open(tmp_path / "sweeps" / name / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    results = [
        json.loads((tmp_path / "sweeps" / name / r["job"] / "result.json").read_text())
        for r in rows
    ]
    return rows, results


def test_submitit_local_sweep_shares_the_store_and_reuses(tmp_path):
    rows, results = _sweep(tmp_path, "first")
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert all(r["host"] and float(r["wall_s"]) > 0 for r in rows)
    assert sorted(int(r["n"]) for r in rows) == [20, 30]
    assert {r["stages"]["sparsity"]["status"] for r in results} == {"computed"}
    again_rows, again = _sweep(tmp_path, "second")
    assert [r["status"] for r in again_rows] == ["ok", "ok"]
    # The re-run reuses every artifact the first one built, and they are the same ones.
    assert {r["stages"][s]["status"] for r in again for s in ("sparsity", "coloring")} == {"reused"}
    assert sorted(r["artifacts"]["coloring"] for r in again) == sorted(
        r["artifacts"]["coloring"] for r in results
    )
    # Jobs wrote only into their own directories (and the shared store): nothing else in the
    # launch directory, nothing in a job directory that is not the job's own output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifacts", "sweeps"]
    for sweep in ("first", "second"):
        for job in ("0", "1"):
            names = {p.name for p in (tmp_path / "sweeps" / sweep / job).iterdir()}
            assert names <= {".hydra", "result.json", "pattern.png", "asdex_pipe.log"}, names
