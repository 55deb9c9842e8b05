"""Sweep-level figures from the jobs' result.json files: time and colors across the sweep.

The figures name what the sweep varied. Every swept key (objective, mode, algorithm, order,
dtype, n: whatever differs between the jobs) appears on an axis or in the legend as
``key=value``, and the keys held fixed are listed in the title. When n varies, the values
are drawn against n, one line per combination of the other swept keys; when it does not, as
grouped bars, one group per combination.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from asdex_pipe.pipeline.plots import _pyplot

#: What a job may vary: (name in the legend, path into result.json).
SWEEP_KEYS = (
    ("objective", ("objective",)),
    ("algorithm", ("coloring", "algorithm")),
    ("order", ("coloring", "order")),
    ("mode", ("mode",)),
    ("dtype", ("dtype",)),
    ("n", ("n",)),
)

#: The time figure's quantities: (result.json evaluate key, label, marker style).
TIMES = (
    ("sparse_hessian_s", "sparse Hessian", "o-"),
    ("dense_hessian_s", "dense jax.hessian", "s--"),
    ("gradient_s", "gradient", "^:"),
)


def _get(r: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(r, dict):
            return None
        r = r.get(key)
    return r


def _value(r: dict[str, Any], key: str) -> Any:
    ev = r.get("evaluate") or {}
    return ev.get(key) if key in ev else r.get(key)


def _ok(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r.get("status") == "ok" and "n" in r]


def swept_keys(results: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """``(keys that vary, {fixed key: its one value})`` over the successful jobs."""
    varied, fixed = [], {}
    for name, path in SWEEP_KEYS:
        values = {str(_get(r, path)) for r in results}
        if len(values) > 1:
            varied.append(name)
        elif values:
            fixed[name] = values.pop()
    return varied, fixed


def _label(r: dict[str, Any], keys: list[str]) -> str:
    paths = dict(SWEEP_KEYS)
    return ", ".join(f"{k}={_get(r, paths[k])}" for k in keys)


def _title(what: str, varied: list[str], fixed: dict[str, Any]) -> str:
    swept = ", ".join(varied) or "nothing"
    held = ", ".join(f"{k}={v}" for k, v in fixed.items())
    return f"{what}\nswept: {swept}" + (f"   fixed: {held}" if held else "")


def _log_if_spanning(ax: Any, values: list[float], axis: str) -> None:
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) >= 10:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _figure(
    results: list[dict[str, Any]],
    quantities: tuple[tuple[str, str, str], ...],
    ylabel: str,
    what: str,
) -> Any:
    """Lines against n when n varies, else grouped bars; None when nothing to draw."""
    ok = [r for r in _ok(results) if any(_value(r, q) is not None for q, _, _ in quantities)]
    if not ok:
        return None
    plt = _pyplot()
    varied, fixed = swept_keys(ok)
    others = [k for k in varied if k != "n"]
    fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
    ys: list[float] = []
    if "n" in varied:
        xs: list[float] = []
        for q, name, style in quantities:
            groups: dict[str, list[tuple[int, float]]] = {}
            for r in ok:
                v = _value(r, q)
                if v is not None:
                    groups.setdefault(_label(r, others), []).append((int(r["n"]), float(v)))
            for label, pts in groups.items():
                n, y = zip(*sorted(set(pts)), strict=True)
                prefix = f"{name}: " if len(quantities) > 1 else ""
                ax.plot(n, y, style, label=prefix + (label or "all jobs"))
                xs += n
                ys += y
        _log_if_spanning(ax, xs, "x")
        ax.set_xlabel("n (input size)")
    else:
        labels = sorted({_label(r, varied) for r in ok})
        width = 0.8 / len(quantities)
        x = np.arange(len(labels))
        for i, (q, name, _) in enumerate(quantities):
            heights = []
            for label in labels:
                vals = [_value(r, q) for r in ok if _label(r, varied) == label]
                vals = [float(v) for v in vals if v is not None]
                heights.append(float(np.median(vals)) if vals else np.nan)
            ax.bar(x + (i - (len(quantities) - 1) / 2) * width, heights, width, label=name)
            ys += [h for h in heights if np.isfinite(h)]
        ax.set_xticks(x, [label.replace(", ", "\n") for label in labels], fontsize=7)
        if len(labels) > 3:
            plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
        ax.set_xlabel(
            f"swept: {', '.join(varied)} (n={fixed.get('n', '?')} in every job)"
            if varied
            else f"one configuration (n={fixed.get('n', '?')})"
        )
    _log_if_spanning(ax, ys, "y")
    ax.set_ylabel(ylabel)
    ax.set_title(_title(what, varied, {k: v for k, v in fixed.items()}), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    if len(quantities) > 1 or "n" in varied:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def time_figure(results: list[dict[str, Any]]) -> Any:
    """Sparse Hessian, dense Hessian and gradient times across the sweep (a Figure or None)."""
    return _figure(results, TIMES, "time per evaluation [s] (median, jitted)", "Evaluation time")


def colors_figure(results: list[dict[str, Any]]) -> Any:
    """Number of colors (HVPs per Hessian) across the sweep (a Figure or None)."""
    return _figure(results, (("colors", "colors", "o-"),), "colors (HVPs per Hessian)", "Colors")


def _save(fig: Any, path: Path) -> Path | None:
    if fig is None:
        return None
    plt = _pyplot()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_time_vs_n(results: list[dict[str, Any]], path: Path) -> Path | None:
    """Save :func:`time_figure`; None if nothing to plot."""
    return _save(time_figure(results), path)


def plot_colors_vs_n(results: list[dict[str, Any]], path: Path) -> Path | None:
    """Save :func:`colors_figure`; None if nothing to plot."""
    return _save(colors_figure(results), path)
