"""The app's notion of "now", and how times read relative to it.

Screens never call ``datetime.now`` themselves: they ask the app's ``clock``
(``LocalSyncApp(..., clock=...)``), which defaults to the real clock in the
machine's local time zone. The clock's time zone is also the one times are
shown in, so a person reads their own wall-clock time, and tests that pass a
fixed UTC clock render the same text on every machine.
"""

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware, in the zone times are shown in."""


def local_now() -> datetime:
    return datetime.now().astimezone()


def age(since: datetime, now: datetime) -> str:
    """How long ago ``since`` was, in its largest whole unit: ``45s``, ``5m``, ``2h``, ``3d``."""
    seconds = int((now - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def stamp(when: datetime, now: datetime) -> str:
    """``when`` as a wall-clock time in the zone of ``now``, to the second."""
    return when.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M:%S")
