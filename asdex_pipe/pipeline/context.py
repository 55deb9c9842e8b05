"""Everything a stage needs: the resolved objective, the store, and the results so far."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asdex_pipe._version import __version__
from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.pipeline.objective import FlatObjective, pytree_objective
from asdex_pipe.pipeline.schema import JobSpec
from asdex_pipe.store.artifact_store import ArtifactStore


def now_iso() -> str:
    """Current UTC time, ISO 8601 with microseconds (sortable)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def resolve_objective(spec: JobSpec) -> FlatObjective:
    """The job's :class:`FlatObjective`, checking that its function is scalar-valued.

    The check traces f abstractly (``jax.eval_shape``), which is cheap and happens before any
    detection work.

    Raises:
        PipelineError: when the function cannot be imported, fails to trace at the input shape,
            or does not return a scalar.
    """
    import jax

    from asdex_pipe.objectives import get_objective, load_user_function
    from asdex_pipe.vocabulary import is_scalar_output, output_shape, scalar_function

    dtype = np.dtype(spec.dtype)
    builtin = None if spec.fn_spec else get_objective(spec.objective_name)
    if getattr(spec, "inputs_spec", None) or getattr(builtin, "inputs", None) is not None:
        try:
            objective = pytree_objective(
                spec.fn_spec, spec.inputs_spec, spec.argnums, spec.has_aux, builtin,
                spec.shape_arg or spec.input_shape, dtype,
            )  # fmt: skip
        except (ImportError, ValueError) as exc:
            raise PipelineError(f"objective could not be prepared: {exc}") from None
    elif spec.fn_spec:
        try:
            fn = load_user_function(spec.fn_spec)
        except (ImportError, ValueError) as exc:
            raise PipelineError(f"objective.fn could not be loaded: {exc}") from None
        x0 = np.random.default_rng(0).uniform(-1.0, 1.0, spec.input_shape).astype(dtype)
        description = f"user objective {spec.fn_spec}"
        objective = FlatObjective(fn, x0, description)
    else:
        obj = get_objective(spec.objective_name)
        x0 = np.asarray(obj.x0(spec.input_shape, dtype), dtype=dtype)
        objective = FlatObjective(obj.fn, x0, obj.description)
    try:
        out = jax.eval_shape(objective.fn, jax.ShapeDtypeStruct(spec.input_shape, dtype))
    except Exception as exc:
        raise PipelineError(
            f"objective {spec.objective_name!r} fails on an input of shape "
            f"{list(spec.input_shape)} ({spec.dtype}): {type(exc).__name__}: {exc}"
        ) from None
    if not is_scalar_output(out):
        shape = output_shape(out) if jax.tree.leaves(out) else type(out).__name__
        raise PipelineError(
            f"objective {spec.objective_name!r} must return a scalar for a Hessian, but it "
            f"returns shape {shape}; "
            "reduce it (e.g. jnp.sum) or pick another objective."
        )
    if getattr(out, "shape", None) != ():
        # Stages call jax.grad, which needs shape (); the detector is the objective's own.
        objective = dataclasses.replace(objective, fn=scalar_function(objective.fn))
    return objective


@dataclass
class RunContext:
    """Mutable state shared by the stages of one job."""

    spec: JobSpec
    cfg: Any
    store: ArtifactStore
    out_dir: Path
    objective: FlatObjective
    sparsity: SparsityPattern | None = None
    coloring: ColoredPattern | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    stage_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    _sparsity_key: str | None = None

    @property
    def fn(self) -> Callable:
        """The objective's flat scalar function (output shape ())."""
        return self.objective.fn

    @property
    def x0(self) -> np.ndarray:
        """The objective's starting point."""
        return self.objective.x0

    @property
    def description(self) -> str:
        """The objective's one-line description."""
        return self.objective.description

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
        # The shape the user set (a pytree objective's size argument, not its flat size).
        shape = ",".join(str(d) for d in (self.spec.shape_arg or self.spec.input_shape))
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
