"""Artifacts on an object store: the pipeline, the store and the loaders against a real S3
server (moto on 127.0.0.1, started and stopped by conftest.py).

The tests that start other interpreters (a joblib sweep, a loader in another process) are
``slow``; each has an in-process twin in the default run."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import s3fs
import zarr

from asdex_pipe import ArtifactError, ColoredPattern, SparsityPattern
from asdex_pipe.artifacts import find_artifact
from asdex_pipe.pipeline.cli import run_job
from asdex_pipe.store.artifact_store import ArtifactStore
from asdex_pipe.store.formats import zarr_store
from tests.pipeline.conftest import run_cli
from tests.store.test_publish import kill_writer, tridiagonal

REPO = Path(__file__).resolve().parents[2]


def _objects(root: str, options: dict, kind: str) -> list[str]:
    fs = s3fs.S3FileSystem(**options)
    return sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"{root[5:]}/{kind}", refresh=True))


def _run(make_cfg, tmp_path, root, options, *overrides, name):
    out = tmp_path / name
    out.mkdir()
    cfg = make_cfg(
        f"store.root={root}",
        f"+store.storage_options.endpoint_url={options['endpoint_url']}",
        *overrides,
    )
    return run_job(cfg, out)


def test_pipeline_runs_and_reuses_on_s3(make_cfg, tmp_path, s3_root):
    root, options = s3_root
    common = ("n=40", "stages=[sparsity,coloring]")
    first = _run(make_cfg, tmp_path, root, options, *common, name="a")
    assert first["status"] == "ok", first.get("error")
    assert [first["stages"][s]["status"] for s in ("sparsity", "coloring")] == ["computed"] * 2
    url = first["artifacts"]["coloring"]
    assert url.startswith(f"{root}/coloring/") and url.endswith(".zarr")
    again = _run(make_cfg, tmp_path, root, options, *common, name="b")
    assert [again["stages"][s]["status"] for s in ("sparsity", "coloring")] == ["reused"] * 2
    assert again["artifacts"] == first["artifacts"]
    coloring = ColoredPattern.load(url, storage_options=options)
    assert coloring.num_colors == 3 and coloring.sparsity.nnz == 118
    assert find_artifact("rosenbrock", 40, root=root, storage_options=options) == url
    assert len(_objects(root, options, "coloring")) == 2  # <key>.json and its group


def _one_key_sweep(root, options):
    """Six jobs of one sparsity key (mode and postprocess do not enter it) on ``root``."""
    return (
        "-m",
        f"store.root={root}",
        f"+store.storage_options.endpoint_url={options['endpoint_url']}",
        "n=30",
        "mode=fwd_over_rev,rev_over_fwd,rev_over_rev",
        "coloring.postprocess=true,false",
        "stages=[sparsity]",
    )


def test_in_process_multirun_on_one_key_publishes_one_artifact(tmp_path, s3_root, cli_in_process):
    """In-process twin (basic launcher: the jobs one after another in this process) of
    test_parallel_joblib_multirun_on_one_key_publishes_one_artifact."""
    root, options = s3_root
    status, _, err = cli_in_process(*_one_key_sweep(root, options), "plots=false", cwd=tmp_path)
    assert status == 0, err[-3000:]
    statuses = _check_one_artifact(tmp_path, root, options)
    assert sorted(statuses) == ["computed"] + ["reused"] * 5  # in turn: the first one computes


@pytest.mark.slow  # in-process twin: test_in_process_multirun_on_one_key_publishes_one_artifact
def test_parallel_joblib_multirun_on_one_key_publishes_one_artifact(tmp_path, s3_root):
    root, options = s3_root
    joblib = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=3")
    out = run_cli(*_one_key_sweep(root, options), *joblib, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    _check_one_artifact(tmp_path, root, options)


def _check_one_artifact(tmp_path, root, options):
    """Check the sweep's one published artifact and its six ok rows; the stage statuses."""
    # Six jobs, one key: one pointer and one group, the losers' copies deleted.
    (group, pointer) = _objects(root, options, "sparsity")
    assert pointer.endswith(".json") and group.endswith(".zarr")
    assert group.startswith(pointer[: -len(".json")] + ".")
    (summary,) = tmp_path.glob("multirun/*/*/summary.csv")
    rows = summary.read_text().splitlines()[1:]
    assert len(rows) == 6 and all(",ok," in r for r in rows)
    statuses = [
        json.loads(p.read_text())["stages"]["sparsity"]["status"]
        for p in summary.parent.glob("*/result.json")
    ]
    assert len(statuses) == 6 and "computed" in statuses
    results = [json.loads(p.read_text()) for p in summary.parent.glob("*/result.json")]
    assert {r["artifacts"]["sparsity"] for r in results} == {f"{root}/sparsity/{group}"}
    return statuses


def test_killed_writer_leaves_nothing_a_reader_accepts_on_s3(s3_root):
    root, options = s3_root
    kill_writer(root, "k", "mid_write", options)
    store = ArtifactStore(root, options)
    assert store.load("sparsity", "k") is None and store.entries() == []
    (leftover,) = store.leftovers()
    assert _objects(root, options, "sparsity") == [leftover.name]
    assert store.save("sparsity", "k", tridiagonal(9)) != leftover.path
    assert store.load("sparsity", "k") == tridiagonal(9)
    assert [item.name for item in store.clean(older_than=dt.timedelta(0))] == [leftover.name]
    assert len(_objects(root, options, "sparsity")) == 2


def test_tampered_object_is_refused_on_s3(s3_root, caplog):
    root, options = s3_root
    store = ArtifactStore(root, options)
    url = store.save("sparsity", "k", tridiagonal(12))
    cols = zarr.open_array(zarr_store(f"{url}/cols", options), mode="r+")
    cols[5] = (int(cols[5]) + 3) % 12
    with pytest.raises(ArtifactError, match="is corrupt"):
        SparsityPattern.load(url, storage_options=options)
    assert store.load("sparsity", "k") is None and "ignoring invalid artifact" in caplog.text
    assert store.save("sparsity", "k", tridiagonal(12)) != url  # replaced, republished
    assert store.load("sparsity", "k") == tridiagonal(12)


def _saved_coloring(root, options):
    store = ArtifactStore(root, options)
    pattern = tridiagonal(15)
    pattern.provenance.update(objective="tri", input_shape=[15], created="2026-01-01T00:00:00")
    coloring = ColoredPattern(pattern, np.arange(15) % 3, "HVP", "star", "natural")
    coloring.provenance.update(pattern.provenance)
    return store.save("coloring", "c", coloring)


def _check_listing(lines, url):
    listed = [line for line in lines if line.startswith("coloring ")]
    assert len(listed) == 1 and " tri " in listed[0] and " 43 " in listed[0]
    assert url in lines  # find prints the URL


def test_listing_and_loading_in_process(s3_root, capsys):
    """In-process twin of test_listing_and_loading_from_another_process."""
    from asdex_pipe.artifacts import main

    root, options = s3_root
    url = _saved_coloring(root, options)
    capsys.readouterr()
    main(["--root", root, "--storage-options", json.dumps(options), "list"])
    main(["--root", root, "--storage-options", json.dumps(options), "find", "tri", "15"])
    _check_listing(capsys.readouterr().out.splitlines(), url)
    c = ColoredPattern.load(url, storage_options=options)
    assert (c.num_colors, c.nnz, c.colors.tolist()) == (3, 43, [i % 3 for i in range(15)])


@pytest.mark.slow  # in-process twin: test_listing_and_loading_in_process
def test_listing_and_loading_from_another_process(s3_root):
    root, options = s3_root
    url = _saved_coloring(root, options)
    # Another process: the listing command's entry point, then a load by URL.
    code = (
        "import sys, json\n"
        "from asdex_pipe import ColoredPattern\n"
        "from asdex_pipe.artifacts import main\n"
        "root, options = sys.argv[1], sys.argv[2]\n"
        "main(['--root', root, '--storage-options', options, 'list'])\n"
        "main(['--root', root, '--storage-options', options, 'find', 'tri', '15'])\n"
        "c = ColoredPattern.load(sys.argv[3], storage_options=json.loads(options))\n"
        "print('loaded', c.num_colors, c.nnz, c.colors.tolist() == [i % 3 for i in range(15)])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, root, json.dumps(options), url],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    _check_listing(lines, url)
    assert lines[-1] == "loaded 3 43 True"
