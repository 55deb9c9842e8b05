"""A store that cannot be written, and corrupted artifacts: one clear sentence, no traceback."""

from __future__ import annotations

import logging

import pytest
import zarr

from asdex_pipe.artifacts import find_artifact, format_listing
from asdex_pipe.pipeline.cli import run_job
from asdex_pipe.store.artifact_store import ArtifactStore


def _run(make_cfg, tmp_path, *overrides, name="run", root=None):
    out = tmp_path / name
    out.mkdir()
    store = root or tmp_path / "store"
    cfg = make_cfg(f"store.root={store}", "n=20", "evaluate.repeats=1", *overrides)
    return run_job(cfg, out)


def test_unwritable_store_is_refused_before_any_work(make_cfg, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    root = blocker / "store"  # cannot be created, even by root
    result = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", root=root)
    assert result["status"] == "failed" and result.get("rejected") is True
    assert f"store.root={root} is not writable" in result["error"]
    assert "store.root=DIR" in result["error"] and "\n" not in result["error"]
    assert result["stages"] == {}  # nothing ran


def test_read_only_directory_is_refused(make_cfg, tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories; the file case covers root")
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o555)
    try:
        result = _run(make_cfg, tmp_path, "stages=[sparsity]", root=root)
    finally:
        root.chmod(0o755)
    assert result["status"] == "failed" and "is not writable" in result["error"]


def _corrupt_coloring(path: str) -> None:
    group = zarr.open_group(path, mode="r+")
    colors = group["colors"][:]
    colors[0] = (colors[0] + 1) % max(int(colors.max()) + 1, 2)
    group["colors"][:] = colors


def test_corrupt_artifact_refused_unless_its_stage_runs_and_reported_once(
    make_cfg, tmp_path, caplog
):
    first = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", name="a")
    assert first["status"] == "ok", first.get("error")
    path = first["artifacts"]["coloring"]
    _corrupt_coloring(path)
    root = str(tmp_path / "store")

    # A stage that only reads it refuses it, with the command that rebuilds it.
    refused = _run(make_cfg, tmp_path, "stages=[verify]", name="b")
    assert refused["status"] == "failed"
    assert "is corrupt and was not used" in refused["error"]
    assert "stages=[sparsity,coloring]" in refused["error"]
    # The lookup never offers it; the listing marks it.
    with pytest.raises(FileNotFoundError, match="corrupt"):
        find_artifact("rosenbrock", [20], root=root)
    listing = format_listing(ArtifactStore(root))
    assert "CORRUPT" in listing and path.rsplit("/", 1)[-1] in listing

    # Running its stage recomputes it, reporting the corruption once.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        rebuilt = _run(make_cfg, tmp_path, "stages=[sparsity,coloring]", name="c")
    assert rebuilt["status"] == "ok", rebuilt.get("error")
    assert rebuilt["stages"]["coloring"]["status"] == "computed"
    corrupt_lines = [r for r in caplog.records if "corrupt" in r.getMessage()]
    assert len(corrupt_lines) == 1, [r.getMessage() for r in caplog.records]
    assert find_artifact("rosenbrock", [20], root=root) == rebuilt["artifacts"]["coloring"]
    again = _run(make_cfg, tmp_path, "stages=[verify]", name="d")
    assert again["status"] == "ok", again.get("error")
