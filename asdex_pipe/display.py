"""Unicode braille previews of sparsity patterns.

Each braille character shows a 4×2 block of pixels. A matrix larger than the
preview budget is downsampled: entry (i, j) lights pixel
(floor(i * s), floor(j * s)) with one scale ``s`` for both axes, so the
picture keeps the matrix's aspect ratio. The seed's 100×100 Rosenbrock
pattern, for example, becomes 80×80 pixels: 20 lines of 40 characters.
"""

from __future__ import annotations

import numpy as np

#: Largest preview width in pixels (two per character, so 40 characters).
MAX_PIXELS = 80

# Bit of each dot in a braille cell, indexed [pixel row within cell, pixel column].
_DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
_BRAILLE_BASE = 0x2800


def preview_scale(shape: tuple[int, int], max_pixels: int = MAX_PIXELS) -> float:
    """Return the pixels-per-entry scale that fits ``shape`` into ``max_pixels``.

    Args:
        shape: (rows, cols) of the matrix.
        max_pixels: the largest number of pixels along either axis.

    Returns:
        A scale in (0, 1]; 1 means no downsampling.
    """
    largest = max(shape[0], shape[1], 1)
    return min(1.0, max_pixels / largest)


def braille_lines(
    rows: np.ndarray,
    cols: np.ndarray,
    shape: tuple[int, int],
    row_scale: float,
    col_scale: float,
) -> list[str]:
    """Render the nonzeros (rows[k], cols[k]) of a ``shape`` matrix as braille lines.

    Args:
        rows, cols: 1-D integer arrays of equal length, the nonzero coordinates.
        shape: (m, n), the matrix shape.
        row_scale, col_scale: pixels per matrix row / column, in (0, 1].

    Returns:
        One string per line of characters, without brackets; empty list for m == 0.
    """
    m, n = shape
    height = max(1, int(np.ceil(m * row_scale))) if m else 0
    width = max(1, int(np.ceil(n * col_scale))) if n else 0
    lines_count = -(-height // 4)
    chars_count = -(-width // 2)
    if lines_count == 0 or chars_count == 0:
        return [""] * lines_count
    pr = np.minimum((np.asarray(rows, dtype=np.int64) * row_scale).astype(np.int64), height - 1)
    pc = np.minimum((np.asarray(cols, dtype=np.int64) * col_scale).astype(np.int64), width - 1)
    cell = (pr // 4) * chars_count + (pc // 2)
    bits = _DOT_BITS[pr % 4, pc % 2]
    codes = np.zeros(lines_count * chars_count, dtype=np.int64)
    # A pixel lit twice must not carry into the next bit, hence bitwise_or.at, not add.
    np.bitwise_or.at(codes, cell, bits)
    grid = (codes + _BRAILLE_BASE).reshape(lines_count, chars_count)
    return ["".join(map(chr, line)) for line in grid.tolist()]


def bracket(lines: list[str]) -> list[str]:
    """Wrap preview lines in tall matrix brackets (⎡⎢⎣ … ⎤⎥⎦), or [ ] for one line."""
    if not lines:
        return []
    if len(lines) == 1:
        return [f"[{lines[0]}]"]
    out = [f"⎡{lines[0]}⎤"]
    out += [f"⎢{line}⎥" for line in lines[1:-1]]
    out.append(f"⎣{lines[-1]}⎦")
    return out


def side_by_side(left: list[str], right: list[str], arrow: str = "→") -> list[str]:
    """Place two bracketed previews next to each other with an arrow on the middle line."""
    height = max(len(left), len(right))
    lw = max((len(s) for s in left), default=0)
    rw = max((len(s) for s in right), default=0)
    left = left + [" " * lw] * (height - len(left))
    right = right + [" " * rw] * (height - len(right))
    middle = height // 2
    return [
        f"{a} {arrow if k == middle else ' '} {b}"
        for k, (a, b) in enumerate(zip(left, right, strict=True))
    ]
