"""README's Python snippets run as written (docs that match the code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# Snippets that need a populated artifact store: those that find an artifact run below after
# the pipeline stored it; those that open a raw store path are exercised by the pipeline
# tests.
NEEDS_STORE = ("find_artifact(", '"artifacts/')
# What the store snippets look up, and the pipeline run that stores it.
STORED = 'find_artifact("rosenbrock", [1000], algorithm="star")'
STORE_RUN = (
    "objective=rosenbrock",
    "n=1000",
    "coloring=star",
    "stages=[sparsity,coloring]",
    "plots=false",
)


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _snippets() -> list[str]:
    return [b for b in _blocks() if not any(marker in b for marker in NEEDS_STORE)]


def _store_snippets() -> list[str]:
    return [b for b in _blocks() if "find_artifact(" in b]


def test_readme_has_runnable_snippets():
    assert len(_snippets()) >= 2


@pytest.mark.parametrize("index", range(len(_snippets())))
def test_readme_snippet_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = _snippets()[index]
    exec(compile(code, f"README.md snippet {index}", "exec"), {"__name__": "__readme__"})


def _populate_store(root: Path, out: Path) -> None:
    """Run the pipeline's sparsity and coloring stages into ``root`` (as the CLI would)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from asdex_pipe.pipeline import schema
    from asdex_pipe.pipeline.cli import config_dir, run_job

    schema.register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[*STORE_RUN, f"store.root={root}"])
    finally:
        GlobalHydra.instance().clear()
    out.mkdir()
    result = run_job(cfg, out)
    assert result["status"] == "ok", result.get("error")


def test_store_snippets_look_up_what_the_test_stores():
    assert _store_snippets() and all(STORED in b for b in _store_snippets())


@pytest.mark.parametrize("index", range(len(_store_snippets())))
def test_readme_store_snippet_runs(index, tmp_path, monkeypatch, capsys):
    """ "Loading artifacts elsewhere": runs against a store the pipeline populated, in the
    default root ``artifacts`` of the working directory."""
    monkeypatch.chdir(tmp_path)
    _populate_store(tmp_path / "artifacts", tmp_path / "run")
    capsys.readouterr()
    code = _store_snippets()[index]
    exec(compile(code, f"README.md store snippet {index}", "exec"), {"__name__": "__readme__"})
    if "PatternMismatchError" in code:  # the refusal it shows did happen
        assert "is not contained" in capsys.readouterr().out
