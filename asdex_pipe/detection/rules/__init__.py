"""Propagation rules, one module per primitive family; importing this package registers them."""

from asdex_pipe.detection.rules import (  # noqa: F401
    control_flow,
    elementwise,
    indexing,
    linalg,
    reductions,
    sparse,
    structural,
    windows,
)
