"""The integer type of index arrays, chosen for the largest count they must hold."""

from __future__ import annotations

import numpy as np

INT32_LIMIT = 2**31 - 1


def index_dtype(largest: int) -> type:
    """``np.int32`` when every index below ``largest`` fits (the common case, half the
    memory and faster gathers), else ``np.int64``.

    Args:
        largest: the largest count an index may reach (a dimension or an array length).
    """
    return np.int32 if largest <= INT32_LIMIT else np.int64
