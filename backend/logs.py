"""Log output: uvicorn's plain lines, or one JSON object per line for log collectors."""

from typing import Any

from uvicorn.config import LOGGING_CONFIG

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


def log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's logging configuration; ``json`` swaps its formatters for python-json-logger's.

    Our own loggers (``localsync.*``) propagate to the root logger, which gets
    the same handler, so every line of the process has one shape.
    """
    if log_format != "json":
        return LOGGING_CONFIG
    formatter = {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FORMAT}
    return {
        **LOGGING_CONFIG,
        "formatters": {"default": formatter, "access": formatter},
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "": {"handlers": ["default"], "level": "INFO"},
        },
    }
