"""Typed pipeline configuration and its validation, done before any expensive work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hydra.core.config_store import ConfigStore

from asdex_pipe.pipeline.errors import PipelineError
from asdex_pipe.vocabulary import ALGORITHMS, HVP_MODES, ORDERS

#: The stage names, in run order (the stage table, ``asdex_pipe.pipeline.stages.STAGES``,
#: maps each to its function and artifacts).
STAGES = ("sparsity", "coloring", "verify", "evaluate")
DTYPES = ("float32", "float64")
VERIFY_METHODS = ("auto", "matvec", "dense")
OPTIMIZERS = ("none", "trust_ncg", "ipopt")


@dataclass
class ObjectiveConfig:
    """Which function to differentiate: a built-in ``name`` or a user's ``fn`` (module:function)."""

    name: str = "rosenbrock"
    input_shape: list[int] | None = None
    fn: str | None = None
    # Pytree objectives (asdex_pipe.objectives.pytree): a factory "module:function"
    # returning sample (args, kwargs) of fn, the arguments to differentiate, and whether
    # fn returns (value, aux).
    inputs: str | None = None
    argnums: Any = 0
    has_aux: bool = False


@dataclass
class ColoringConfig:
    """Coloring algorithm (one of ``asdex_pipe.vocabulary.ALGORITHMS``) and vertex order."""

    algorithm: str = "star"
    order: str = "largest_first"
    postprocess: bool = True


@dataclass
class StoreConfig:
    """Artifact store root (a directory or an fsspec URL such as ``s3://bucket/prefix``), its
    fsspec ``storage_options`` (endpoint, credentials) and whether JAX's compilation cache
    lives under it (local roots only)."""

    root: str = "artifacts"
    storage_options: dict[str, Any] = field(default_factory=dict)
    compilation_cache: bool = True


@dataclass
class VerifyConfig:
    """Verification method and its settings.

    method: ``auto`` (dense up to ``dense_max_n``, matvec above), ``dense`` or ``matvec``.
        ``dense`` builds the n×n ``jax.hessian``; above ``dense_max_n`` it falls back to
        matvec with a logged note (raise ``verify.dense_max_n`` to insist).
    """

    method: str = "auto"
    num_probes: int = 25
    dense_max_n: int = 2000


@dataclass
class EvaluateConfig:
    """Evaluation settings.

    repeats / dense_max_n: timing repeats, and the largest n for the dense comparison.
    optimizer: ``none``, ``trust_ncg`` (trust-NCG sparse vs HVP vs L-BFGS-B from x0) or
        ``ipopt`` (IPOPT with the exact sparse Lagrangian Hessian; constrained objectives
        solve with their constraints and bounds; needs the ``ipopt`` extra and float64).
    gtol / max_iter: the optimizers' stopping rule.
    hutchinson_probes: probe counts for the Hutchinson-vs-exact-diagonal study; opt-in, the
        default ``[]`` runs no study (it costs far more than the rest of the stage).
    """

    repeats: int = 5
    dense_max_n: int = 4000
    optimizer: str = "none"
    gtol: float = 1e-6
    max_iter: int = 500
    hutchinson_probes: list[int] = field(default_factory=list)


@dataclass
class PipelineConfig:
    """The whole job, as composed by Hydra from ``conf/``."""

    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    coloring: ColoringConfig = field(default_factory=ColoringConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    mode: str = "fwd_over_rev"
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    force: bool = False
    n: int | None = None
    dtype: str = "float64"
    # Draw the PNG figures (pattern, Hutchinson, convergence, sweep plots).
    plots: bool = True


def register() -> None:
    """Register the schema with Hydra's ConfigStore as ``pipeline_schema``."""
    ConfigStore.instance().store(name="pipeline_schema", node=PipelineConfig)


def _one_of(what: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise PipelineError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}.")


def _positive_shape(value: Any) -> tuple[int, ...]:
    try:
        dims = tuple(value)
    except TypeError:
        dims = (value,)
    if not dims or any(
        isinstance(d, bool) or not isinstance(d, int | np.integer) or d <= 0 for d in dims
    ):
        raise PipelineError(
            f"objective.input_shape must be a list of positive integers, got {list(dims)}; "
            "for example objective.input_shape=[1000] or n=1000."
        )
    return tuple(int(d) for d in dims)


def _pytree_shape(objective: Any, builtin: Any, shape: tuple[int, ...], dtype: str) -> Any:
    """The flat input shape ``(n,)`` of a pytree objective (None for a one-array one)."""
    factory = objective.get("inputs")
    if factory is None and (builtin is None or getattr(builtin, "inputs", None) is None):
        return None
    from asdex_pipe.pipeline.objective import pytree_objective

    try:
        x0 = pytree_objective(
            objective.get("fn"),
            factory,
            objective.get("argnums", 0),
            bool(objective.get("has_aux", False)),
            builtin,
            shape,
            dtype,
        ).x0
    except (ImportError, ValueError) as exc:
        raise PipelineError(f"objective inputs could not be prepared: {exc}") from None
    return (int(x0.size),)


def _check_optimizer(optimizer: str, builtin: Any, name: str, dtype: str) -> None:
    """Constrained objectives need IPOPT; IPOPT needs cyipopt and float64."""
    constrained = builtin is not None and builtin.problem is not None
    if optimizer == "trust_ncg" and constrained:
        raise PipelineError(
            f"objective {name!r} is constrained and trust_ncg ignores constraints; "
            "use evaluate.optimizer=ipopt."
        )
    if optimizer != "ipopt":
        return
    if dtype != "float64":
        raise PipelineError(f"evaluate.optimizer=ipopt works in float64, got dtype={dtype}.")
    try:
        import cyipopt  # noqa: F401
    except ImportError:
        raise PipelineError(
            "evaluate.optimizer=ipopt needs cyipopt: pip install -e '.[ipopt]'."
        ) from None


@dataclass(frozen=True)
class JobSpec:
    """The validated, resolved job: what every stage reads."""

    objective_name: str
    fn_spec: str | None
    input_shape: tuple[int, ...]
    dtype: str
    mode: str
    algorithm: str
    order: str
    postprocess: bool
    stages: tuple[str, ...]
    force: bool
    inputs_spec: str | None = None
    argnums: Any = 0
    has_aux: bool = False
    shape_arg: tuple[int, ...] | None = None  # a built-in pytree objective's size argument

    @property
    def n(self) -> int:
        """Number of input elements."""
        return int(np.prod(self.input_shape))


def validate(cfg: Any) -> JobSpec:
    """Check the composed config and resolve the objective's shape.

    Args:
        cfg: the Hydra/OmegaConf config (a :class:`PipelineConfig`).

    Returns:
        The resolved :class:`JobSpec`.

    Raises:
        PipelineError: one clear sentence naming the bad value and what was expected.
    """
    from asdex_pipe.objectives import OBJECTIVES

    _one_of("mode", cfg.mode, HVP_MODES)
    _one_of("coloring algorithm", cfg.coloring.algorithm, ALGORITHMS)
    _one_of("coloring order", cfg.coloring.order, ORDERS)
    _one_of("dtype", cfg.dtype, DTYPES)
    _one_of("verify.method", cfg.verify.method, VERIFY_METHODS)
    stages = tuple(cfg.stages)
    for s in stages:
        _one_of("stage", s, STAGES)
    if not stages:
        raise PipelineError(f"stages is empty; choose any of: {', '.join(STAGES)}.")
    ordered = tuple(s for s in STAGES if s in stages)

    fn_spec = cfg.objective.fn
    name = cfg.objective.name
    if fn_spec:
        # A user's function replaces whichever built-in was selected; it is named by its path.
        builtin = None
        name = fn_spec
    else:
        if name not in OBJECTIVES:
            raise PipelineError(
                f"unknown objective {name!r}; available: {', '.join(sorted(OBJECTIVES))} "
                "(or your own with objective.fn=package.module:function)."
            )
        builtin = OBJECTIVES[name]

    if cfg.n is not None:
        if builtin is not None and builtin.ndim not in (None, 1):
            raise PipelineError(
                f"n={cfg.n} is a shorthand for 1-D objectives, but {name!r} takes a "
                f"{builtin.ndim}-D input; set objective.input_shape=[...] instead."
            )
        shape = _positive_shape([cfg.n])
    elif cfg.objective.input_shape is not None:
        shape = _positive_shape(cfg.objective.input_shape)
    elif builtin is not None:
        shape = builtin.default_shape
    elif cfg.objective.get("inputs"):
        shape = (1,)  # replaced by the flat size of the factory's arguments below
    else:
        raise PipelineError(
            "objective.input_shape is required with objective.fn, e.g. objective.input_shape=[100]."
        )
    if builtin is not None:
        if builtin.ndim is not None and len(shape) != builtin.ndim:
            raise PipelineError(
                f"objective {name!r} takes a {builtin.ndim}-D input, got input_shape {list(shape)}."
            )
        if int(np.prod(shape)) < builtin.min_size:
            raise PipelineError(
                f"objective {name!r} needs at least {builtin.min_size} elements, "
                f"got input_shape {list(shape)}."
            )
    pytree = _pytree_shape(cfg.objective, builtin, shape, cfg.dtype)
    if pytree is not None:
        shape_arg, shape = shape, pytree
    else:
        shape_arg = None
    for key in ("repeats", "dense_max_n"):
        if getattr(cfg.evaluate, key) < 0:
            raise PipelineError(f"evaluate.{key} must be >= 0, got {getattr(cfg.evaluate, key)}.")
    _one_of("evaluate.optimizer", cfg.evaluate.optimizer, OPTIMIZERS)
    _check_optimizer(cfg.evaluate.optimizer, builtin, name, cfg.dtype)
    if not cfg.evaluate.gtol > 0 or cfg.evaluate.max_iter <= 0:
        raise PipelineError(
            f"evaluate.gtol and evaluate.max_iter must be positive, got {cfg.evaluate.gtol} "
            f"and {cfg.evaluate.max_iter}."
        )
    if any(k <= 0 for k in cfg.evaluate.hutchinson_probes):
        raise PipelineError(
            "evaluate.hutchinson_probes must be positive probe counts, got "
            f"{list(cfg.evaluate.hutchinson_probes)}."
        )
    if cfg.verify.num_probes <= 0:
        raise PipelineError(f"verify.num_probes must be positive, got {cfg.verify.num_probes}.")
    return JobSpec(
        objective_name=name,
        fn_spec=fn_spec,
        input_shape=shape,
        dtype=cfg.dtype,
        mode=cfg.mode,
        algorithm=cfg.coloring.algorithm,
        order=cfg.coloring.order,
        postprocess=bool(cfg.coloring.postprocess),
        stages=ordered,
        force=bool(cfg.force),
        inputs_spec=cfg.objective.get("inputs"),
        argnums=cfg.objective.get("argnums", 0),
        has_aux=bool(cfg.objective.get("has_aux", False)),
        shape_arg=shape_arg,
    )
