"""The artifact store's publication protocol on the local filesystem.

Unique immutable groups plus create-once pointers: concurrent writers of one key end with
one published artifact, a killed writer leaves nothing a reader accepts, a damaged artifact
or pointer is replaced, and `artifacts clean` removes what no pointer names.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import zarr

from asdex_pipe import ArtifactError, ColoredPattern, SparsityPattern
from asdex_pipe.artifacts import main as artifacts_main
from asdex_pipe.store import publish, records
from asdex_pipe.store.artifact_store import ArtifactStore
from asdex_pipe.store.formats import write_new_record

REPO = Path(__file__).resolve().parents[2]


def tridiagonal(n: int) -> SparsityPattern:
    i = np.arange(n)
    rows = np.concatenate([i, i[:-1], i[1:]])
    cols = np.concatenate([i, i[1:], i[:-1]])
    return SparsityPattern.from_coo(rows, cols, (n, n), provenance={"objective": "tri"})


def groups(store: ArtifactStore, kind: str = "sparsity") -> list[str]:
    return sorted(p.name for p in (Path(store.root) / kind).glob("*.zarr"))


def test_save_publishes_and_reloads(tmp_path):
    store = ArtifactStore(tmp_path / "s")
    p = tridiagonal(30)
    url = store.save("sparsity", "k1", p)
    assert store.load("sparsity", "k1") == p
    assert store.path("sparsity", "k1") == url
    pointer = json.loads((tmp_path / "s" / "sparsity" / "k1.json").read_text())
    assert pointer["artifact"] == Path(url).name and url.endswith(".zarr")
    # The published group is a plain Zarr group that the pattern API loads directly.
    assert SparsityPattern.load(url) == p
    assert store.load("sparsity", "other") is None and store.path("sparsity", "other") is None


def test_concurrent_writers_of_one_key_publish_exactly_one(tmp_path):
    store = ArtifactStore(tmp_path / "s")
    p = tridiagonal(2000)
    with ThreadPoolExecutor(6) as pool:
        urls = list(pool.map(lambda _: store.save("sparsity", "k", p), range(6)))
    assert len(set(urls)) == 1  # every writer ends up using the one published artifact
    assert groups(store) == [Path(urls[0]).name]  # the losers deleted their own copies
    assert store.load("sparsity", "k") == p
    assert not [n for n in os.listdir(tmp_path / "s" / "sparsity") if n.endswith(".tmp")]


KILL_POINTS = {
    # The arrays are half written and the attributes never land.
    "mid_write": """
        real = formats._write_zarr
        def write(url, arrays, attrs, storage_options=None):
            real(url, {"rows": arrays["rows"]}, {}, storage_options)
            os.kill(os.getpid(), signal.SIGKILL)
        formats._write_zarr = write
    """,
    # The artifact is complete but its pointer was never created.
    "before_publish": """
        def create_once(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        publish.create_once = create_once
    """,
}


def kill_writer(root: str, key: str, point: str, storage_options: dict | None = None) -> None:
    """Run a writer in another process and SIGKILL it at ``point``."""
    code = (
        textwrap.dedent(
            """
        import os, signal, sys, json
        import numpy as np
        from asdex_pipe import SparsityPattern
        from asdex_pipe.store import formats, publish
        from asdex_pipe.store.artifact_store import ArtifactStore
        """
        )
        + textwrap.dedent(KILL_POINTS[point])
        + textwrap.dedent(
            """
        store = ArtifactStore(sys.argv[1], json.loads(sys.argv[3]))
        store.save("sparsity", sys.argv[2], SparsityPattern.from_dense(np.eye(50)))
        print("survived")
        """
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", code, root, key, json.dumps(storage_options or {})],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert out.returncode == -9, out.stderr[-2000:]  # really killed, at the chosen point
    assert "survived" not in out.stdout


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_killed_writer_leaves_nothing_a_reader_accepts(tmp_path, point):
    root = tmp_path / "s"
    kill_writer(str(root), "k", point)
    store = ArtifactStore(root)
    (leftover,) = groups(store)  # the killed writer's group is there ...
    assert store.load("sparsity", "k") is None  # ... but nothing is published
    assert store.entries() == []
    assert [item.name for item in store.leftovers()] == [leftover]
    # The next writer publishes normally, and `clean` removes the leftover only.
    p = tridiagonal(10)
    url = store.save("sparsity", "k", p)
    assert store.load("sparsity", "k") == p
    assert [item.name for item in store.clean(older_than=dt.timedelta(0))] == [leftover]
    assert groups(store) == [Path(url).name]


def test_tampered_published_artifact_is_refused_and_replaced(tmp_path, caplog):
    store = ArtifactStore(tmp_path / "s")
    url = store.save("sparsity", "k", tridiagonal(10))
    cols = zarr.open_array(f"{url}/cols", mode="r+")
    cols[3] = (int(cols[3]) + 1) % 10
    with pytest.raises(ArtifactError, match="is corrupt"):
        SparsityPattern.load(url)
    assert store.load("sparsity", "k") is None
    assert "ignoring invalid artifact" in caplog.text
    new = store.save("sparsity", "k", tridiagonal(10))
    assert new != url and store.load("sparsity", "k") == tridiagonal(10)
    assert [item.path for item in store.leftovers()] == [url]  # the bad one, for `clean`


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": "other"}'])
def test_damaged_pointer_is_not_followed_and_is_replaced(tmp_path, content):
    store = ArtifactStore(tmp_path / "s")
    store.save("sparsity", "k", tridiagonal(8))
    (tmp_path / "s" / "sparsity" / "k.json").write_bytes(content)
    assert store.load("sparsity", "k") is None and store.entries() == []
    store.save("sparsity", "k", tridiagonal(8))
    assert store.load("sparsity", "k") == tridiagonal(8)


def test_pointer_checksum_must_match_the_artifact(tmp_path):
    store = ArtifactStore(tmp_path / "s")
    a = store.save("sparsity", "a", tridiagonal(8))
    store.save("sparsity", "b", tridiagonal(9))
    # Point key b at key a's (valid) group: the pointer's checksum no longer matches.
    pointer = tmp_path / "s" / "sparsity" / "b.json"
    data = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({**data, "artifact": "b." + Path(a).name.split(".", 1)[1]}))
    os.rename(a, Path(a).with_name("b." + Path(a).name.split(".", 1)[1]))
    assert store.load("sparsity", "b") is None


def test_clean_command_dry_run_and_age(tmp_path, capsys):
    root = tmp_path / "s"
    store = ArtifactStore(root)
    store.save("coloring", "c", ColoredPattern(tridiagonal(6), np.arange(6) % 3, "HVP", "star"))
    # A group no pointer names, as a losing or killed writer leaves it (see above).
    leftover = publish.unique_name("k")
    write_new_record(str(root / "sparsity" / leftover), *records.encode(tridiagonal(5)))
    assert artifacts_main(["--root", str(root), "clean", "--dry-run", "--older-than", "0s"]) == 0
    assert f"would delete {root / 'sparsity' / leftover}" in capsys.readouterr().out
    assert groups(store) == [leftover]
    assert artifacts_main(["--root", str(root), "clean"]) == 0  # default: older than 1h
    assert "deleted 0 unpublished" in capsys.readouterr().out and groups(store) == [leftover]
    assert artifacts_main(["--root", str(root), "clean", "--older-than", "0s"]) == 0
    assert groups(store) == []
    assert len(groups(store, "coloring")) == 1  # published artifacts are never cleaned
    assert artifacts_main(["--root", str(root), "clean", "--older-than", "soon"]) == 1
    assert "--older-than must look like" in capsys.readouterr().err


def test_unsupported_url_scheme_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match="atomic create-once"):
        ArtifactStore("memory://somewhere")


def test_file_url_root_is_the_local_store(tmp_path):
    p = tridiagonal(7)
    ArtifactStore(tmp_path / "s").save("sparsity", "k", p)
    assert ArtifactStore(f"file://{tmp_path / 's'}").load("sparsity", "k") == p
