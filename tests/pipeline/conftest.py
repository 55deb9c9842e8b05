"""Helpers for pipeline tests: compose configs in-process, run the CLI in-process (the default
run's twins of the subprocess and launcher tests) or in a subprocess (``slow``).

Pipeline tests run with ``plots=false`` unless they are about the figures (they pass
``plots=true``): drawing PNGs costs seconds and tests nothing else."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from asdex_pipe.pipeline import schema
from asdex_pipe.pipeline.cli import config_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_cfg():
    """compose(overrides) -> the pipeline config, exactly as the CLI would build it."""
    schema.register()

    def _compose(*overrides: str):
        GlobalHydra.instance().clear()
        plots = [] if any(o.startswith("plots=") for o in overrides) else ["plots=false"]
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            return compose(config_name="config", overrides=[*plots, *overrides])

    yield _compose
    GlobalHydra.instance().clear()


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m asdex_pipe ARGS`` in ``cwd`` like a user would."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "asdex_pipe", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def cli_in_process(monkeypatch, capsys):
    """run(*args, cwd) -> (exit status, stdout, stderr) of ``python -m asdex_pipe ARGS`` run in
    this process: Hydra's own argument parsing, composition, launcher (the basic one unless the
    arguments pick another), callbacks and logging, as ``main()`` does them for a user.

    The root logger's handlers and level, which Hydra's job logging replaces, are restored
    afterwards, and Hydra's global state is cleared.
    """
    from asdex_pipe.pipeline import cli
    from asdex_pipe.pipeline.summary import SweepSummaryCallback

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level

    def run(*args: str, cwd: Path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["asdex_pipe", *args])
        monkeypatch.setattr(SweepSummaryCallback, "failed_jobs", 0)
        GlobalHydra.instance().clear()
        capsys.readouterr()
        try:
            cli.main()
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            GlobalHydra.instance().clear()
        out = capsys.readouterr()
        return status, out.out, out.err

    yield run
    for handler in root.handlers:
        if handler not in saved_handlers:
            handler.close()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
