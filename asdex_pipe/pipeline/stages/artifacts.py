"""The one way a stage gets an artifact: from the store when present and valid, else computed.

:func:`load_or_compute` serves the stages that produce an artifact (a stored artifact with
the job's key is reused unless ``force``; a corrupt one is reported once and recomputed; a
fresh one gets its provenance and is saved), :func:`load_required` the stages that read one
an earlier job produced (a corrupt one is refused with the command that rebuilds it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asdex_pipe.pipeline.errors import PipelineError

if TYPE_CHECKING:
    from asdex_pipe.pipeline.context import RunContext

log = logging.getLogger("asdex_pipe")


def load_or_compute(
    ctx: RunContext, kind: str, key: str, compute: Callable[[], Any], **provenance: Any
) -> tuple[Any, str]:
    """The ``kind`` artifact with ``key``: loaded from the store when present and valid (and
    ``force`` is off), else ``compute()``-d, stamped with the job's provenance (plus
    ``provenance``) and saved, replacing a corrupt published one. Records where it lives in
    ``ctx.artifacts``.

    Returns:
        ``(artifact, "reused" | "computed")``.

    Raises:
        PipelineError: when the store cannot be written (naming the path).
    """
    artifact, problem = (None, None) if ctx.spec.force else ctx.store.load_checked(kind, key)
    if problem is not None:
        log.warning("the stored %s artifact is corrupt, recomputing it: %s", kind, problem)
    if artifact is None:
        artifact = compute()
        artifact.provenance.update(ctx.provenance(key=key, **provenance))
        try:
            where = ctx.store.save(kind, key, artifact)
        except OSError as exc:
            raise PipelineError(
                f"could not write the {kind} artifact to store.root={ctx.store.root}: "
                f"{exc.strerror or exc}; free space or fix its permissions, or choose another "
                "store with store.root=DIR."
            ) from None
        status = "computed"
    else:
        where = ctx.store.path(kind, key)
        status = "reused"
    ctx.artifacts[kind] = str(where)
    return artifact, status


def load_required(
    ctx: RunContext, kind: str, key: str, missing: Callable[[], str], rebuild: str
) -> Any:
    """The stored ``kind`` artifact with ``key``, for a stage whose producer did not run in
    this job. Records where it lives in ``ctx.artifacts``.

    Args:
        rebuild: the stages that rebuild it (``"sparsity"``, ``"sparsity,coloring"``).

    Raises:
        PipelineError: ``missing()`` when the store has no such artifact; for a corrupt one,
            why, and the command that rebuilds it.
    """
    artifact, problem = ctx.store.load_checked(kind, key)
    if problem is not None:
        raise PipelineError(
            f"the stored {kind} artifact {ctx.store.path(kind, key) or key} is corrupt and "
            f"was not used ({problem}); rebuild it with:\n  {ctx.rerun_hint(rebuild)}"
        )
    if artifact is None:
        raise PipelineError(missing())
    ctx.artifacts[kind] = str(ctx.store.path(kind, key))
    return artifact
