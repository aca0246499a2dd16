"""Pausing Python's cyclic garbage collector around bulk work that makes no cycles."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while a scan or a journal read builds tens of thousands of
    tuples: they hold no cycles, yet every young-generation pass would walk them again
    and a full one would walk the whole program. The collector is restored as it was
    (enabled or not) when the block ends, errors included.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
