"""Damaged and tampered artifacts: every one is refused with an ArtifactError naming the problem.

Each test saves a real artifact through ``.save``, edits the file behind asdex_pipe's back
(rewriting the ``.npz`` or editing the Zarr group in place) and loads it through the public
``SparsityPattern.load`` / ``ColoredPattern.load``.
"""

import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import zarr

from asdex_pipe import ArtifactError, ColoredPattern, SparsityPattern
from asdex_pipe.store import formats

SUFFIXES = [".npz", ".zarr"]


def banded(n, k):
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return SparsityPattern.from_dense(np.abs(i - j) <= k)


def colored(n=6):
    """A valid star coloring of the tridiagonal pattern (3 colors, period 3)."""
    return ColoredPattern(banded(n, 1), np.arange(n) % 3, "HVP", "star", "natural")


def gappy():
    """5x5 pattern whose entry (0, 3) can move to (0, 4) and stay sorted and in range."""
    return SparsityPattern.from_coo([0, 0, 1, 2, 4], [0, 3, 1, 2, 4], (5, 5))


def rewrite(path, mutate, *, resign=False):
    """Apply ``mutate(arrays, attrs)`` (it edits both dicts in place) to a saved artifact.

    The file itself is rewritten, as a plain numpy or zarr user would. With ``resign`` the
    checksum is recomputed afterwards, so that only the other checks can
    catch the edit.
    """
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        attrs = json.loads(str(arrays.pop("__attrs__")))
    else:
        group = zarr.open_group(str(path), mode="r+")
        arrays = {k: group[k][:] for k in group.keys()}
        attrs = json.loads((path / "zarr.json").read_text())["attributes"]
    before = {k: v.copy() for k, v in arrays.items()}
    mutate(arrays, attrs)
    if resign:
        attrs["checksum"]["value"] = formats.checksum(arrays, attrs)
    if path.suffix == ".npz":
        with open(path, "wb") as fh:
            np.savez(fh, **arrays, __attrs__=np.array(json.dumps(attrs)))
        return
    for name in set(before) | set(arrays):
        old, data = before.get(name), arrays.get(name)
        if data is not None and old is not None and old.shape == data.shape:
            if old.dtype == data.dtype:
                group[name][...] = data
                continue
        if old is not None:
            del group[name]
        if data is not None:
            group.create_array(name, data=np.asarray(data))
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"] = attrs
    (path / "zarr.json").write_text(json.dumps(meta))


def saved(tmp_path, artifact, suffix, name="a"):
    path = tmp_path / f"{name}{suffix}"
    artifact.save(path)
    return path


# ------------------------------------------------------------------ the checksum itself


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_checksum_attribute_matches_a_plain_recomputation(tmp_path, suffix):
    """The recipe README documents, written out independently of asdex_pipe."""
    cp = colored(7)
    path = saved(tmp_path, cp, suffix)
    if suffix == ".npz":
        with np.load(path) as z:
            attrs = json.loads(str(z["__attrs__"]))
            arrays = {k: z[k] for k in ("rows", "cols", "colors")}
    else:
        g = zarr.open_group(str(path), mode="r")
        attrs = dict(g.attrs)
        arrays = {k: g[k][:] for k in ("rows", "cols", "colors")}
    crc = 0
    for name in ("rows", "cols", "colors"):
        crc = zlib.crc32(arrays[name].astype("<i8").tobytes(), crc)
    keys = ("kind", "shape", "nnz", "mode", "algorithm", "order", "num_colors")
    header = {k: attrs[k] for k in keys if k in attrs}
    crc = zlib.crc32(json.dumps(header, sort_keys=True, separators=(",", ":")).encode(), crc)
    assert attrs["checksum"] == {"algorithm": "crc32", "value": crc}
    assert attrs["format_version"] == formats.FORMAT_VERSION == 2


def test_checksum_does_not_depend_on_the_stored_dtype(tmp_path):
    """Re-storing the same indices as int64 (as a foreign writer might) still loads."""
    path = saved(tmp_path, colored(), ".zarr")
    assert zarr.open_group(str(path), mode="r")["rows"].dtype == np.int32

    def widen(arrays, attrs):
        for name in arrays:
            arrays[name] = arrays[name].astype(np.int64)

    rewrite(path, widen)
    assert zarr.open_group(str(path), mode="r")["rows"].dtype == np.int64
    assert ColoredPattern.load(path) == colored()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_untouched_rewrite_still_loads(tmp_path, suffix):
    """The editing helper alone changes nothing: the failures below come from the edits."""
    path = saved(tmp_path, colored(), suffix)
    rewrite(path, lambda arrays, attrs: None)
    assert ColoredPattern.load(path) == colored()


# ------------------------------------------------------------------ consistent edits


def _drop_last_nonzero(arrays, attrs):
    arrays["rows"] = arrays["rows"][:-1]
    arrays["cols"] = arrays["cols"][:-1]
    attrs["nnz"] -= 1


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", ["sparsity", "colored"])
def test_dropping_a_nonzero_consistently_is_detected(tmp_path, suffix, kind):
    artifact = banded(6, 1) if kind == "sparsity" else colored()
    path = saved(tmp_path, artifact, suffix)
    rewrite(path, _drop_last_nonzero)
    cls = type(artifact)
    with pytest.raises(ArtifactError, match="do not match their checksum"):
        cls.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_in_range_cols_edit_is_detected(tmp_path, suffix):
    path = saved(tmp_path, gappy(), suffix)

    def move(arrays, attrs):
        assert arrays["cols"][1] == 3
        arrays["cols"][1] = 4  # (0, 3) -> (0, 4): still sorted, in range, no duplicate

    rewrite(path, move)
    with pytest.raises(ArtifactError, match="do not match their checksum"):
        SparsityPattern.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_in_range_colors_edit_is_detected(tmp_path, suffix):
    path = saved(tmp_path, colored(), suffix)

    def recolor(arrays, attrs):
        assert arrays["colors"].tolist() == [0, 1, 2, 0, 1, 2]
        arrays["colors"][0] = 2  # still 3 colors, every vertex colored

    rewrite(path, recolor)
    with pytest.raises(ArtifactError, match="do not match their checksum"):
        ColoredPattern.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    ("name", "value"), [("mode", "JVP"), ("algorithm", "acyclic"), ("order", "largest_first")]
)
def test_valid_looking_attribute_edit_is_detected(tmp_path, suffix, name, value):
    path = saved(tmp_path, colored(), suffix)
    rewrite(path, lambda arrays, attrs: attrs.__setitem__(name, value))
    with pytest.raises(ArtifactError, match="do not match their checksum"):
        ColoredPattern.load(path)


# ------------------------------------------------------------------ malformed attributes

BAD_ATTRS = [
    ("provenance", "hello", "'provenance' must be a JSON object"),
    ("provenance", [1, 2], "'provenance' must be a JSON object"),
    ("sparsity_provenance", 5, "'sparsity_provenance' must be a JSON object"),
    ("num_colors", None, "'num_colors' must be a non-negative integer"),
    ("num_colors", "three", "'num_colors' must be a non-negative integer"),
    ("num_colors", True, "'num_colors' must be a non-negative integer"),
    ("nnz", 13.5, "'nnz' must be a non-negative integer"),
    ("nnz", 14.0, "'nnz' must be a non-negative integer"),
    ("nnz", "x", "'nnz' must be a non-negative integer"),
    ("nnz", -1, "'nnz' must be a non-negative integer"),
    ("shape", [6, 6, 1], "attribute 'shape'"),
    ("shape", [True, 6], "attribute 'shape'"),
    ("format_version", True, "no valid format_version"),
    ("format_version", "2", "no valid format_version"),
    ("format_version", 0, "no valid format_version"),
    ("algorithm", "bogus", "'algorithm' must be one of"),
    ("algorithm", [1, 2], "'algorithm' must be one of"),
    ("mode", "bogus", "'mode' must be one of"),
    ("mode", 3, "'mode' must be one of"),
    ("order", 5, "'order' must be a string"),
    ("checksum", "0", "attribute 'checksum' must be"),
    ("checksum", {"algorithm": "md5", "value": 1}, "attribute 'checksum' must be"),
    ("checksum", {"algorithm": "crc32", "value": 2**32}, "attribute 'checksum' must be"),
    ("checksum", {"algorithm": "crc32", "value": True}, "attribute 'checksum' must be"),
]


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(("name", "value", "message"), BAD_ATTRS)
def test_malformed_attribute_is_rejected(tmp_path, suffix, name, value, message):
    path = saved(tmp_path, colored(), suffix)
    # Re-signed, so these are refused by the type checks, not merely by the checksum.
    resign = name not in ("checksum", "format_version")
    rewrite(path, lambda arrays, attrs: attrs.__setitem__(name, value), resign=resign)
    with pytest.raises(ArtifactError, match=message):
        ColoredPattern.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(
    "name",
    ["shape", "nnz", "provenance", "mode", "algorithm", "order", "num_colors", "checksum"],
)
def test_missing_attribute_is_rejected(tmp_path, suffix, name):
    path = saved(tmp_path, colored(), suffix)
    rewrite(path, lambda arrays, attrs: attrs.pop(name), resign=False)
    with pytest.raises(ArtifactError, match=f"no '{name}' attribute"):
        ColoredPattern.load(path)


def _replace_npz_attrs(path, raw):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["__attrs__"] = raw
    np.savez(path, **arrays)


@pytest.mark.parametrize("text", ["[1, 2, 3]", "5", '"text"', "null"])
def test_npz_attributes_that_are_not_an_object_are_rejected(tmp_path, text):
    path = saved(tmp_path, colored(), ".npz")
    _replace_npz_attrs(path, np.array(text))
    with pytest.raises(ArtifactError, match="attributes must be a JSON object"):
        ColoredPattern.load(path)


def test_npz_attributes_that_are_not_json_are_rejected(tmp_path):
    path = saved(tmp_path, colored(), ".npz")
    _replace_npz_attrs(path, np.array("{not json"))
    with pytest.raises(ArtifactError, match="__attrs__ is not valid JSON"):
        ColoredPattern.load(path)


@pytest.mark.parametrize("raw", [np.array(5), np.array(["{}", "{}"])])
def test_npz_attrs_entry_of_the_wrong_form_is_rejected(tmp_path, raw):
    path = saved(tmp_path, banded(4, 1), ".npz")
    _replace_npz_attrs(path, raw)
    with pytest.raises(ArtifactError, match="single JSON string"):
        SparsityPattern.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_unexpected_entry_is_rejected(tmp_path, suffix):
    path = saved(tmp_path, banded(4, 1), suffix)
    rewrite(path, lambda arrays, attrs: arrays.__setitem__("evil", np.arange(3)))
    with pytest.raises(ArtifactError, match=r"unexpected entries \['evil'\]"):
        SparsityPattern.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_previous_format_version_without_checksum_is_rejected(tmp_path, suffix):
    path = saved(tmp_path, colored(), suffix)

    def downgrade(arrays, attrs):
        attrs["format_version"] = 1
        del attrs["checksum"]

    rewrite(path, downgrade)
    with pytest.raises(ArtifactError, match="format_version 1, written by an older asdex_pipe"):
        ColoredPattern.load(path)


# ------------------------------------------------------------------ order and ranges

UNSORTED = [
    # reversed: rows decrease
    (lambda a: {"rows": a["rows"][::-1].copy(), "cols": a["cols"][::-1].copy()}, "rows are not"),
    # entries (0, 0) and (0, 1) swapped: rows sorted, cols not within row 0
    (
        lambda a: {"cols": np.concatenate([a["cols"][1::-1], a["cols"][2:]])},
        "cols are not sorted within row 0",
    ),
    # (0, 1) replaced by a second (0, 0)
    (
        lambda a: {"cols": np.concatenate([[0, 0], a["cols"][2:]]).astype(a["cols"].dtype)},
        r"holds the entry \(0, 0\) twice",
    ),
]


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize(("edit", "message"), UNSORTED)
def test_unsorted_or_duplicate_entries_are_rejected_not_resorted(tmp_path, suffix, edit, message):
    path = saved(tmp_path, banded(6, 1), suffix)
    rewrite(path, lambda arrays, attrs: arrays.update(edit(arrays)), resign=True)
    with pytest.raises(ArtifactError, match=message):
        SparsityPattern.load(path)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_colors_beyond_int32_are_rejected_not_wrapped(tmp_path, suffix):
    path = saved(tmp_path, colored(), suffix)

    def huge(arrays, attrs):
        colors = arrays["colors"].astype(np.int64)
        colors[0] = 2**32  # the int32 cast would make this 0, a valid-looking color
        arrays["colors"] = colors

    rewrite(path, huge, resign=True)
    with pytest.raises(ArtifactError, match=r"colors must lie in \[-1, 2147483647\]"):
        ColoredPattern.load(path)


# ------------------------------------------------------------------ saving


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_saving_unserialisable_provenance_fails_cleanly(tmp_path, suffix):
    p = banded(3, 0)
    p.provenance["f"] = lambda x: x
    with pytest.raises(TypeError, match="must be JSON-serialisable"):
        p.save(tmp_path / f"p{suffix}")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary debris


def test_saving_an_unknown_algorithm_name_fails(tmp_path):
    cp = ColoredPattern(banded(3, 1), [0, 1, 2], "HVP", "my_own")
    with pytest.raises(ValueError, match="cannot save a coloring of algorithm 'my_own'"):
        cp.save(tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()
