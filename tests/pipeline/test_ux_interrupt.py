"""Ctrl-C: exit status 130, one line on stderr, ``status: interrupted`` in result.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.pipeline.conftest import REPO


def test_sigint_exits_130_with_one_line_and_records_interrupted(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Long enough to still be running when SIGINT arrives: many timing repeats at large n.
    proc = subprocess.Popen(
        [sys.executable, "-m", "asdex_pipe", "n=200000", "evaluate.repeats=100000",
         "verify.method=matvec", f"store.root={tmp_path / 'store'}", "hydra.run.dir=run"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    result = tmp_path / "run" / "result.json"
    try:
        deadline = time.monotonic() + 120
        while not result.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        assert result.exists()
        time.sleep(1.0)  # into the job's work
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
    saved = json.loads(result.read_text())
    assert saved["status"] == "interrupted"
