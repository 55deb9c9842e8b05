"""Everything a stage needs: the resolved objective, the store, and the results so far."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.schema import JobSpec
from asdex_pipe.store.artifact_store import ArtifactStore


def now_iso() -> str:
    """Current UTC time, ISO 8601 with microseconds (sortable)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def resolve_objective(spec: JobSpec) -> tuple[Callable, np.ndarray, str]:
    """Return (f, x0, description) for the job, checking that f is scalar-valued.

    The check traces f abstractly (``jax.eval_shape``), which is cheap and happens before any
    detection work.

    Raises:
        PipelineError: when the function cannot be imported, fails to trace at the input shape,
            or does not return a scalar.
    """
    import jax

    from asdex_pipe.objectives import get_objective, load_user_function

    dtype = np.dtype(spec.dtype)
    if spec.fn_spec:
        try:
            fn = load_user_function(spec.fn_spec)
        except (ImportError, ValueError) as exc:
            raise PipelineError(f"objective.fn could not be loaded: {exc}") from None
        x0 = np.random.default_rng(0).uniform(-1.0, 1.0, spec.input_shape).astype(dtype)
        description = f"user objective {spec.fn_spec}"
    else:
        obj = get_objective(spec.objective_name)
        fn, description = obj.fn, obj.description
        x0 = np.asarray(obj.x0(spec.input_shape, dtype), dtype=dtype)
    try:
        out = jax.eval_shape(fn, jax.ShapeDtypeStruct(spec.input_shape, dtype))
    except Exception as exc:
        raise PipelineError(
            f"objective {spec.objective_name!r} fails on an input of shape "
            f"{list(spec.input_shape)} ({spec.dtype}): {type(exc).__name__}: {exc}"
        ) from None
    if not hasattr(out, "shape") or tuple(out.shape) != ():
        shape = getattr(out, "shape", type(out).__name__)
        raise PipelineError(
            f"objective {spec.objective_name!r} must return a scalar for a Hessian, but it "
            f"returns shape {tuple(shape) if not isinstance(shape, str) else shape}; "
            "reduce it (e.g. jnp.sum) or pick another objective."
        )
    return fn, x0, description


@dataclass
class RunContext:
    """Mutable state shared by the stages of one job."""

    spec: JobSpec
    cfg: Any
    store: ArtifactStore
    out_dir: Path
    fn: Callable
    x0: np.ndarray
    description: str
    sparsity: SparsityPattern | None = None
    coloring: ColoredPattern | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    stage_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    _sparsity_key: str | None = None

    @property
    def sparsity_key(self) -> str:
        """Content key of this job's sparsity artifact (hashes the objective's jaxpr once)."""
        if self._sparsity_key is None:
            from asdex_pipe.detection import DETECTOR_VERSION
            from asdex_pipe.store.keys import sparsity_key

            self._sparsity_key = sparsity_key(
                self.fn, self.spec.input_shape, np.dtype(self.spec.dtype), DETECTOR_VERSION
            )
        return self._sparsity_key

    @property
    def coloring_key(self) -> str:
        """Content key of this job's coloring artifact."""
        from asdex_pipe.store.keys import coloring_key

        return coloring_key(
            self.sparsity_key,
            self.spec.algorithm,
            self.spec.order,
            {"postprocess": self.spec.postprocess},
        )

    def provenance(self, **extra: Any) -> dict[str, Any]:
        """What an artifact records about how it was made (read by lookup and listing)."""
        from asdex_pipe import __version__

        return {
            "objective": self.spec.objective_name,
            "input_shape": list(self.spec.input_shape),
            "dtype": self.spec.dtype,
            "created": now_iso(),
            "asdex_pipe": __version__,
            **extra,
        }

    def rerun_hint(self, stages: str) -> str:
        """The command that produces the missing upstream artifacts for this job."""
        shape = ",".join(str(d) for d in self.spec.input_shape)
        target = (
            f"objective.fn={self.spec.fn_spec}"
            if self.spec.fn_spec
            else f"objective={self.spec.objective_name}"
        )
        return (
            f"python -m asdex_pipe {target} objective.input_shape=[{shape}] "
            f"dtype={self.spec.dtype} coloring={self.spec.algorithm} "
            f"coloring.order={self.spec.order} store.root={self.store.root} stages=[{stages}]"
        )
