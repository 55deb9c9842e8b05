"""The one way a stage gets an artifact: from the store when present and valid, else computed.

:func:`load_or_compute` serves the stages that produce an artifact (a stored artifact with
the job's key is reused unless ``force``; a fresh one gets its provenance and is saved),
:func:`load_required` the stages that read one an earlier job produced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asdex_pipe.pipeline.errors import PipelineError

if TYPE_CHECKING:
    from asdex_pipe.pipeline.context import RunContext


def load_or_compute(
    ctx: RunContext, kind: str, key: str, compute: Callable[[], Any], **provenance: Any
) -> tuple[Any, str]:
    """The ``kind`` artifact with ``key``: loaded from the store when present and valid (and
    ``force`` is off), else ``compute()``-d, stamped with the job's provenance (plus
    ``provenance``) and saved. Records where it lives in ``ctx.artifacts``.

    Returns:
        ``(artifact, "reused" | "computed")``.
    """
    artifact = None if ctx.spec.force else ctx.store.load(kind, key)
    if artifact is None:
        artifact = compute()
        artifact.provenance.update(ctx.provenance(key=key, **provenance))
        where = ctx.store.save(kind, key, artifact)
        status = "computed"
    else:
        where = ctx.store.path(kind, key)
        status = "reused"
    ctx.artifacts[kind] = str(where)
    return artifact, status


def load_required(ctx: RunContext, kind: str, key: str, missing: Callable[[], str]) -> Any:
    """The stored ``kind`` artifact with ``key``, for a stage whose producer did not run in
    this job. Records where it lives in ``ctx.artifacts``.

    Raises:
        PipelineError: ``missing()``, when the store has no valid such artifact.
    """
    artifact = ctx.store.load(kind, key)
    if artifact is None:
        raise PipelineError(missing())
    ctx.artifacts[kind] = str(ctx.store.path(kind, key))
    return artifact
