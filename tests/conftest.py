"""Test-wide settings: float64 available everywhere (float32 tests ask for it explicitly), and
the hypothesis profile (``HYPOTHESIS_PROFILE``, see ``tests/profiles.py``)."""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")

import jax

jax.config.update("jax_enable_x64", True)

import tests.profiles  # noqa: E402,F401  (registers and loads the hypothesis profile)
