"""``python -m asdex_pipe --help``: the groups, options and keys, from conf/ itself."""

from __future__ import annotations

from pathlib import Path

from asdex_pipe.pipeline.cli import config_dir
from asdex_pipe.pipeline.help import help_text
from asdex_pipe.vocabulary import ALGORITHMS, HVP_MODES
from tests.pipeline.conftest import run_cli


def test_help_lists_every_group_option_and_key():
    text = help_text()
    conf = Path(config_dir())
    for group in ("objective", "coloring", "store", "verify", "evaluate"):
        assert f"{group}=OPTION" in text or f"{group}.* keys" in text
    for option in conf.glob("*/*.yaml"):
        if option.stem != "default":
            assert f"\n  {option.stem} " in text, option
    for word in (*HVP_MODES, *ALGORITHMS, "stages", "store.root", "verify.method",
                 "evaluate.hutchinson_probes", "evaluate.optimizer", "dtype", "force"):  # fmt: skip
        assert word in text, word
    assert all(len(line) < 200 for line in text.splitlines())  # one line each


def test_help_from_the_command_line(tmp_path):
    out = run_cli("--help", cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "fwd_over_rev" in out.stdout and "objective=OPTION" in out.stdout
    assert "rosenbrock" in out.stdout and "hutchinson_probes" in out.stdout
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "outputs").exists()  # no Hydra run directory
