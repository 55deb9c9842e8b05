"""Sweep-level figures from the jobs' result.json files: time and colors against n."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from asdex_pipe.pipeline.plots import _pyplot


def _series(results: list[dict[str, Any]], value_key: str) -> dict[str, list[tuple[int, float]]]:
    """Group (n, value) points by objective/algorithm label, sorted by n."""
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in results:
        ev = r.get("evaluate") or {}
        value = ev.get(value_key) if value_key in ev else r.get(value_key)
        if r.get("status") != "ok" or value is None or "n" not in r:
            continue
        label = f"{r['objective']} / {r['coloring']['algorithm']}"
        out[label].append((int(r["n"]), float(value)))
    return {k: sorted(set(v)) for k, v in out.items()}


def _log_if_spanning(ax: Any, values: list[float], axis: str) -> None:
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) >= 10:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def plot_time_vs_n(results: list[dict[str, Any]], path: Path) -> Path | None:
    """Sparse Hessian, dense Hessian and gradient time against n; None if nothing to plot."""
    curves = {
        "sparse Hessian": _series(results, "sparse_hessian_s"),
        "dense jax.hessian": _series(results, "dense_hessian_s"),
        "gradient": _series(results, "gradient_s"),
    }
    if not any(curves.values()):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    styles = {"sparse Hessian": "o-", "dense jax.hessian": "s--", "gradient": "^:"}
    xs, ys = [], []
    for what, by_label in curves.items():
        for label, pts in by_label.items():
            n, t = zip(*pts, strict=True)
            ax.plot(n, t, styles[what], label=f"{what} ({label})")
            xs += n
            ys += t
    _log_if_spanning(ax, xs, "x")
    _log_if_spanning(ax, ys, "y")
    ax.set_xlabel("n (input size)")
    ax.set_ylabel("time per evaluation [s] (median, jitted)")
    ax.set_title("Evaluation time against problem size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_colors_vs_n(results: list[dict[str, Any]], path: Path) -> Path | None:
    """Number of colors (HVPs per Hessian) against n for each objective / algorithm."""
    by_label = _series(results, "colors")
    if not by_label:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    xs = []
    for label, pts in by_label.items():
        n, k = zip(*pts, strict=True)
        ax.plot(n, k, "o-", label=label)
        xs += n
    _log_if_spanning(ax, xs, "x")
    ax.set_xlabel("n (input size)")
    ax.set_ylabel("colors (HVPs per Hessian)")
    ax.set_title("Colors against problem size")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
