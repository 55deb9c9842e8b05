"""The front door: every public entry point, and the one place that knows about the user's
arguments and outputs.

``f(*args, **kwargs)`` with pytrees, ``argnums``, ``has_aux`` and keyword arguments, or
the seed's one-array ``f(x)`` with ``input_shape``, becomes one flat vector ``x`` plus data
leaves here; detection, coloring and differentiation below see only flat vectors.

Modules: :mod:`.inputs` (input specs, the call forms, argument checks), :mod:`.outputs`
(aux, output flattening, complex outputs), :mod:`.calls` (the calling conventions: the
seed's ``input_shape``, asdex's and JAX's positional samples, ``args=``), :mod:`.bind`
(``f`` bound to flat inputs),
:mod:`.detect` (``hessian_sparsity``, ``jacobian_sparsity``, ``hessian_coloring``,
``jacobian_coloring``), :mod:`.reuse` (is a detected coloring the function's?),
:mod:`.derivative` (the one builder and the :class:`SparseDerivative` it returns),
:mod:`.builders` (``hessian``, ``jacobian``, ``*_from_coloring``, ``value_and_*``,
``hvp``), :mod:`.compressed` (the compressed products and decompression as separate
steps).
"""

from asdex_pipe.frontdoor.builders import (
    SparseDerivative,
    hessian,
    hessian_from_coloring,
    hvp,
    jacobian,
    jacobian_from_coloring,
    value_and_hessian,
    value_and_hessian_from_coloring,
    value_and_jacobian,
    value_and_jacobian_from_coloring,
)
from asdex_pipe.frontdoor.compressed import (
    compressed_hessian,
    compressed_hessian_from_coloring,
    compressed_jacobian,
    compressed_jacobian_from_coloring,
    decompress,
    decompress_data,
    value_and_compressed_hessian,
    value_and_compressed_hessian_from_coloring,
    value_and_compressed_jacobian,
    value_and_compressed_jacobian_from_coloring,
)
from asdex_pipe.frontdoor.detect import (
    hessian_coloring,
    hessian_sparsity,
    jacobian_coloring,
    jacobian_sparsity,
)
from asdex_pipe.frontdoor.inputs import ArgumentTypeError
from asdex_pipe.frontdoor.reuse import PatternMismatchError

__all__ = [
    "ArgumentTypeError",
    "PatternMismatchError",
    "SparseDerivative",
    "compressed_hessian",
    "compressed_hessian_from_coloring",
    "compressed_jacobian",
    "compressed_jacobian_from_coloring",
    "decompress",
    "decompress_data",
    "hessian",
    "hessian_coloring",
    "hessian_from_coloring",
    "hessian_sparsity",
    "hvp",
    "jacobian",
    "jacobian_coloring",
    "jacobian_from_coloring",
    "jacobian_sparsity",
    "value_and_compressed_hessian",
    "value_and_compressed_hessian_from_coloring",
    "value_and_compressed_jacobian",
    "value_and_compressed_jacobian_from_coloring",
    "value_and_hessian",
    "value_and_hessian_from_coloring",
    "value_and_jacobian",
    "value_and_jacobian_from_coloring",
]
