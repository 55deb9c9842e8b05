"""Propagation rules, one module per primitive family; importing this package registers them."""

from asdex_pipe.detection.rules import (  # noqa: F401
    control_flow,
    custom_derivatives,
    elementwise,
    indexing,
    linalg,
    powers,
    reductions,
    scan,
    sparse,
    structural,
    windows,
)
