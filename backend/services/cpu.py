"""CPU-bound work (merges, diffs, word changes) runs a few at a time in each server process.

Python runs one thread's bytecode at a time. Twenty merges computing at once
finish no sooner than two at a time, but every other request's thread then
waits behind all twenty for its turn: a read holding a pooled connection holds
it that much longer, and ``/healthz`` answers in seconds. So merges take turns,
and the limit belongs to the process, as the interpreter lock does (it is not a
setting). ``serve --workers N`` runs N interpreters, so 2 x N computations in all,
each worker with its own queue bound.

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
from dataclasses import dataclass, field
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

from backend.errors import Unavailable

MAX_CONCURRENT = 2
"""Merges and diffs computing at once in one process; more queue for a turn."""

T = TypeVar("T")


@dataclass
class _Turns:
    limiter: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(MAX_CONCURRENT))
    threads: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(MAX_CONCURRENT))
    """Worker threads for turn holders only, apart from the shared ones."""
    waiting: int = 0
    """Computations admitted that hold no turn yet, counted before any await, so
    callers arriving together cannot all pass the bound."""


_here: RunVar[_Turns] = RunVar("cpu_turns")


def _turns() -> _Turns:
    try:
        return _here.get()
    except LookupError:
        made = _Turns()
        _here.set(made)
        return made


def turns() -> CapacityLimiter:
    """The turns of the running event loop (a server process runs one loop)."""
    return _turns().limiter


async def compute(fn: Callable[[], T], *, max_queued: int | None) -> T:
    """``fn()`` on a worker thread once a turn is free; refused if ``max_queued`` already wait.

    ``None`` waits whatever the queue: for parts of a computation already admitted
    (a preview's word changes), which hold nothing more than it did.
    """
    here = _turns()
    ahead = here.waiting - here.limiter.available_tokens
    if max_queued is not None and ahead >= max_queued:
        raise Unavailable(
            f"{max_queued} merges and diffs are already waiting to be computed; retry later"
        )
    here.waiting += 1
    try:
        await here.limiter.acquire()
    finally:
        here.waiting -= 1
    try:
        return await to_thread.run_sync(_computing, fn, limiter=here.threads)
    finally:
        here.limiter.release()


def _computing(fn: Callable[[], T]) -> T:
    """Runs on the worker thread: a stack dump shows this module's frame while it computes."""
    return fn()
