"""An open-addressing table from (vertex, color) pairs to int64 slots, for numba kernels.

The star coloring kernel asks, for a vertex ``w`` and a color ``c``: "has ``w`` a
neighbour of color ``c`` already, and in which two-colored star?". A dense
``vertices × colors`` table would cost n² memory on hubs; this table holds one entry per
pair that occurs, at most one per edge, so memory stays proportional to the pattern.

Keys are ``vertex * stride + color`` (int64, ``stride`` > every color) and -1 marks an
empty slot. Linear probing at load ≤ 1/2 with Fibonacci hashing (Knuth, TAOCP vol. 3,
6.4): a multiplication by 2^64/φ spreads consecutive keys, which vertex-major keys are.
"""

from __future__ import annotations

import numpy as np

from asdex_pipe.kernels import kernel

_GOLDEN = np.uint64(11400714819323198485)  # 2^64 / golden ratio, odd


def table_bits(entries: int) -> int:
    """log2 of a power-of-two capacity holding ``entries`` keys at load ≤ 1/2 (≥ 2^4)."""
    return max(4, int(2 * max(entries, 1) - 1).bit_length())


@kernel(cache=True, inline="always")
def find_slot(keys, key, bits):  # pragma: no cover - numba
    """Slot of ``key`` in ``keys`` (capacity 2^bits), or of the empty slot that ends its
    probe sequence when absent (check ``keys[slot] == key``)."""
    mask = (np.int64(1) << bits) - 1
    i = np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(64 - bits))
    while keys[i] != key and keys[i] != -1:
        i = (i + 1) & mask
    return i
