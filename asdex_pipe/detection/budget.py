"""Dense patterns: detection stops early instead of materialising them.

Detection keeps, for every intermediate array, the set of inputs each element depends on.
For ``jnp.sum(x) ** 2`` the gradient broadcasts the sum back to every element, so its
dependency matrix is n × n: 4·10^8 pairs and 333 s at n = 2·10^4, a ``MemoryError`` at
10^5. Nothing sparse can come out of such a pattern, and a sparse derivative of it would
cost more than a dense one.

So every dependency matrix is checked before it is built (or right after, where its size
is only known then): one holding more than ``DENSE_MIN_DEPENDENCIES`` (element, input)
pairs that cover at least ``DENSE_FRACTION`` of all its possible pairs stops detection with
a :class:`DensePatternError`. Below that size dense patterns are detected exactly (a
1024 × 1024 dense Hessian takes well under a second); above it detection takes time and
memory proportional to the pairs it finds, so the first dense intermediate of a large
problem is found long before the pattern would be: within a second at n = 10^5.

The thresholds are module attributes, read at each check, so tests and callers can lower
them.
"""

from __future__ import annotations

#: A dependency matrix with more pairs than this...
DENSE_MIN_DEPENDENCIES = 2**20
#: ...covering at least this fraction of its (elements × inputs) pairs is "dense".
DENSE_FRACTION = 0.25


class DensePatternError(ValueError):
    """A derivative's pattern is dense or nearly so; detection stopped before building it.

    Attributes:
        elements: number of elements of the intermediate array where detection stopped.
        inputs: number of inputs (columns) of its dependency matrix.
        dependencies: number of (element, input) pairs it would hold.
        kind: ``"Jacobian"`` or ``"Hessian"`` once known (else None).
        shape: (m, n) of the derivative once known (else None).
    """

    def __init__(
        self,
        message: str,
        *,
        elements: int,
        inputs: int,
        dependencies: int,
        kind: str | None = None,
        shape: tuple[int, int] | None = None,
    ):
        super().__init__(message)
        self.elements = int(elements)
        self.inputs = int(inputs)
        self.dependencies = int(dependencies)
        self.kind = kind
        self.shape = shape

    @property
    def density(self) -> float:
        """Fraction of the intermediate's (element, input) pairs that are dependencies."""
        total = self.elements * self.inputs
        return self.dependencies / total if total else 0.0


def check_dependencies(elements: int, inputs: int, dependencies: int) -> None:
    """Raise :class:`DensePatternError` when a dependency matrix of ``elements`` rows over
    ``inputs`` columns holding ``dependencies`` pairs is too large and dense to build.

    Args:
        elements: rows (elements of the intermediate array).
        inputs: columns (input elements).
        dependencies: number of (element, input) pairs.
    """
    if dependencies <= DENSE_MIN_DEPENDENCIES:
        return
    if dependencies < DENSE_FRACTION * float(elements) * float(inputs):
        return
    share = dependencies / (float(elements) * float(inputs))
    raise DensePatternError(
        f"an intermediate of {elements} elements depends on {share:.0%} of the {inputs} "
        f"inputs ({dependencies:.3g} dependencies)",
        elements=elements,
        inputs=inputs,
        dependencies=dependencies,
    )


def human_bytes(size: float) -> str:
    """``size`` bytes as a short string (``"80 GB"``, ``"512 MB"``)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{int(size)} B"


def dense_message(err: DensePatternError, kind: str, shape: tuple[int, int]) -> str:
    """The one-sentence explanation of a dense ``kind`` (``"Jacobian"``/``"Hessian"``) of
    ``shape`` (m, n): the density found, the memory the matrix needs, what to do instead."""
    m, n = shape
    entries = float(m) * float(n)
    products = (
        "Hessian-vector products (asdex_pipe.hvp)" if kind == "Hessian" else "jax.jvp / jax.vjp"
    )
    return (
        f"the {kind} of f ({m} × {n}) is dense or nearly so: detection stopped at an "
        f"intermediate whose {err.elements} elements depend on {err.density:.0%} of the "
        f"{err.inputs} inputs ({err.dependencies:.3g} dependencies), so the {kind} needs "
        f"about {human_bytes(8 * entries)} as a dense float64 matrix and "
        f"{human_bytes(16 * entries)} as a sparse one; use {products} instead of the "
        f"matrix, or jax.{'hessian' if kind == 'Hessian' else 'jacfwd'} where that memory "
        "is available"
    )
