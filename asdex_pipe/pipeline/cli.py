"""``python -m asdex_pipe``: the Hydra entry point. It validates, then runs the stages."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import socket
import sys
import time
from collections.abc import Iterator
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


_CACHE_OPTIONS = (
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
)


@contextlib.contextmanager
def job_jax_config(dtype: str, store: Any, compilation_cache: bool) -> Iterator[None]:
    """JAX configuration of one job, restored on exit whatever the job did.

    Jobs of a multirun may share one process (the basic launcher): x64 and the compilation
    cache settings are set for this job only, so a float32 job traces, keys and computes the
    same whether a float64 job ran before it or not.

    Args:
        dtype: the job's dtype; ``"float64"`` turns ``jax_enable_x64`` on, anything else off.
        store: the job's :class:`ArtifactStore`; a local one hosts the compilation cache.
        compilation_cache: whether to use JAX's persistent compilation cache.
    """
    import jax

    saved = {name: getattr(jax.config, name) for name in _CACHE_OPTIONS}
    try:
        if compilation_cache and store.location.is_local:
            jax.config.update("jax_compilation_cache_dir", str(Path(store.root) / "jax_cache"))
            # Cache every compilation: even small ones cost a re-run seconds in total.
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        with jax.enable_x64(dtype == "float64"):
            yield
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)


def run_job(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Validate ``cfg``, run its stages, write ``result.json`` and return the result dict.

    A ``result.json`` with status ``running`` is written first, so a job killed midway still
    leaves its row (the sweep summary reports it as killed). Never raises for pipeline
    failures: the error goes into the result (``status: failed``).
    """
    from asdex_pipe.pipeline.summary import write_result

    started = time.perf_counter()
    result: dict[str, Any] = {
        "status": "running",
        "host": socket.gethostname(),
        "started": _now(),
        "stages": {},
    }
    write_result(out_dir, result)
    result["status"] = "failed"
    made: dict[str, Any] = {}  # the RunContext, once built, even if a stage then fails
    try:
        _run_stages(cfg, out_dir, result, made)
        result["status"] = "ok"
    except PipelineError as exc:
        result["error"] = str(exc)
        log.error("error: %s", exc)
    except Exception as exc:  # an unexpected bug: keep the row, show the type
        result["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("unexpected failure")
    finally:
        if "ctx" in made:
            _fill_result(made["ctx"], result)
        result["wall_s"] = time.perf_counter() - started
        write_result(out_dir, result)
    if result["status"] == "ok":
        _print_summary(result, out_dir)
    return result


def _run_stages(
    cfg: DictConfig, out_dir: Path, result: dict[str, Any], made: dict[str, Any]
) -> None:
    from asdex_pipe.pipeline.context import RunContext, resolve_objective
    from asdex_pipe.pipeline.stages import STAGE_FUNCTIONS
    from asdex_pipe.store.artifact_store import ArtifactStore

    spec = schema.validate(cfg)
    result.update(
        objective=spec.objective_name,
        input_shape=list(spec.input_shape),
        n=spec.n,
        dtype=spec.dtype,
        mode=spec.mode,
        coloring={"algorithm": spec.algorithm, "order": spec.order},
    )
    try:
        store = ArtifactStore(cfg.store.root, _plain(cfg.store.storage_options))
    except (ValueError, ImportError) as exc:
        raise PipelineError(f"store.root={cfg.store.root!r}: {exc}") from None
    with job_jax_config(spec.dtype, store, bool(cfg.store.compilation_cache)):
        fn, x0, description = resolve_objective(spec)
        ctx = RunContext(spec, cfg, store, out_dir, fn, x0, description)
        made["ctx"] = ctx
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


def _plain(options: Any) -> dict[str, Any]:
    """storage_options as a plain dict (OmegaConf nodes do not pass through fsspec)."""
    from omegaconf import OmegaConf

    if options is None:
        return {}
    return dict(OmegaConf.to_container(options, resolve=True))


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _fill_result(ctx: Any, result: dict[str, Any]) -> None:
    result["description"] = ctx.description
    if ctx.sparsity is not None:
        result["nnz"] = ctx.sparsity.nnz
    if ctx.coloring is not None:
        result["colors"] = ctx.coloring.num_colors
        result["coloring"]["order"] = ctx.coloring.order
    if ctx.coloring is not None and ctx.cfg.get("plots", True):
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
