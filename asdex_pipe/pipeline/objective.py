"""The job's objective as the stages see it: one flat function, its start and its detector.

:class:`FlatObjective` is what :func:`asdex_pipe.pipeline.context.resolve_objective` builds
and the stages read (it is not the registry entry of a built-in objective,
:class:`asdex_pipe.objectives.Objective`, from which it may be made). Both the config
schema (to learn a pytree objective's flat size) and the context import this module, which
imports neither of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from asdex_pipe.pattern import SparsityPattern


@dataclass(frozen=True)
class FlatObjective:
    """A scalar objective of one flat array.

    Attributes:
        fn: ``fn(x)`` for ``x`` of the job's input shape.
        x0: the starting point (the job's dtype).
        description: one line for logs and ``result.json``.
        detect_pattern: ``detect_pattern(dtype)`` → the Hessian pattern, for objectives
            whose pattern must not be detected on ``fn`` itself (pytree objectives, whose
            data arguments ``fn`` holds as constants, detect with the data as unknowns);
            None: detect on ``fn``.
    """

    fn: Callable
    x0: np.ndarray
    description: str
    detect_pattern: Callable[[Any], SparsityPattern] | None = None

    def hessian_sparsity(self, input_shape: tuple[int, ...], dtype: Any) -> SparsityPattern:
        """The Hessian pattern of the objective at ``input_shape`` and ``dtype``."""
        if self.detect_pattern is not None:
            return self.detect_pattern(np.dtype(dtype))
        from asdex_pipe.detection import detect_hessian

        shape = tuple(int(d) for d in input_shape)
        return detect_hessian(self.fn, shape, np.dtype(dtype))


def pytree_objective(
    fn_spec: str | None,
    inputs_spec: str | None,
    argnums: Any,
    has_aux: bool,
    builtin: Any,
    shape: tuple[int, ...],
    dtype: Any,
) -> FlatObjective:
    """The flat objective of a function with pytree / data arguments, flattened by the
    front door (see :mod:`asdex_pipe.objectives.pytree`); it detects with the data as
    unknowns.

    Raises:
        ImportError, ValueError: when the function or the inputs factory cannot be loaded
            or the arguments are malformed.
    """
    from asdex_pipe.objectives import load_user_function
    from asdex_pipe.objectives.pytree import (
        as_argnums,
        flat_objective,
        hessian_detector,
        load_inputs,
    )

    if fn_spec:
        f = load_user_function(fn_spec)
        if not inputs_spec:
            raise ValueError("a pytree objective needs objective.inputs=module:make_inputs")
        args, kwargs = load_inputs(inputs_spec)
        description = f"user objective {fn_spec} (inputs {inputs_spec})"
    else:
        f, description = builtin.fn, builtin.description
        args, kwargs = builtin.inputs(shape)
    fn, x0, spec = flat_objective(f, args, kwargs, as_argnums(argnums), has_aux, np.dtype(dtype))
    return FlatObjective(fn, x0, description, hessian_detector(f, spec))
