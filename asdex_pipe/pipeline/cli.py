"""``python -m asdex_pipe``: the Hydra entry point. It validates, then runs the stages."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from asdex_pipe.pipeline import schema
from asdex_pipe.pipeline.errors import PipelineError

log = logging.getLogger("asdex_pipe")


def config_dir() -> str:
    """The ``conf/`` directory: the checkout's, else the copy shipped inside the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent / "conf", here.parent / "conf"):
        if (candidate / "config.yaml").is_file():
            return str(candidate)
    raise FileNotFoundError("asdex_pipe's conf/ directory is missing from this installation")


def _configure_jax(cfg: DictConfig, store_root: Path) -> None:
    import jax

    if cfg.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    if cfg.store.compilation_cache:
        jax.config.update("jax_compilation_cache_dir", str(store_root / "jax_cache"))
        # Cache every compilation: even small ones cost a re-run seconds in total.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def run_job(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Validate ``cfg``, run its stages, write ``result.json`` and return the result dict.

    Never raises for pipeline failures: the error goes into the result (``status: failed``).
    """
    from asdex_pipe.pipeline.context import RunContext, resolve_objective
    from asdex_pipe.pipeline.stages import STAGE_FUNCTIONS
    from asdex_pipe.pipeline.summary import write_result
    from asdex_pipe.store.artifact_store import ArtifactStore

    result: dict[str, Any] = {"status": "failed", "stages": {}}
    ctx = None
    try:
        spec = schema.validate(cfg)
        result.update(
            objective=spec.objective_name,
            input_shape=list(spec.input_shape),
            n=spec.n,
            dtype=spec.dtype,
            mode=spec.mode,
            coloring={"algorithm": spec.algorithm, "order": spec.order},
        )
        store = ArtifactStore(cfg.store.root)
        _configure_jax(cfg, store.root)
        fn, x0, description = resolve_objective(spec)
        ctx = RunContext(spec, cfg, store, out_dir, fn, x0, description)
        log.info(
            "asdex_pipe: %s, input_shape=%s (n=%d, %s), coloring=%s/%s, mode=%s",
            spec.objective_name,
            list(spec.input_shape),
            spec.n,
            spec.dtype,
            spec.algorithm,
            spec.order,
            spec.mode,
        )
        for name in spec.stages:
            t0 = time.perf_counter()
            outcome = STAGE_FUNCTIONS[name](ctx)
            seconds = time.perf_counter() - t0
            result["stages"][name] = {**outcome, "seconds": seconds}
            extras = ", ".join(f"{k}={v}" for k, v in outcome.items() if k != "status")
            log.info("[%-8s] %-8s %8.3f s  %s", name, outcome["status"], seconds, extras)
        result["status"] = "ok"
    except PipelineError as exc:
        result["error"] = str(exc)
        log.error("error: %s", exc)
    except Exception as exc:  # an unexpected bug: keep the row, show the type
        result["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("unexpected failure")
    finally:
        if ctx is not None:
            _fill_result(ctx, result)
        write_result(out_dir, result)
    if result["status"] == "ok":
        _print_summary(result, out_dir)
    return result


def _fill_result(ctx: Any, result: dict[str, Any]) -> None:
    result["description"] = ctx.description
    if ctx.sparsity is not None:
        result["nnz"] = ctx.sparsity.nnz
    if ctx.coloring is not None:
        result["colors"] = ctx.coloring.num_colors
        result["coloring"]["order"] = ctx.coloring.order
        try:
            from asdex_pipe.pipeline.plots import plot_colored_pattern

            png = plot_colored_pattern(
                ctx.coloring, ctx.out_dir / "pattern.png", ctx.spec.objective_name
            )
            result["pattern_png"] = str(png)
        except Exception as exc:  # a figure must never sink a run
            log.warning("could not draw pattern.png: %s", exc)
    result["artifacts"] = ctx.artifacts
    result.update(ctx.figures)


def _print_summary(result: dict[str, Any], out_dir: Path) -> None:
    lines = [
        "",
        f"{result['objective']}  n={result['n']}  nnz={result.get('nnz', '?')}  "
        f"colors={result.get('colors', '?')}  ({result['coloring']['algorithm']}, "
        f"{result['coloring']['order']}, {result['mode']})",
    ]
    if "verify" in result:
        lines.append(
            f"  verify: {'passed' if result['verify']['passed'] else 'FAILED'} "
            f"({result['verify']['method']})"
        )
    ev = result.get("evaluate")
    if ev:
        lines.append(
            f"  sparse Hessian {ev['sparse_hessian_s'] * 1e3:.3f} ms = "
            f"{ev['sparse_over_gradient']:.1f}× gradient, {ev['sparse_over_hvp']:.1f}× one HVP "
            f"({ev['hvps_used']} HVPs instead of {ev['hvps_dense']}); "
            f"compile {ev['sparse_hessian_compile_s']:.2f} s"
        )
        if ev.get("dense_hessian_s") is not None:
            lines.append(
                f"  dense jax.hessian {ev['dense_hessian_s'] * 1e3:.3f} ms "
                f"({ev['dense_over_sparse']:.1f}× the sparse one)"
            )
        else:
            lines.append(f"  dense jax.hessian skipped: {ev['dense_skipped']}")
        for point in ev.get("hutchinson", [])[-1:]:
            lines.append(
                f"  Hutchinson diagonal, {point['probes']} probes: relative error "
                f"{point['relative_error']:.2e} in {point['seconds'] * 1e3:.1f} ms "
                f"(exact sparse diagonal: {ev['hvps_used']} HVPs)"
            )
        for name, run in (ev.get("optimizers") or {}).items():
            lines.append(
                f"  {name:<17} {run['iterations']:>5} it  f={run['f']:.6g}  "
                f"|g|={run['grad_norm']:.2e}  {run['wall_s']:.2f} s  "
                f"{'converged' if run['success'] else 'NOT converged'}"
            )
    lines.append(f"  results: {out_dir / 'result.json'}")
    for line in lines:
        log.info(line)


schema.register()


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="config")
def _hydra_task(cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    result = run_job(cfg, out_dir)
    if result["status"] != "ok" and HydraConfig.get().mode == RunMode.RUN:
        sys.exit(1)


def main() -> None:
    """Console entry point: run Hydra; a multirun with failed jobs exits with status 1."""
    from asdex_pipe.pipeline.summary import SweepSummaryCallback

    _hydra_task()
    if SweepSummaryCallback.failed_jobs:
        sys.exit(1)
