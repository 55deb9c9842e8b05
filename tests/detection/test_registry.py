"""The rule table against the installed JAX: every registered name is a real primitive."""

from __future__ import annotations

import jax

from asdex_pipe.detection import RULES
from asdex_pipe.detection.jax_compat import installed_primitive_names
from asdex_pipe.detection.registry import VERSION_SPECIFIC


def _major_minor() -> tuple[int, int]:
    major, minor = jax.__version__.split(".")[:2]
    return int(major), int(minor)


def test_every_registered_name_is_a_primitive_of_this_jax():
    known = installed_primitive_names()
    assert len(known) > 200  # the scan found JAX's primitives, not a handful
    unknown = sorted(set(RULES) - known - set(VERSION_SPECIFIC))
    assert not unknown, f"rules registered for names this jax does not define: {unknown}"


def test_version_specific_names_match_the_installed_version():
    # Each allow-listed name must be absent exactly where VERSION_SPECIFIC says, so the
    # list cannot hide a typo or outlive the versions it describes.
    known = installed_primitive_names()
    new = _major_minor() >= (0, 11)
    for name, versions in VERSION_SPECIFIC.items():
        assert name in RULES, name
        expected = new if versions.startswith("jax >= 0.11") else not new
        assert (name in known) == expected, (name, versions, jax.__version__)


def test_registry_covers_the_issue_families():
    for name in [
        "sin", "integer_pow", "select_n", "convert_element_type", "reshape", "pad", "gather",
        "scatter-add", "dynamic_slice", "reduce_sum", "cumsum", "sort", "top_k", "dot_general",
        "conv_general_dilated", "reduce_window_max", "select_and_scatter_add", "cholesky",
        "eigh", "svd", "qr", "lu", "triangular_solve", "fft", "jit", "custom_jvp_call",
        "custom_vjp_call", "cond", "while", "scan", "custom_linear_solve", "bcoo_dot_general",
        "bcoo_todense",
    ]:  # fmt: skip
        assert name in RULES, name
