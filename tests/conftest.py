"""Test-wide settings: float64 available everywhere (float32 tests ask for it explicitly), and
the hypothesis profile (``HYPOTHESIS_PROFILE``, see ``tests/profiles.py``)."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
# IpoptProblem's default compilation cache goes to a directory of this run, not ~/.cache.
_OWN_CACHE = "ASDEX_PIPE_CACHE_DIR" not in os.environ
if _OWN_CACHE:
    os.environ["ASDEX_PIPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="asdex-pipe-jax-cache-")

import jax  # noqa: E402  (after XLA_FLAGS)

jax.config.update("jax_enable_x64", True)
if _OWN_CACHE:
    atexit.register(shutil.rmtree, os.environ["ASDEX_PIPE_CACHE_DIR"], ignore_errors=True)

import tests.profiles  # noqa: E402,F401  (registers and loads the hypothesis profile)
