"""The algorithm table: one entry per coloring algorithm the library produces.

Everything that used to branch on an algorithm's name reads its entry instead:

* :mod:`asdex_pipe.coloring.api` runs the entry's ``kernel``, its ``postprocess`` and its
  independent ``check`` (a coloring that fails is never returned), and labels the result
  with the entry's ``mode`` and ``name``;
* :func:`~asdex_pipe.coloring.check.check_coloring_symmetric` looks its ``algorithm``
  argument up here;
* :func:`asdex_pipe.differentiation.plans.host_plan` builds the entry's ``plan``;
* the pipeline's coloring stage colors a Hessian with
  :func:`~asdex_pipe.coloring.api.color_for_hvps`, and its
  config schema offers the names of :data:`asdex_pipe.vocabulary.ALGORITHMS`;
* :mod:`asdex_pipe.store.records` accepts the names of
  :data:`asdex_pipe.vocabulary.COLORING_ALGORITHMS` (the store sits below coloring and
  cannot import this table; ``tests/test_vocabulary.py`` checks that the two agree).

**Adding an algorithm** touches the table and the new code, nothing else:

1. its kernel: a function ``(pattern, order, seed, transposed) -> (colors, order used)``
   returning unchecked colors (see :class:`Algorithm`), in a module of its own here;
2. its independent checker ``(pattern, colors) -> None`` raising
   :class:`~asdex_pipe.coloring.check.InvalidColoringError`, written from the definition
   in :mod:`asdex_pipe.coloring.check` and sharing no code with the kernel;
3. its name in :mod:`asdex_pipe.vocabulary` (``SYMMETRIC_ALGORITHMS`` for a Hessian
   coloring of the library, ``ALGORITHMS`` if the pipeline offers it, and always
   ``COLORING_ALGORITHMS``), and its entry in :data:`ALGORITHMS` below;
4. a ``conf/coloring/<name>.yaml`` if the pipeline should offer it.

A new decompression (neither a direct read nor substitution) is the one case that also
needs code in :mod:`asdex_pipe.differentiation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from asdex_pipe.coloring import bicoloring
from asdex_pipe.coloring.acyclic import greedy_acyclic
from asdex_pipe.coloring.check import (
    check_acyclic_unchecked,
    check_coloring_bidirectional,
    check_coloring_cols,
    check_coloring_rows,
    check_star_unchecked,
)
from asdex_pipe.coloring.columns import color_columns, color_graph, finish
from asdex_pipe.coloring.graph import adjacency_graph
from asdex_pipe.coloring.neutral import neutralize_star
from asdex_pipe.coloring.star import greedy_star
from asdex_pipe.pattern import BIDIRECTIONAL, SparsityPattern
from asdex_pipe.vocabulary import COLORING_ALGORITHMS, SYMMETRIC_ALGORITHMS

#: Decompression plans (built by :mod:`asdex_pipe.differentiation.plans`): read every
#: nonzero directly from one product, or recover it by substitution along a tree.
DIRECT = "direct"
SUBSTITUTION = "substitution"

Kernel = Callable[[SparsityPattern, str, int, "SparsityPattern | None"], tuple[np.ndarray, str]]


@dataclass(frozen=True)
class Algorithm:
    """One coloring algorithm.

    Attributes:
        name: the name users choose and colorings (and so artifacts) carry.
        mode: the :class:`~asdex_pipe.pattern.ColoredPattern` mode of its colorings:
            ``"HVP"`` (a symmetric coloring of a Hessian), ``"JVP"``, ``"VJP"`` or
            ``"JVP+VJP"``.
        kernel: ``kernel(pattern, order, seed, transposed)`` → ``(colors, order used)``:
            the unchecked coloring of a pattern the caller has validated (square and
            symmetric for mode ``HVP``). Colors follow the mode's layout (``-1``: a vertex
            in no product). ``transposed`` is ``pattern.transpose()`` when the caller has it
            at hand, else None; kernels that color rows use it instead of transposing again.
        check: the independent checker ``check(pattern, colors)`` (pattern symmetry not
            re-checked), raising ``InvalidColoringError``.
        plan: how products are decompressed: :data:`DIRECT` or :data:`SUBSTITUTION`.
        postprocess: ``postprocess(pattern, colors)`` → colors with products no nonzero
            needs removed (star colorings: neutral colors), or None.
        jacobian_mode: the ``mode`` argument of
            :func:`~asdex_pipe.coloring.api.jacobian_coloring_from_sparsity` that selects
            it (``"fwd"``, ``"rev"``, ``"bidirectional"``), or None for Hessian colorings.
        for_hvps: whether it can color a Hessian for HVPs
            (:func:`~asdex_pipe.coloring.api.color_for_hvps`): every algorithm whose
            colors are one per Hessian column.
        label: what messages call its colorings (default: the name).
    """

    name: str
    mode: str
    kernel: Kernel
    check: Callable[[SparsityPattern, np.ndarray], None]
    plan: str
    postprocess: Callable[[SparsityPattern, np.ndarray], np.ndarray] | None = None
    jacobian_mode: str | None = None
    for_hvps: bool = True
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def symmetric(self) -> bool:
        """Whether it colors a symmetric pattern (a Hessian for HVPs, mode ``HVP``)."""
        return self.mode == "HVP"


def _symmetric_kernel(graph_kernel: Callable) -> Kernel:
    """A kernel from a greedy ``graph_kernel(graph, visiting_order)`` on the adjacency
    graph; isolated vertices (empty row and column) get -1."""

    def kernel(
        pattern: SparsityPattern, order: str, seed: int, transposed: SparsityPattern | None
    ) -> tuple[np.ndarray, str]:
        colors, used = color_graph(adjacency_graph(pattern), order, seed, graph_kernel)
        empty = np.bincount(pattern.cols, minlength=pattern.shape[1]) == 0
        return finish(colors, empty), used

    return kernel


# The greedy kernels are looked up when called (tests replace them by broken ones).
def _star(graph, order):
    return greedy_star(graph.indptr, graph.indices, order)


def _acyclic(graph, order):
    return greedy_acyclic(graph.indptr, graph.indices, graph.rev, order)


def _neutral_star(pattern: SparsityPattern, colors: np.ndarray) -> np.ndarray:
    return finish(neutralize_star(pattern, colors), colors < 0)


def _columns(
    pattern: SparsityPattern, order: str, seed: int, transposed: SparsityPattern | None
) -> tuple[np.ndarray, str]:
    return color_columns(pattern, order, seed)


def _rows(
    pattern: SparsityPattern, order: str, seed: int, transposed: SparsityPattern | None
) -> tuple[np.ndarray, str]:
    return color_columns(pattern.transpose() if transposed is None else transposed, order, seed)


def _bidirectional(
    pattern: SparsityPattern, order: str, seed: int, transposed: SparsityPattern | None
) -> tuple[np.ndarray, str]:
    """The better of the two bidirectional schemes (see :mod:`.bicoloring`): dense rows by
    VJPs, or dense columns by JVPs; the second is only colored when its bound can win."""
    t = pattern.transpose() if transposed is None else transposed
    rows_mask, _ = bicoloring.peel_rows(pattern)
    cols_mask, cols_bound = bicoloring.peel_rows(t)
    first = bicoloring.bicolor_rows(pattern, rows_mask, order, seed)
    if cols_bound >= bicoloring.products(first[0]):
        return first
    second = bicoloring.bicolor_cols(pattern, cols_mask, order, seed, t)
    return second if bicoloring.products(second[0]) < bicoloring.products(first[0]) else first


#: The table, keyed by name, in the order of :data:`asdex_pipe.vocabulary.COLORING_ALGORITHMS`.
ALGORITHMS: dict[str, Algorithm] = {
    entry.name: entry
    for entry in (
        Algorithm(
            name="star",
            mode="HVP",
            kernel=_symmetric_kernel(_star),
            check=check_star_unchecked,
            plan=DIRECT,
            postprocess=_neutral_star,
        ),
        Algorithm(
            name="acyclic",
            mode="HVP",
            kernel=_symmetric_kernel(_acyclic),
            check=check_acyclic_unchecked,
            plan=SUBSTITUTION,
        ),
        Algorithm(
            name="column",
            mode="JVP",
            kernel=_columns,
            check=check_coloring_cols,
            plan=DIRECT,
            jacobian_mode="fwd",
        ),
        Algorithm(
            name="row",
            mode="VJP",
            kernel=_rows,
            check=check_coloring_rows,
            plan=DIRECT,
            jacobian_mode="rev",
        ),
        Algorithm(
            name="bicoloring",
            mode=BIDIRECTIONAL,
            kernel=_bidirectional,
            check=check_coloring_bidirectional,
            plan=DIRECT,
            jacobian_mode="bidirectional",
            label="bidirectional",
            for_hvps=False,  # n + m colors: one per column and one per row
        ),
    )
}
assert tuple(ALGORITHMS) == COLORING_ALGORITHMS, "the table and the vocabulary disagree"


def symmetric_algorithm(name: str) -> Algorithm:
    """The entry of a symmetric (Hessian) coloring algorithm.

    Raises:
        ValueError: ``name`` is not one of :data:`asdex_pipe.vocabulary.SYMMETRIC_ALGORITHMS`.
    """
    if name not in SYMMETRIC_ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {name!r}; choose one of: {', '.join(SYMMETRIC_ALGORITHMS)}"
        )
    return ALGORITHMS[name]


def by_jacobian_mode(mode: str) -> Algorithm:
    """The entry selected by a Jacobian ``mode`` (``"fwd"``, ``"rev"``, ``"bidirectional"``)."""
    for entry in ALGORITHMS.values():
        if entry.jacobian_mode == mode:
            return entry
    raise KeyError(mode)


def plan_of(mode: str, algorithm: str) -> str:
    """The decompression plan of a coloring of ``mode`` made by ``algorithm``.

    A symmetric (``HVP``) coloring uses its algorithm's plan (an unknown name, e.g. a
    coloring built by hand, is read directly); Jacobian colorings are read directly.
    """
    entry = ALGORITHMS.get(algorithm)
    if mode == "HVP" and entry is not None:
        return entry.plan
    return DIRECT
