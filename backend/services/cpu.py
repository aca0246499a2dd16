"""CPU-bound work (merges, diffs, word changes) runs a few at a time in each server process.

Python runs one thread's bytecode at a time. Twenty merges computing at once
finish no sooner than two at a time, but every other request's thread then
waits behind all twenty for its turn: a read holding a pooled connection holds
it that much longer, and ``/healthz`` answers in seconds. So merges take turns,
and the limit belongs to the process, as the interpreter lock does (it is not a
setting).

The wait for a turn happens on the event loop, not in a worker thread: a
thread parked on a lock would hold one of the shared worker threads that sync
routes, database reads and body decoding need, and a burst of merges would
starve them all. A merge takes a worker thread only once it has its turn, from
the turns' own limiter rather than the shared one. How many may wait is bounded
(``max_queued_computations``); past that the request is refused as busy, so a
burst cannot queue, and hold its loaded texts, without end.

Call :func:`compute` with no database session open: the texts are read first,
in a transaction of their own.
"""

from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

from backend.errors import Unavailable

MAX_CONCURRENT = 2
"""Merges and diffs computing at once in one process; more queue for a turn."""

T = TypeVar("T")

_turns: RunVar[CapacityLimiter] = RunVar("cpu_turns")


def turns() -> CapacityLimiter:
    """The turns of the running event loop (a server process runs one loop)."""
    try:
        return _turns.get()
    except LookupError:
        limiter = CapacityLimiter(MAX_CONCURRENT)
        _turns.set(limiter)
        return limiter


async def compute(fn: Callable[[], T], *, max_queued: int) -> T:
    """``fn()`` on a worker thread once a turn is free; refused if ``max_queued`` already wait."""
    limiter = turns()
    busy = limiter.available_tokens == 0
    if busy and limiter.statistics().tasks_waiting >= max_queued:
        raise Unavailable(
            f"{max_queued} merges and diffs are already waiting to be computed; retry later"
        )
    return await to_thread.run_sync(fn, limiter=limiter)
