"""PNG figures written into run directories."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asdex_pipe.pattern import ColoredPattern

_MAX_SCATTER_NNZ = 200_000
_BINS = 600


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_colored_pattern(coloring: ColoredPattern, path: Path, title: str) -> Path:
    """Draw the pattern with each nonzero colored by its column's color; save a PNG.

    Large patterns (more than 200k nonzeros) are drawn as a binned image of the colors instead
    of one marker per nonzero, so the figure stays cheap.
    """
    plt = _pyplot()
    s = coloring.sparsity
    m, n = s.shape
    k = max(coloring.num_colors, 1)
    color_of = coloring.colors[s.rows] if coloring.mode == "VJP" else coloring.colors[s.cols]
    cmap = plt.get_cmap("tab20" if k <= 20 else "turbo", k)
    fig, ax = plt.subplots(figsize=(6, 6 * max(m, 1) / max(n, 1) if m < n else 6), dpi=120)
    if s.nnz <= _MAX_SCATTER_NNZ:
        size = max(0.5, min(30.0, 2e4 / max(m, n, 1)))
        ax.scatter(
            s.cols,
            s.rows,
            c=color_of,
            cmap=cmap,
            vmin=-0.5,
            vmax=k - 0.5,
            s=size,
            marker="s",
            linewidths=0,
        )
    else:
        bins_r, bins_c = min(m, _BINS), min(n, _BINS)
        img = np.full((bins_r, bins_c), np.nan)
        img[s.rows.astype(np.int64) * bins_r // m, s.cols.astype(np.int64) * bins_c // n] = color_of
        ax.imshow(
            img, cmap=cmap, vmin=-0.5, vmax=k - 0.5, extent=(0, n, m, 0), interpolation="nearest"
        )
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(m - 0.5, -0.5)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.set_title(f"{title}\n{s.nnz} nonzeros, {coloring.num_colors} colors ({coloring.algorithm})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
