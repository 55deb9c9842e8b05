"""Pipeline stages, in their fixed order. Each takes the RunContext and returns its figures."""

from asdex_pipe.pipeline.stages.coloring import run_coloring
from asdex_pipe.pipeline.stages.evaluate import run_evaluate
from asdex_pipe.pipeline.stages.sparsity import run_sparsity
from asdex_pipe.pipeline.stages.verify import run_verify

STAGE_FUNCTIONS = {
    "sparsity": run_sparsity,
    "coloring": run_coloring,
    "verify": run_verify,
    "evaluate": run_evaluate,
}

__all__ = ["STAGE_FUNCTIONS"]
