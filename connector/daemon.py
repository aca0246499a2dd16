"""Continuous mode: watch, debounce, rescan, push, poll deltas, heartbeat, stop cleanly.

SIGINT/SIGTERM set a stop flag: the batch in flight finishes (and everything not
yet answered is in the journal anyway), then the loop exits.
"""

import logging
import signal
import threading
import time
from dataclasses import dataclass
from types import FrameType

from connector.client import ApiError, Unreachable
from connector.engine import EXIT_OK, EXIT_SAFETY_STOP, Engine, Report, SafetyStop
from connector.watcher import Watcher

log = logging.getLogger("connector")


@dataclass(frozen=True)
class Intervals:
    debounce: float = 0.5
    """Quiet time that ends a burst of filesystem events."""
    max_burst: float = 5.0
    """Longest a burst may delay a rescan."""
    rescan: float = 300.0
    """Periodic full rescan (the fallback where watching is unavailable: ``rescan_unwatched``)."""
    rescan_unwatched: float = 10.0
    poll: float = 5.0
    """Delta polling for bidirectional sources."""
    heartbeat: float = 30.0
    retry: float = 5.0
    """How often journaled operations whose backoff expired are retried."""


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        log.info("received %s: finishing the batch in flight, then stopping", name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def run(engine: Engine, intervals: Intervals) -> int:
    stop = engine.stop
    wake = threading.Event()
    while not stop.is_set():
        try:
            engine.ensure_registered()
            break
        except SafetyStop as exc:
            log.error("stopped: %s", exc)
            return EXIT_SAFETY_STOP
        except Unreachable as exc:
            if engine.source_id:
                log.warning("server unreachable (%s); working from the journal", exc)
                break
            log.warning("server unreachable (%s); retrying registration", exc)
            stop.wait(intervals.retry)
    if stop.is_set():
        return EXIT_OK
    watcher = Watcher(engine.root, wake)
    watching = watcher.start()
    rescan_every = intervals.rescan if watching else intervals.rescan_unwatched
    now = time.monotonic()
    next_scan, next_pull, next_beat, next_retry = now, now, now, now
    try:
        while not stop.is_set():
            now = time.monotonic()
            if wake.is_set():
                _debounce(wake, stop, intervals)
                next_scan = now
            try:
                if now >= next_beat:
                    next_beat = now + intervals.heartbeat
                    engine.heartbeat()
                report = Report()
                if now >= next_scan:
                    next_scan = now + rescan_every
                    engine.scan_and_journal()
                    engine.push_pending(report, only_due=True)
                if now >= next_retry:
                    next_retry = now + intervals.retry
                    engine.push_pending(report, only_due=True)
                if now >= next_pull:
                    next_pull = now + intervals.poll
                    engine.pull(report)
                    engine.push_pending(report, only_due=True)
            except (Unreachable, ApiError) as exc:
                log.warning("%s; changes stay journaled and will be retried", exc)
            wait = min(next_scan, next_pull, next_beat, next_retry) - time.monotonic()
            wake.wait(max(0.05, wait))
    except SafetyStop as exc:
        log.error("stopped: %s", exc)
        return EXIT_SAFETY_STOP
    finally:
        watcher.stop()
    log.info("stopped cleanly; %d change(s) journaled", engine.journal.pending_count())
    return EXIT_OK


def _debounce(wake: threading.Event, stop: threading.Event, intervals: Intervals) -> None:
    """Wait until events stop arriving for ``debounce`` seconds (at most ``max_burst``)."""
    deadline = time.monotonic() + intervals.max_burst
    while not stop.is_set():
        wake.clear()
        if not wake.wait(intervals.debounce) or time.monotonic() > deadline:
            wake.clear()
            return
