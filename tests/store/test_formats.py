"""npz and Zarr persistence: round trips, atomic writes, validation of damaged files."""

import json
import subprocess
import sys

import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asdex_pipe import ArtifactError, ColoredPattern, SparsityPattern
from tests.profiles import examples

SUFFIXES = [".npz", ".zarr"]


def banded(n, k):
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return SparsityPattern.from_dense(np.abs(i - j) <= k)


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(
    max_examples=examples(20),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 2**31))
def test_sparsity_roundtrip(tmp_path, suffix, m, n, seed):
    a = np.random.default_rng(seed).random((m, n)) < 0.3
    p = SparsityPattern.from_dense(a)
    path = tmp_path / f"p{seed}{suffix}"
    p.save(path)
    q = SparsityPattern.load(path)
    assert q == p and q.shape == (m, n)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_colored_roundtrip_keeps_metadata(tmp_path, suffix):
    p = banded(10, 1)
    p.provenance["objective"] = "tri"
    cp = ColoredPattern(p, np.arange(10) % 3, "HVP", "star", "largest_first", provenance={"k": 1})
    path = tmp_path / f"c{suffix}"
    cp.save(path)
    back = ColoredPattern.load(path)
    assert back == cp
    assert back.provenance == {"k": 1}
    assert back.sparsity.provenance == {"objective": "tri"}


def test_seed_save_load_snippet(tmp_path):
    cp = ColoredPattern(banded(100, 1), np.arange(100) % 3, "HVP", "star")
    cp.save(tmp_path / "colored.npz")
    assert ColoredPattern.load(tmp_path / "colored.npz") == cp


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_wrong_kind_is_rejected(tmp_path, suffix):
    path = tmp_path / f"p{suffix}"
    banded(5, 1).save(path)
    with pytest.raises(ArtifactError, match="expected 'ColoredPattern'"):
        ColoredPattern.load(path)


def test_bad_suffix_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"\.npz or \.zarr"):
        banded(3, 0).save(tmp_path / "x.pkl")
    with pytest.raises(ArtifactError, match="no artifact"):
        SparsityPattern.load(tmp_path / "absent.zarr")


def test_truncated_zarr_is_rejected(tmp_path):
    path = tmp_path / "p.zarr"
    banded(20, 2).save(path)
    group = zarr.open_group(str(path), mode="r+")
    rows = group["rows"][:]
    del group["rows"]
    group.create_array("rows", data=rows[:-3])
    with pytest.raises(ArtifactError, match="truncated or tampered"):
        SparsityPattern.load(path)


def test_out_of_range_index_is_rejected(tmp_path):
    path = tmp_path / "p.zarr"
    banded(6, 1).save(path)
    group = zarr.open_group(str(path), mode="r+")
    group["cols"][0] = 99
    with pytest.raises(ArtifactError, match="out of range"):
        SparsityPattern.load(path)


def test_tampered_color_count_is_rejected(tmp_path):
    path = tmp_path / "c.zarr"
    ColoredPattern(banded(6, 1), np.arange(6) % 3, "HVP", "star").save(path)
    group = zarr.open_group(str(path), mode="r+")
    group.attrs["num_colors"] = 2
    with pytest.raises(ArtifactError, match="records 2 colors"):
        ColoredPattern.load(path)


def test_future_format_version_is_rejected(tmp_path):
    path = tmp_path / "p.zarr"
    banded(4, 0).save(path)
    zarr.open_group(str(path), mode="r+").attrs["format_version"] = 99
    with pytest.raises(ArtifactError, match="Upgrade asdex_pipe"):
        SparsityPattern.load(path)


def test_npz_is_loaded_without_pickle(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, rows=np.array([object()], dtype=object), __attrs__=np.array("{}"))
    with pytest.raises(ArtifactError):
        SparsityPattern.load(path)


def test_interrupted_write_leaves_previous_artifact(tmp_path, monkeypatch):
    from asdex_pipe.store import formats

    path = tmp_path / "p.zarr"
    good = banded(8, 1)
    good.save(path)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(formats, "_replace_dir", boom)
    with pytest.raises(KeyboardInterrupt):
        banded(8, 3).save(path)
    assert SparsityPattern.load(path) == good
    assert [p.name for p in tmp_path.iterdir()] == ["p.zarr"]  # no temp debris


def test_overwrite_replaces(tmp_path):
    path = tmp_path / "p.zarr"
    banded(8, 1).save(path)
    banded(8, 2).save(path)
    assert SparsityPattern.load(path) == banded(8, 2)


def test_plain_zarr_client_reads_layout(tmp_path):
    path = tmp_path / "c.zarr"
    cp = ColoredPattern(banded(7, 1), np.arange(7) % 3, "HVP", "star", "natural")
    cp.save(path)
    code = (
        "import json, sys, zarr\n"
        "g = zarr.open_group(sys.argv[1], mode='r')\n"
        "print(json.dumps({'kind': g.attrs['kind'], 'shape': g.attrs['shape'],"
        " 'nnz': g.attrs['nnz'], 'rows': g['rows'][:].tolist(),"
        " 'colors': g['colors'][:].tolist()}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "ColoredPattern" and data["shape"] == [7, 7]
    assert data["nnz"] == cp.nnz and data["rows"] == cp.sparsity.rows.tolist()
    assert data["colors"] == cp.colors.tolist()


def test_large_pattern_roundtrip(tmp_path):
    n = 10**6
    rng = np.random.default_rng(0)
    rows = rng.integers(0, n, 2 * 10**6)
    cols = rng.integers(0, n, 2 * 10**6)
    p = SparsityPattern.from_coo(rows, cols, (n, n))
    p.save(tmp_path / "big.zarr")
    assert SparsityPattern.load(tmp_path / "big.zarr") == p
