"""The app's notion of "now", and ages relative to it.

Screens never call ``datetime.now`` themselves: they ask the app's ``clock``
(``LocalSyncApp(..., clock=...)``), which defaults to the real UTC clock. Tests
pass a fixed clock so ages such as "5m" render the same on every run.
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def age(since: datetime, now: datetime) -> str:
    """How long ago ``since`` was, in its largest whole unit: ``45s``, ``5m``, ``2h``, ``3d``."""
    seconds = int((now - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"
