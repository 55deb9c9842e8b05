"""Every command README shows is valid as written: each ``python -m asdex_pipe ...`` line
(sweeps expanded into their jobs) composes and passes the schema's validation, the
artifacts commands run against a store, and ``--help`` answers. The jobs themselves run
in the pipeline tests; here nothing is skipped for being a placeholder: the example
modules README names (``my_pkg.my_mod:my_fn``, ``my_mod:loss``) are written first."""

from __future__ import annotations

import itertools
import re
import shlex
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

MY_PKG = """
import jax.numpy as jnp


def my_fn(x):
    return jnp.sum(x[1:] * x[:-1] ** 2)
"""
MY_MOD = """
import jax.numpy as jnp


def loss(params, batch):
    value = jnp.sum(params["w"][1:] * params["w"][:-1] * batch["a"])
    return value, {"value": value}


def make_inputs():
    return ({"w": jnp.ones(5)}, {"a": jnp.arange(4.0)}), {}
"""


def _commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s{2,}#.*$", "", line).strip()
            if line.startswith("python -m asdex_pipe"):
                lines.append(" ".join(line.split()))
    return lines


def test_readme_shows_the_commands_this_test_checks():
    commands = _commands()
    assert len(commands) >= 10
    assert any(" -m " in c for c in commands) and any("asdex_pipe.artifacts" in c for c in commands)


def _jobs(tokens: list[str], tmp_path: Path) -> list[list[str]]:
    """The jobs of a command's overrides: sweeps expanded, launcher settings dropped (the
    launcher tests cover them), store roots moved under ``tmp_path``."""
    overrides, sweep = [], "-m" in tokens
    for tok in tokens:
        if tok == "-m" or tok.startswith(("hydra", "+store.storage_options")):
            continue
        if tok.startswith("store.root="):
            tok = f"store.root={tmp_path / 'store'}"
        overrides.append(tok)
    if not sweep:
        return [overrides]
    choices = []
    for tok in overrides:
        key, _, value = tok.partition("=")
        many = "," in value and not value.startswith("[")
        choices.append([f"{key}={v}" for v in value.split(",")] if many else [tok])
    return [list(job) for job in itertools.product(*choices)]


@pytest.mark.parametrize("command", _commands())
def test_readme_command_is_valid(command, tmp_path, monkeypatch):
    tokens = shlex.split(command)[2:]
    module = tokens.pop(0)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_pkg").mkdir()
    (tmp_path / "my_pkg" / "__init__.py").write_text("")
    (tmp_path / "my_pkg" / "my_mod.py").write_text(MY_PKG)
    (tmp_path / "my_mod.py").write_text(MY_MOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("my_mod", "my_pkg", "my_pkg.my_mod"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    if module == "asdex_pipe.artifacts":
        from asdex_pipe.artifacts import main

        args = [t for t in tokens if not t.startswith(("s3://", "{"))]
        args = [t for t in args if t not in ("--root", "--storage-options")]
        assert main(["--root", str(tmp_path / "store"), *args]) == 0
        return
    if tokens == ["--help"]:
        from asdex_pipe.pipeline.help import help_text

        assert "objective" in help_text() and "fwd_over_rev" in help_text()
        return
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from asdex_pipe.pipeline import schema
    from asdex_pipe.pipeline.cli import config_dir

    schema.register()
    for job in _jobs(tokens, tmp_path):
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
                cfg = compose(config_name="config", overrides=job)
        finally:
            GlobalHydra.instance().clear()
        spec = schema.validate(cfg)  # one clear PipelineError on a bad value
        assert spec.stages, job
