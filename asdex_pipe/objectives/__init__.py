"""Built-in test objectives, registered by name, plus loading of a user's own objective.

Every objective is a scalar function of one array of any size it supports, with
a default input shape, a deterministic starting point ``x0`` and a one-line
description (shown in listings and summaries).
"""

from asdex_pipe.objectives.registry import (
    OBJECTIVES,
    Objective,
    get_objective,
    load_user_function,
)

__all__ = ["OBJECTIVES", "Objective", "get_objective", "load_user_function"]
