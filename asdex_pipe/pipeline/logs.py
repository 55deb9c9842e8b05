"""Logging helpers referenced from conf/config.yaml's job_logging."""

import logging


class MaxLevelFilter(logging.Filter):
    """Pass records below ``level`` only, so warnings and errors go to stderr alone."""

    def __init__(self, level: str = "WARNING"):
        super().__init__()
        self.level = logging.getLevelName(level)

    def filter(self, record: logging.LogRecord) -> bool:
        """True when the record is below the threshold."""
        return record.levelno < self.level
