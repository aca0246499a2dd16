"""CPU-bound work (merges, diffs) runs a few at a time in each server process.

Python runs one thread's bytecode at a time. Twenty merges computing at once
finish no sooner than two at a time, but every other request's thread then
waits behind all twenty for its turn: a read holding a pooled connection holds
it that much longer, and ``/healthz`` answers in seconds. Merges beyond the
limit wait here before they start, holding no database connection. The limit
belongs to the process, as the interpreter lock does, so it is not a setting.
"""

import threading
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

MAX_CONCURRENT = 2
"""Merges and diffs computing at once in one process; more queue for a turn."""

P = ParamSpec("P")
T = TypeVar("T")

_turns = threading.BoundedSemaphore(MAX_CONCURRENT)


def cpu_bound(fn: Callable[P, T]) -> Callable[P, T]:
    """Run ``fn`` only when one of the process's turns is free (call it with no session open)."""

    @wraps(fn)
    def bounded(*args: P.args, **kwargs: P.kwargs) -> T:
        with _turns:
            return fn(*args, **kwargs)

    return bounded
