"""Per-run ``result.json`` and the sweep summaries (``summary.csv`` / ``summary.md``)."""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

log = logging.getLogger(__name__)

#: Columns of the sweep summary, in order: (header, path into result.json).
SUMMARY_COLUMNS = [
    ("job", ("job",)),
    ("status", ("status",)),
    ("host", ("host",)),
    ("wall_s", ("wall_s",)),
    ("objective", ("objective",)),
    ("input_shape", ("input_shape",)),
    ("n", ("n",)),
    ("dtype", ("dtype",)),
    ("mode", ("mode",)),
    ("algorithm", ("coloring", "algorithm")),
    ("order", ("coloring", "order")),
    ("nnz", ("nnz",)),
    ("colors", ("colors",)),
    ("sparsity", ("stages", "sparsity", "status")),
    ("coloring_stage", ("stages", "coloring", "status")),
    ("verify", ("verify", "passed")),
    ("sparse_hessian_s", ("evaluate", "sparse_hessian_s")),
    ("gradient_s", ("evaluate", "gradient_s")),
    ("dense_hessian_s", ("evaluate", "dense_hessian_s")),
    ("ipopt_status", ("evaluate", "optimizers", "ipopt", "status")),
    ("ipopt_iterations", ("evaluate", "optimizers", "ipopt", "iterations")),
    ("ipopt_f", ("evaluate", "optimizers", "ipopt", "f")),
    ("ipopt_violation", ("evaluate", "optimizers", "ipopt", "constraint_violation")),
    ("ipopt_s", ("evaluate", "optimizers", "ipopt", "wall_s")),
    ("error", ("error",)),
]


def write_result(out_dir: Path, result: dict[str, Any]) -> Path:
    """Write ``result.json`` into the run directory (atomically: temp file, then rename)."""
    path = out_dir / "result.json"
    tmp = out_dir / ".result.json.tmp"
    tmp.write_text(json.dumps(result, indent=2, default=_json_default) + "\n")
    tmp.replace(path)
    return path


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _dig(d: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return str(value).replace("\n", " ").replace("|", "/")


def summarize_sweep(sweep_dir: Path, plots: bool = True) -> tuple[Path, Path, int]:
    """Collect every job's result.json under ``sweep_dir`` into summary.csv and summary.md,
    and (``plots``) draw time_vs_n.png and colors_vs_n.png.

    Returns:
        (csv path, markdown path, number of failed jobs).
    """
    from asdex_pipe.pipeline.sweep_plots import plot_colors_vs_n, plot_time_vs_n

    results = [_job_result(job) for job in _job_dirs(sweep_dir)]
    rows = [[_cell(_dig(r, col)) for _, col in SUMMARY_COLUMNS] for r in results]
    figures = (("time_vs_n.png", plot_time_vs_n), ("colors_vs_n.png", plot_colors_vs_n))
    drawn = []
    for name, plot in figures if plots else ():
        try:
            if plot(results, sweep_dir / name) is not None:
                drawn.append(name)
        except Exception as exc:  # a figure must never cost the summary
            log.warning("could not draw %s: %s", name, exc)
    headers = [h for h, _ in SUMMARY_COLUMNS]
    csv_path = sweep_dir / "summary.csv"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    md_path = sweep_dir / "summary.md"
    lines = [
        f"# Sweep summary ({len(rows)} jobs)",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    for name in drawn:
        lines += ["", f"![{name[:-4].replace('_', ' ')}]({name})"]
    md_path.write_text("\n".join(lines) + "\n")
    failed = sum(1 for r in rows if r[1] != "ok")
    return csv_path, md_path, failed


#: What a job that stopped without writing its final result.json gets in its row.
KILLED = (
    "the job stopped before writing its result (killed, timed out or crashed); "
    "re-run the sweep to redo it"
)


def _job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job directory of the sweep: one with a result.json or Hydra's .hydra record."""
    jobs = {p.parent for p in sweep_dir.glob("*/result.json")}
    jobs |= {p.parent for p in sweep_dir.glob("*/.hydra")}
    return sorted(jobs, key=_job_sort_key)


def _job_result(job: Path) -> dict[str, Any]:
    """The job's result.json; a job killed midway (status ``running`` or none) is ``killed``."""
    path = job / "result.json"
    if not path.exists():
        result: dict[str, Any] = {"status": "killed", "error": KILLED}
    else:
        try:
            result = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            result = {"status": "failed", "error": f"unreadable result.json: {exc}"}
        if result.get("status") == "running":
            result = {**result, "status": "killed", "error": KILLED}
    result.setdefault("job", job.name)
    return result


def _job_sort_key(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 30, path.name)


class SweepSummaryCallback(Callback):
    """Hydra callback: after a multirun, write the sweep summaries (even if jobs failed)."""

    failed_jobs = 0

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        """Write summary.csv / summary.md into the sweep directory and log where they are."""
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.exists():
            return
        csv_path, md_path, failed = summarize_sweep(sweep_dir, bool(config.get("plots", True)))
        SweepSummaryCallback.failed_jobs = failed
        # Printed once (a log line as well would show twice on the console).
        print(f"sweep summary: {md_path} and {csv_path.name} ({failed} failed jobs)")
