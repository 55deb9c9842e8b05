"""``python -m asdex_pipe.artifacts``: list shows what a store holds; rm and du exist."""

from __future__ import annotations

import pytest

from asdex_pipe.artifacts import main
from asdex_pipe.pipeline.cli import run_job


@pytest.fixture
def store(make_cfg, tmp_path):
    root = tmp_path / "store"
    for n in (20, 30):
        out = tmp_path / f"run{n}"
        out.mkdir()
        cfg = make_cfg(f"store.root={root}", f"n={n}", "stages=[sparsity,coloring]")
        assert run_job(cfg, out)["status"] == "ok"
    return str(root)


def _cli(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_list_shows_kind_shape_colors_mode_dtype_size_age(store, capsys):
    rc, out, _ = _cli(capsys, "--root", store, "list")
    assert rc == 0
    header = out.splitlines()[1].split()
    for column in ("kind", "shape", "nnz", "colors", "algorithm/order", "mode", "dtype", "size"):
        assert column in header
    assert "age" in header and "status" in header
    rows = [line for line in out.splitlines() if line.startswith("coloring")]
    assert len(rows) == 2
    assert all("star/largest_first" in r and "HVP" in r and "float64" in r for r in rows)
    assert all(" B " in r or "KiB" in r for r in rows) and all(" ok " in r for r in rows)


def test_rm_by_filter_with_dry_run_then_for_real(store, capsys):
    rc, out, _ = _cli(capsys, "--root", store, "rm", "--shape", "20", "--dry-run")
    assert rc == 0 and "would delete 2 artifact(s)" in out
    rc, out, _ = _cli(capsys, "--root", store, "list")
    assert out.count("rosenbrock") == 4  # nothing deleted
    rc, out, _ = _cli(capsys, "--root", store, "rm", "--shape", "20", "--kind", "coloring")
    assert rc == 0 and "deleted 1 artifact(s)" in out
    rc, out, _ = _cli(capsys, "--root", store, "find", "rosenbrock", "20")
    assert rc == 1
    rc, out, _ = _cli(capsys, "--root", store, "find", "rosenbrock", "30")
    assert rc == 0 and out.strip().endswith(".zarr")


def test_rm_by_key_or_path_and_refusal_without_target(store, capsys):
    rc, out, _ = _cli(capsys, "--root", store, "find", "rosenbrock", "30")
    path = out.strip()
    key = path.rsplit("/", 1)[-1].split(".")[0]
    rc, _, err = _cli(capsys, "--root", store, "rm")
    assert rc == 1 and "nothing was deleted" in err
    rc, _, err = _cli(capsys, "--root", store, "rm", "no-such-key-at-all")
    assert rc == 1 and "matches" in err
    rc, out, _ = _cli(capsys, "--root", store, "rm", key[:8])
    assert rc == 0 and "deleted 1 artifact(s)" in out
    rc, out, _ = _cli(
        capsys, "--root", store, "rm", "--kind", "sparsity", "--objective", "rosenbrock"
    )
    assert rc == 0 and "deleted 2 artifact(s)" in out


def test_du_reports_sizes_per_kind_and_total(store, capsys):
    rc, out, _ = _cli(capsys, "--root", store, "du")
    assert rc == 0
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(lines) >= {"sparsity", "coloring", "leftovers", "jax_cache", "total"}
    assert lines["coloring"].split()[1] == "2"
    assert "B" in lines["total"]
