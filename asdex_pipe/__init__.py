"""asdex_pipe: fast automatic sparse Hessians and Jacobians for JAX."""

from asdex_pipe.pattern import ColoredPattern, SparsityPattern
from asdex_pipe.store.formats import ArtifactError

__version__ = "0.1.0"

__all__ = ["ArtifactError", "ColoredPattern", "SparsityPattern", "__version__"]
