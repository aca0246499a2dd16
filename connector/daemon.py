"""Continuous mode: watch, debounce, rescan, push, pull deltas, heartbeat, stop cleanly.

Remote changes of a bidirectional source are pulled through REST deltas from
the saved cursor. While the GraphQL ``sourceEvents`` subscription is connected
(``connector.live``) each new event wakes a pull at once and polling slows to a
safety net (``poll_live``); when it cannot connect or drops, polling at ``poll``
takes over while the subscription is retried with a capped backoff.

Without a working filesystem watcher (``--no-watch``, or watching unavailable),
local changes are found by periodic rescans (``rescan_unwatched``).

SIGINT/SIGTERM set a stop flag: the batch in flight finishes (and everything not
yet answered is in the journal anyway), then the loop exits.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from connector.client import ApiError, Unreachable
from connector.engine import EXIT_OK, EXIT_SAFETY_STOP, Engine, Report, SafetyStop
from connector.watcher import Watcher

if TYPE_CHECKING:
    from connector.live import Subscription

log = logging.getLogger("connector")


@dataclass(frozen=True)
class Intervals:
    debounce: float = 0.5
    """Quiet time that ends a burst of filesystem events."""
    max_burst: float = 5.0
    """Longest a burst may delay a rescan."""
    rescan: float = 300.0
    """Periodic full rescan while watching (a safety net for missed events)."""
    rescan_unwatched: float = 10.0
    """Periodic full rescan when not watching: the only way local changes are seen."""
    poll: float = 5.0
    """Delta polling for bidirectional sources while the event subscription is down."""
    poll_live: float = 120.0
    """Delta polling while the subscription is live (never more often than ``poll``)."""
    heartbeat: float = 30.0
    retry: float = 5.0
    """How often journaled operations whose backoff expired are retried."""


def install_signal_handlers(stop: threading.Event, wake: threading.Event | None = None) -> None:
    """SIGINT/SIGTERM set ``stop`` (and ``wake``, so an idle loop notices at once)."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        log.info("received %s: finishing the batch in flight, then stopping", name)
        stop.set()
        if wake is not None:
            wake.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def run(
    engine: Engine,
    intervals: Intervals,
    watch: bool = True,
    subscribe: bool = True,
    wake: threading.Event | None = None,
) -> int:
    """Sync until ``engine.stop`` is set; ``wake`` (optional) interrupts an idle wait."""
    stop = engine.stop
    wake = wake or threading.Event()
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
    fs_changed, remote_changed = threading.Event(), threading.Event()

    def on_local_change() -> None:
        fs_changed.set()
        wake.set()

    def on_remote_event() -> None:
        remote_changed.set()
        wake.set()

    watcher = Watcher(engine.root, on_local_change)
    watching = watch and watcher.start()
    if not watch:
        log.info("watching disabled; rescanning every %.1fs", intervals.rescan_unwatched)
    rescan_every = intervals.rescan if watching else intervals.rescan_unwatched
    live = _subscription(engine, on_remote_event) if subscribe else None
    now = time.monotonic()
    next_scan, next_pull, next_beat, next_retry = now, now, now, now
    try:
        while not stop.is_set():
            now = time.monotonic()
            if fs_changed.is_set():
                _debounce(fs_changed, stop, intervals)
                next_scan = now
            if remote_changed.is_set():
                remote_changed.clear()
                next_pull = now
            try:
                if now >= next_beat:
                    next_beat = now + intervals.heartbeat
                    engine.heartbeat()
                report = Report()
                if now >= next_scan:
                    next_scan = now + rescan_every
                    engine.scan_and_journal()
                    engine.push_pending(report, only_due=True)
                    engine.journal.compact()
                if now >= next_retry:
                    next_retry = now + intervals.retry
                    engine.push_pending(report, only_due=True)
                if now >= next_pull:
                    polling = live is None or not live.live.is_set()
                    poll_every = intervals.poll if polling else intervals.poll_live
                    next_pull = now + max(intervals.poll, poll_every)
                    engine.pull(report)
                    engine.push_pending(report, only_due=True)
            except (Unreachable, ApiError) as exc:
                log.warning("%s; changes stay journaled and will be retried", exc)
            wait = min(next_scan, next_pull, next_beat, next_retry) - time.monotonic()
            wake.wait(max(0.05, wait))
            wake.clear()
    except SafetyStop as exc:
        log.error("stopped: %s", exc)
        return EXIT_SAFETY_STOP
    finally:
        if live is not None:
            live.stop()
        watcher.stop()
    log.info("stopped cleanly; %d change(s) journaled", engine.journal.pending_count())
    return EXIT_OK


def _subscription(engine: Engine, notify: Callable[[], None]) -> "Subscription | None":
    """Follow ``sourceEvents`` for a bidirectional source; None for one-way modes."""
    if engine.mode != "bidirectional" or not engine.source_id:
        return None
    from connector.live import Subscription  # gql loads only for continuous mode

    live = Subscription(
        engine.state.server or "",
        engine.opts.token,
        engine.state.workspace or "",
        engine.source_id,
        after=lambda: engine.pulled_cursor,
        notify=notify,
    )
    live.start()
    return live


def _debounce(wake: threading.Event, stop: threading.Event, intervals: Intervals) -> None:
    """Wait until events stop arriving for ``debounce`` seconds (at most ``max_burst``)."""
    deadline = time.monotonic() + intervals.max_burst
    while not stop.is_set():
        wake.clear()
        if not wake.wait(intervals.debounce) or time.monotonic() > deadline:
            wake.clear()
            return
