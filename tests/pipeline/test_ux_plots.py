"""pattern.png legible at large n; sweep figures name what was swept; one summary line."""

from __future__ import annotations

import numpy as np

from asdex_pipe import SparsityPattern
from asdex_pipe.coloring.api import color_for_hvps
from asdex_pipe.pipeline.plots import _pyplot, colored_pattern_figure, plot_colored_pattern
from asdex_pipe.pipeline.summary import SweepSummaryCallback, write_result
from asdex_pipe.pipeline.sweep_plots import colors_figure, swept_keys, time_figure


def _banded(n: int, offsets=(0, 1, -1, 100, -100)) -> SparsityPattern:
    rows, cols = [], []
    for off in offsets:
        i = np.arange(n)
        j = i + off
        keep = (j >= 0) & (j < n)
        rows += list(i[keep])
        cols += list(j[keep])
    return SparsityPattern.from_coo(rows, cols, (n, n))


def test_pattern_at_n500_has_inset_colorbar_and_visible_markers(tmp_path):
    coloring = color_for_hvps(_banded(500), "star", "largest_first", True)
    fig = colored_pattern_figure(coloring, "banded")
    main, *others = fig.axes
    (inset,) = [a for a in main.child_axes]  # the zoom into the top-left block
    assert inset.get_xlim()[1] >= 200 - 0.5  # wide enough to show the ±100 bands
    (bar,) = [a for a in others if a.get_ylabel().startswith("color")]
    assert "HVP" in bar.get_ylabel()
    size = main.collections[0].get_sizes()[0]
    assert size >= 1.0  # a marker of at least 1 pt per entry
    _pyplot().close(fig)
    png = plot_colored_pattern(coloring, tmp_path / "pattern.png", "banded")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _result(job, objective, mode, n=100, colors=3, t=1e-4):
    return {
        "job": str(job), "status": "ok", "objective": objective, "mode": mode, "n": n,
        "dtype": "float64", "coloring": {"algorithm": "star", "order": "largest_first"},
        "colors": colors,
        "evaluate": {"sparse_hessian_s": t, "dense_hessian_s": 2 * t, "gradient_s": t / 2,
                     "colors": colors},
    }  # fmt: skip


SWEEP = [
    _result(i, obj, mode, colors=3 if obj == "rosenbrock" else 5)
    for i, (obj, mode) in enumerate(
        (o, m)
        for o in ("rosenbrock", "broyden_tridiagonal")
        for m in ("fwd_over_rev", "rev_over_fwd")
    )
]


def _texts(fig) -> str:
    ax = fig.axes[0]
    parts = [ax.get_title(), ax.get_xlabel()] + [t.get_text() for t in ax.get_xticklabels()]
    legend = ax.get_legend()
    if legend is not None:
        parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


def test_sweep_at_one_n_is_grouped_bars_naming_every_swept_value():
    assert swept_keys(SWEEP)[0] == ["objective", "mode"]
    for fig in (time_figure(SWEEP), colors_figure(SWEEP)):
        text = _texts(fig)
        for value in ("objective=rosenbrock", "objective=broyden_tridiagonal",
                      "mode=fwd_over_rev", "mode=rev_over_fwd"):  # fmt: skip
            assert value in text, (value, text)
        assert "n=100" in text
        bars = fig.axes[0].patches
        assert len({round(b.get_x(), 6) for b in bars}) == len(bars)  # side by side
        _pyplot().close(fig)


def test_sweep_over_n_draws_lines_per_swept_combination():
    results = [_result(i, "rosenbrock", m, n=n) for i, (m, n) in enumerate(
        (m, n) for m in ("fwd_over_rev", "rev_over_fwd") for n in (100, 1000))]  # fmt: skip
    fig = colors_figure(results)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("n") and len(ax.get_lines()) == 2
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "mode=fwd_over_rev",
        "mode=rev_over_fwd",
    }
    _pyplot().close(fig)


def test_sweep_summary_is_printed_once(tmp_path, capsys, caplog):
    from omegaconf import OmegaConf

    for r in SWEEP:
        job = tmp_path / r["job"]
        job.mkdir()
        write_result(job, r)
    cfg = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    with caplog.at_level("INFO"):
        SweepSummaryCallback().on_multirun_end(cfg)
    printed = capsys.readouterr().out + "\n".join(r.getMessage() for r in caplog.records)
    assert printed.count("sweep summary") == 1, printed
    assert (tmp_path / "time_vs_n.png").exists() and (tmp_path / "colors_vs_n.png").exists()
