"""The one exception type the pipeline shows to users as a plain message."""


class PipelineError(Exception):
    """A user-facing pipeline failure; its message is printed without a traceback."""
