"""``python -m asdex_pipe``: the Hydra entry point. It validates, then runs the stages."""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import signal
import socket
import sys
import threading
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
from asdex_pipe.pipeline.progress import format_duration

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


class JobInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a job, after its ``result.json`` recorded ``interrupted``."""

    def __init__(self, result_path: Path):
        super().__init__(str(result_path))
        self.result_path = result_path


def run_job(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Validate ``cfg``, run its stages, write ``result.json`` and return the result dict.

    A ``result.json`` with status ``running`` is written first, so a job killed midway still
    leaves its row (the sweep summary reports it as killed). Never raises for pipeline
    failures: the error goes into the result (``status: failed``; ``rejected: true`` when the
    config or the store was refused before any work). Ctrl-C records ``status: interrupted``
    and raises :class:`JobInterrupted`.
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
    interrupted = False

    def exit_on_sigint(signum: int, frame: Any) -> None:
        # From the command line, Ctrl-C ends the process here, where the signal is taken:
        # unwinding a KeyboardInterrupt through JAX's calls (dispatch threads, a
        # compilation) could crash the interpreter (SIGSEGV) before it reached an exit.
        result.update(status="interrupted", error="interrupted (Ctrl-C / SIGINT)")
        if "ctx" in made:
            _fill_result(made["ctx"], result, figures=False)
        result["wall_s"] = time.perf_counter() - started
        write_result(out_dir, result)
        _exit_interrupted(out_dir / "result.json")

    previous = None
    if _EXIT_ON_SIGINT and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, exit_on_sigint)
    try:
        _run_stages(cfg, out_dir, result, made)
        result["status"] = "ok"
    except PipelineError as exc:
        result["error"] = str(exc)
        if "ctx" not in made:
            result["rejected"] = True
        log.error("error: %s", exc)
    except KeyboardInterrupt:
        interrupted = True
        result["status"] = "interrupted"
        result["error"] = "interrupted (Ctrl-C / SIGINT)"
    except Exception as exc:  # an unexpected bug: keep the row, show the type
        result["error"] = f"{type(exc).__name__}: {exc}"
        log.exception("unexpected failure")
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if "ctx" in made:
            _fill_result(made["ctx"], result, figures=not interrupted)
        result["wall_s"] = time.perf_counter() - started
        write_result(out_dir, result)
    if interrupted:
        raise JobInterrupted(out_dir / "result.json") from None
    if result["status"] == "ok":
        _print_summary(result, out_dir)
    return result


def _run_stages(
    cfg: DictConfig, out_dir: Path, result: dict[str, Any], made: dict[str, Any]
) -> None:
    from asdex_pipe.pipeline.context import RunContext, resolve_objective
    from asdex_pipe.pipeline.stages import STAGES
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
    writes = [name for name in spec.stages if STAGES[name].produces]
    cache = check_store(store, writes) and bool(cfg.store.compilation_cache)
    with job_jax_config(spec.dtype, store, cache):
        ctx = RunContext(spec, cfg, store, out_dir, resolve_objective(spec))
        made["ctx"] = ctx
        log.info(
            "asdex_pipe: %s, %s, coloring=%s/%s, mode=%s",
            spec.objective_name,
            describe_shape(spec),
            spec.algorithm,
            spec.order,
            spec.mode,
        )
        for name in spec.stages:
            t0 = time.perf_counter()
            outcome = STAGES[name].run(ctx)
            seconds = time.perf_counter() - t0
            result["stages"][name] = {**outcome, "seconds": seconds}
            extras = ", ".join(f"{k}={v}" for k, v in outcome.items() if k != "status")
            log.info(
                "[%-8s] %-8s %9s  %s", name, outcome["status"], format_duration(seconds), extras
            )


def describe_shape(spec: schema.JobSpec) -> str:
    """The input size as the user set it: ``input_shape=[100] (n=100, float64)``; for a
    pytree objective whose size argument differs from its flat input, both, e.g.
    ``input_shape=[100] (flattened: 300 unknowns, float64)``."""
    given = list(spec.shape_arg or spec.input_shape)
    if spec.shape_arg is not None and tuple(spec.shape_arg) != tuple(spec.input_shape):
        return (
            f"input_shape={given} (the objective's size argument; flattened: {spec.n} "
            f"unknowns, {spec.dtype})"
        )
    return f"input_shape={given} (n={spec.n}, {spec.dtype})"


def check_store(store: Any, writing_stages: list[str]) -> bool:
    """Check, before any work, that a local store can be written; returns whether JAX's
    compilation cache may live there.

    A job whose stages store artifacts (``writing_stages``) needs a writable root: otherwise
    one sentence names the path and what to do. A job that only reads (``stages=[verify]``)
    may use a read-only store, without the compilation cache. ``s3://`` roots are not probed:
    a probe would cost a PUT and a DELETE per job, and a denied write fails at the first
    save with one sentence too (see :func:`~.stages.artifacts.load_or_compute`).

    Raises:
        PipelineError: for an unwritable local root when ``writing_stages`` is not empty.
    """
    if not store.location.is_local:
        return True
    root = Path(store.root)
    if not writing_stages and not root.exists():
        return False  # nothing to read either: the stage says which command produces it
    problem = _unwritable(root)
    if problem is None:
        return True
    if writing_stages:
        raise PipelineError(
            f"store.root={root} is not writable ({problem}), and stages "
            f"{','.join(writing_stages)} store artifacts there: fix its permissions or choose "
            "a writable directory with store.root=DIR."
        )
    log.info(
        "note: store.root=%s is read-only (%s): reading artifacts only, without JAX's "
        "compilation cache",
        root,
        problem,
    )
    return False


def _unwritable(root: Path) -> str | None:
    """Why files cannot be created in ``root`` and its kind directories; None if they can."""
    import os
    import tempfile

    from asdex_pipe.store.artifact_store import KINDS

    try:
        root.mkdir(parents=True, exist_ok=True)
        for d in [root, *(root / kind for kind in KINDS if (root / kind).is_dir())]:
            fd, tmp = tempfile.mkstemp(prefix=".write-check-", dir=d)
            os.close(fd)
            os.unlink(tmp)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _plain(options: Any) -> dict[str, Any]:
    """storage_options as a plain dict (OmegaConf nodes do not pass through fsspec)."""
    from omegaconf import OmegaConf

    if options is None:
        return {}
    return dict(OmegaConf.to_container(options, resolve=True))


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _fill_result(ctx: Any, result: dict[str, Any], figures: bool = True) -> None:
    result["description"] = ctx.description
    if ctx.sparsity is not None:
        result["nnz"] = ctx.sparsity.nnz
    if ctx.coloring is not None:
        result["colors"] = ctx.coloring.num_colors
        result["coloring"]["order"] = ctx.coloring.order
    if ctx.coloring is not None and figures and ctx.cfg.get("plots", True):
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
    dur = format_duration
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
        constrained = "constraint_violation_x0" in ev
        what = (
            "sparse Hessian of the Lagrangian f + Σ c_i (all multipliers 1)"
            if constrained
            else "sparse Hessian"
        )
        lines.append(
            f"  {what}: {dur(ev['sparse_hessian_s'])} per call, {ev['hvps_used']} HVPs "
            f"(dense: {ev['hvps_dense']}); compile {dur(ev['sparse_hessian_compile_s'])}"
        )
        lines.append(
            f"    for scale: one gradient {dur(ev['gradient_s'])}, one HVP {dur(ev['hvp_s'])}; "
            f"the Hessian costs {ev['sparse_over_hvp']:.1f} HVPs' time for "
            f"{ev['hvps_used']} HVPs' worth of information"
            + (" (at this size, call overhead dominates)" if ev["hvp_s"] < 1e-4 else "")
        )
        if constrained:
            lines.append(
                f"  constraints: {ev['constraints']}, largest violation at x0 "
                f"{ev['constraint_violation_x0']:.3g}"
            )
        if ev.get("dense_hessian_s") is not None:
            lines.append(
                f"  dense jax.hessian {dur(ev['dense_hessian_s'])} "
                f"({ev['dense_over_sparse']:.1f}× the sparse one)"
            )
        else:
            lines.append(f"  dense jax.hessian skipped: {ev['dense_skipped']}")
        for point in ev.get("hutchinson", [])[-1:]:
            lines.append(
                f"  Hutchinson diagonal, {point['probes']} probes: relative error "
                f"{point['relative_error']:.2e} in {dur(point['seconds'])} "
                f"(exact sparse diagonal: {ev['hvps_used']} HVPs)"
            )
        for name, run in (ev.get("optimizers") or {}).items():
            violation = run.get("constraint_violation")
            lines.append(
                f"  {name:<17} {run['iterations']:>5} it  f={run['f']:.6g}  "
                f"|g|={run['grad_norm']:.2e}"
                + ("" if violation is None else f"  violation={violation:.2e}")
                + f"  {dur(run['wall_s'])}  "
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
        if result.get("rejected"):
            _remove_run_dir(out_dir)
        sys.exit(1)


#: What a refused run leaves in its output directory: Hydra's records, the log, the result.
_RUN_RECORDS = (".hydra", "asdex_pipe.log", "result.json", ".result.json.tmp")


def _remove_run_dir(out_dir: Path) -> None:
    """Delete what a refused single run wrote (Hydra's config record, one log line, the
    result), then the directory if that emptied it, and the default layout's
    ``outputs/<date>/`` parents when left empty; anything else there is left alone."""
    import shutil

    for handler in logging.getLogger().handlers:  # release the job's log file
        if isinstance(handler, logging.FileHandler):
            handler.close()
    for name in _RUN_RECORDS:
        path = out_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    try:
        out_dir.rmdir()  # only when empty
    except OSError:
        return
    if out_dir.parent.parent.name == "outputs":  # hydra.run.dir's default layout
        for parent in (out_dir.parent, out_dir.parent.parent):
            try:
                parent.rmdir()
            except OSError:
                return


#: Set by :func:`main`: a job run from the command line exits on Ctrl-C at once (130);
#: jobs run in-process (tests, notebooks) raise KeyboardInterrupt instead.
_EXIT_ON_SIGINT = False


def _exit_interrupted(where: Any) -> None:
    """One line on stderr, then exit 130 at once: an interpreter shutdown while JAX's
    threads are mid-work (a compilation, a transfer) can crash; result.json is written."""
    print(
        "interrupted" + (f": {where} records status interrupted" if where else ""),
        file=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def main() -> None:
    """Console entry point: run Hydra; a multirun with failed jobs exits with status 1,
    Ctrl-C with 130 after one line on stderr; ``--help`` prints the options without Hydra."""
    if any(arg in ("--help", "-h") for arg in sys.argv[1:]):
        from asdex_pipe.pipeline.help import help_text

        print(help_text())
        return
    from asdex_pipe.pipeline.summary import SweepSummaryCallback

    global _EXIT_ON_SIGINT
    _EXIT_ON_SIGINT = True
    try:
        _hydra_task()
    except KeyboardInterrupt as exc:  # outside a job (or a job run off the main thread)
        _exit_interrupted(getattr(exc, "result_path", None))
    if SweepSummaryCallback.failed_jobs:
        sys.exit(1)
