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

    See :func:`colored_pattern_figure` for what the figure shows.
    """
    plt = _pyplot()
    fig = colored_pattern_figure(coloring, title)
    fig.savefig(path)
    plt.close(fig)
    return path


def _inset_size(rows: np.ndarray, cols: np.ndarray, n: int) -> int:
    """Side of the top-left block the inset zooms into: at least 40, enough to show the
    bands near the top-left corner (twice the largest offset there), at most 1200."""
    near = (rows < 1200) & (cols < 1200)
    offset = int(np.max(np.abs(rows[near].astype(np.int64) - cols[near]))) if near.any() else 0
    return int(min(n, max(40, min(1200, 2 * offset + 2))))


def _scatter(ax, rows, cols, colors, cmap, k, cells: int, axes_inches: float):
    """One square marker per entry, sized to one cell but never under about 1.5 pixels, so
    single entries stay visible at any n."""
    cell_points = 72.0 * axes_inches / max(cells, 1)
    side = max(cell_points, 1.0)  # points; 1 pt is about 1.7 px at 120 dpi
    return ax.scatter(
        cols, rows, c=colors, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=side**2, marker="s",
        linewidths=0,
    )  # fmt: skip


def colored_pattern_figure(coloring: ColoredPattern, title: str):
    """The figure of :func:`plot_colored_pattern`.

    Each nonzero is a square colored by the color of its column (row for VJP colorings),
    sized so single entries stay visible at large n; patterns over 200k nonzeros are drawn
    as a binned image. An inset zooms into the top-left block (40×40 or larger, to show the
    bands near the corner) at one marker per entry, and a colorbar maps the colors (one
    product each) to their numbers.
    """
    plt = _pyplot()
    s = coloring.sparsity
    m, n = s.shape
    k = max(coloring.num_colors, 1)
    color_of = coloring.colors[s.rows] if coloring.mode == "VJP" else coloring.colors[s.cols]
    cmap = plt.get_cmap("tab20" if k <= 20 else "turbo", k)
    fig, ax = plt.subplots(figsize=(7.2, 6 * max(m, 1) / max(n, 1) if m < n else 6), dpi=120)
    axes_inches = 5.0
    if s.nnz <= _MAX_SCATTER_NNZ:
        mappable = _scatter(ax, s.rows, s.cols, color_of, cmap, k, max(m, n), axes_inches)
    else:
        bins_r, bins_c = min(m, _BINS), min(n, _BINS)
        img = np.full((bins_r, bins_c), np.nan)
        img[s.rows.astype(np.int64) * bins_r // m, s.cols.astype(np.int64) * bins_c // n] = color_of
        mappable = ax.imshow(
            img, cmap=cmap, vmin=-0.5, vmax=k - 0.5, extent=(0, n, m, 0), interpolation="nearest"
        )
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(m - 0.5, -0.5)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.set_title(f"{title}\n{s.nnz} nonzeros, {coloring.num_colors} colors ({coloring.algorithm})")
    size = _inset_size(s.rows, s.cols, min(m, n))
    if size < max(m, n):
        inset = ax.inset_axes([0.56, 0.56, 0.42, 0.42])
        keep = (s.rows < size) & (s.cols < size)
        _scatter(inset, s.rows[keep], s.cols[keep], color_of[keep], cmap, k, size, 0.42 * 5.0)
        inset.set_xlim(-0.5, size - 0.5)
        inset.set_ylim(size - 0.5, -0.5)
        inset.set_title(f"top-left {size}×{size}", fontsize=8)
        inset.tick_params(labelsize=6)
        inset.set_facecolor("white")
        ax.indicate_inset_zoom(inset, edgecolor="0.3")
    bar = fig.colorbar(mappable, ax=ax, fraction=0.046, pad=0.04)
    label = "HVP" if coloring.mode == "HVP" else coloring.mode
    bar.set_label(f"color (one {label} each)")
    if k <= 20:
        bar.set_ticks(range(k))
    fig.tight_layout()
    return fig


def plot_convergence(runs: dict[str, dict], path: Path, title: str) -> Path:
    """‖g‖ against wall time for each optimizer run (log scale on ‖g‖)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    labels = {
        "trust_ncg_sparse": "trust-NCG, sparse Hessian",
        "trust_ncg_hvp": "trust-NCG, matrix-free HVPs",
        "lbfgs": "L-BFGS-B (scipy)",
    }
    for name, run in runs.items():
        hist = np.asarray(run["history"], dtype=float)
        if hist.size == 0:
            continue
        ax.plot(hist[:, 0], np.maximum(hist[:, 1], 1e-300), ".-", label=labels.get(name, name))
    ax.set_yscale("log")
    times = [h[0] for r in runs.values() for h in r["history"] if h[0] > 0]
    if times and max(times) / min(times) >= 100:
        ax.set_xscale("log")
    ax.set_xlabel("wall time [s] (after a warm-up call that compiles)")
    ax.set_ylabel("gradient norm ‖g‖")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_hutchinson(
    points: list[dict], exact_seconds: float, colors: int, path: Path, title: str
) -> Path:
    """Hutchinson relative error and time against probes; the exact sparse diagonal's cost marked.

    Left: relative error (log-log) with the 1/sqrt(k) slope for reference and a vertical line at
    k = colors, the number of HVPs the exact sparse Hessian needs. Right: seconds per estimate
    with the sparse Hessian's time as a horizontal line.
    """
    plt = _pyplot()
    k = np.array([p["probes"] for p in points], dtype=float)
    err = np.array([p["relative_error"] for p in points])
    sec = np.array([p["seconds"] for p in points])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120)
    ax1.loglog(k, err, "o-", label="Hutchinson estimate")
    ax1.loglog(k, err[0] * np.sqrt(k[0] / k), ":", color="gray", label="∝ 1/√probes")
    ax1.axvline(colors, color="C3", ls="--", label=f"exact sparse diagonal: {colors} HVPs, error 0")
    ax1.set_xlabel("Rademacher probes (HVPs)")
    ax1.set_ylabel("relative error ‖d̂ − diag H‖ / ‖diag H‖")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)
    ax2.loglog(k, sec, "o-", label="Hutchinson estimate")
    ax2.axhline(exact_seconds, color="C3", ls="--", label="exact sparse Hessian (jitted)")
    ax2.set_xlabel("Rademacher probes (HVPs)")
    ax2.set_ylabel("time per estimate [s]")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
