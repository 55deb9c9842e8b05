"""The stage table: every pipeline stage, in its fixed order, with what it reads and makes.

A stage is a function of the :class:`~asdex_pipe.pipeline.context.RunContext` returning
its outcome (``{"status": ..., ...}``, one row of ``result.json``'s ``stages``). Stages that
produce an artifact get it through :func:`~.artifacts.load_or_compute` (reuse from the
store unless ``force``), stages that read one through the ``require_*`` helper of its
producer (:func:`~.artifacts.load_required`).

**Adding a stage** touches its module here, its entry in :data:`STAGES` and its name in
:data:`asdex_pipe.pipeline.schema.STAGES` (the names a config may list; the two must agree,
in order), plus a ``conf/`` group if it has settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asdex_pipe.pipeline import schema
from asdex_pipe.pipeline.stages.coloring import run_coloring
from asdex_pipe.pipeline.stages.evaluate import run_evaluate
from asdex_pipe.pipeline.stages.sparsity import run_sparsity
from asdex_pipe.pipeline.stages.verify import run_verify


@dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    Attributes:
        name: its name in ``stages=[...]`` and in ``result.json``.
        run: ``run(ctx)`` → its outcome dict.
        reads: the artifacts (store kinds) it needs, from this job or the store.
        produces: the artifact (store kind) it stores, or None (figures only).
    """

    name: str
    run: Callable[[Any], dict[str, Any]]
    reads: tuple[str, ...] = ()
    produces: str | None = None


#: The stages in the order a job runs them.
STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        Stage("sparsity", run_sparsity, produces="sparsity"),
        Stage("coloring", run_coloring, reads=("sparsity",), produces="coloring"),
        Stage("verify", run_verify, reads=("coloring",)),
        Stage("evaluate", run_evaluate, reads=("coloring",)),
    )
}
assert tuple(STAGES) == schema.STAGES, "the stage table and the config's stage names disagree"

#: name -> stage function (the table's ``run`` column).
STAGE_FUNCTIONS = {name: stage.run for name, stage in STAGES.items()}

__all__ = ["STAGES", "STAGE_FUNCTIONS", "Stage"]
