"""Wake-ups for live feeds: a subscriber sleeps until its source may have new events.

The events table stays the source of truth. A wake-up carries no event, only
"read again": the woken subscriber reads the events after its own cursor, so
cursor order and gaplessness are the table's, and a lost wake-up costs
latency, never an event.

- Writers call :func:`announce` in the transaction that appends events. On
  PostgreSQL that transaction sends ``pg_notify`` before it commits, which the
  database delivers at commit only (never for a rollback) to every process
  listening on the database; each process's :class:`PgListener` wakes that
  source's subscribers. On SQLite (one process) the commit itself wakes them.
- Subscribers hold a :class:`Waiter` from the process's :class:`Hub` and sleep
  on it: an idle subscription costs no query and no timer.
- Safety nets: when the listener's connection drops, it reconnects and wakes
  everyone (notifications sent meanwhile are gone); and every
  ``live_safety_poll_seconds`` one query per process compares each watched
  source's newest cursor with its subscribers' cursors (:func:`sweep`).
"""

import asyncio
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

import psycopg
from anyio import to_thread
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlmodel import col, select

from backend.models import Source

CHANNEL = "localsync_events"
"""The PostgreSQL notification channel; the payload is a source id."""

LISTENER_APPLICATION_NAME = "localsync-listener"
"""``application_name`` of each process's listening connection (seen in pg_stat_activity)."""

_ANNOUNCED = "localsync_announced_sources"

log = logging.getLogger("localsync.live")


class Waiter:
    """One subscriber's wake-up flag, set from any thread, awaited on its own loop."""

    def __init__(self, source_id: str, cursor: int) -> None:
        self.source_id = source_id
        self.cursor = cursor
        """The newest cursor the subscriber has read (the sweep compares it)."""
        self.woken_at = time.monotonic()
        """When the last wake-up reached this waiter's loop (at first, when it was made):
        whatever was committed before then, a read started later sees."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Safe from any thread; a waiter whose loop has closed is simply not woken."""
        _wake_together([self])

    async def wait(self) -> None:
        """Return once woken (at once if woken since the last wait)."""
        await self._event.wait()
        self._event.clear()

    def _set(self) -> None:
        self.woken_at = time.monotonic()
        self._event.set()


def _wake_together(waiters: Iterable[Waiter]) -> None:
    """Wake ``waiters`` loop by loop, all of one loop in one callback: none of them
    resumes before all are woken, so feeds woken by one commit can share a read."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Waiter]] = {}
    for waiter in waiters:
        by_loop.setdefault(waiter._loop, []).append(waiter)
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for loop, group in by_loop.items():
        if loop is running:
            _set_all(group)
            continue
        with suppress(RuntimeError):  # its loop already closed
            loop.call_soon_threadsafe(_set_all, group)


def _set_all(waiters: list[Waiter]) -> None:
    for waiter in waiters:
        waiter._set()


class Hub:
    """Every waiter of one database in this process, by source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_source: dict[str, set[Waiter]] = {}

    @contextmanager
    def waiter(self, source_id: str, cursor: int) -> Iterator[Waiter]:
        """Register before the first read, so a commit after that read is never slept through."""
        waiter = Waiter(source_id, cursor)
        with self._lock:
            self._by_source.setdefault(source_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            with self._lock:
                waiters = self._by_source.get(source_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._by_source[source_id]

    def wake(self, source_ids: Iterable[str]) -> None:
        with self._lock:
            woken = [w for s in set(source_ids) for w in self._by_source.get(s, ())]
        _wake_together(woken)

    def wake_all(self) -> None:
        _wake_together(self.waiting())

    def waiting(self) -> list[Waiter]:
        with self._lock:
            return [w for waiters in self._by_source.values() for w in waiters]


_hubs: dict[str, Hub] = {}
_hubs_lock = threading.Lock()


def hub_for(engine: Engine) -> Hub:
    """The process's hub for ``engine``'s database.

    Kept per process and database rather than per app: on SQLite a commit made
    through any app of this process (tests run several side by side) must wake
    the subscribers of all of them, and it knows only its own engine.
    """
    key = engine.url.render_as_string(hide_password=False)
    with _hubs_lock:
        return _hubs.setdefault(key, Hub())


def announce(session: Session, source_id: str, cursor: int) -> None:
    """Say that ``session``'s transaction appends events to ``source_id`` (up to ``cursor``).

    Nothing is sent now: PostgreSQL notifies once per source just before the
    commit (so only at commit), SQLite wakes the process's subscribers just after.
    """
    announced: dict[str, int] = session.info.setdefault(_ANNOUNCED, {})
    announced[source_id] = max(cursor, announced.get(source_id, 0))


@event.listens_for(Session, "before_commit")
def _notify_in_transaction(session: Session) -> None:
    announced: dict[str, int] | None = session.info.get(_ANNOUNCED)
    if not announced or session.get_bind().dialect.name != "postgresql":
        return
    notify = text("SELECT pg_notify(:channel, :source)")
    for source_id in announced:
        session.execute(notify, {"channel": CHANNEL, "source": source_id})


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    announced: dict[str, int] | None = session.info.pop(_ANNOUNCED, None)
    if not announced:
        return
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and isinstance(bind, Engine):
        hub_for(bind).wake(announced)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_ANNOUNCED, None)


class PgListener:
    """One ``LISTEN`` connection per process, waking the hub's subscribers.

    A dropped connection is retried after ``retry_seconds``, doubling up to
    ``max_retry_seconds`` while the database stays away; once listening again it
    wakes every subscriber, since whatever was notified meanwhile is lost.
    """

    def __init__(
        self,
        engine: Engine,
        hub: Hub,
        retry_seconds: float = 0.5,
        max_retry_seconds: float = 5.0,
    ) -> None:
        url = make_url(engine.url).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.hub = hub
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.connects = 0
        """How many times the listener has (re)connected."""

    async def run(self) -> None:
        delay = self.retry_seconds
        while True:
            connects = self.connects
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                log.warning("live listener lost its connection (%s); reconnecting", error)
            delay = self.retry_seconds if self.connects > connects else delay * 2
            delay = min(delay, self.max_retry_seconds)
            await asyncio.sleep(delay)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, application_name=LISTENER_APPLICATION_NAME
        ) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.connects += 1
            self.hub.wake_all()
            async for note in conn.notifies():
                self.hub.wake((note.payload,))


async def sweep(engine: Engine, hub: Hub, interval: float) -> None:
    """Every ``interval`` seconds, wake the subscribers behind their source's newest cursor.

    One query per process whatever the number of subscribers: the net under a
    wake-up lost some way no one foresaw.
    """
    while True:
        await asyncio.sleep(interval)
        waiters = hub.waiting()
        if not waiters:
            continue
        newest = await to_thread.run_sync(_newest_cursors, engine, {w.source_id for w in waiters})
        for waiter in waiters:
            if newest.get(waiter.source_id, 0) > waiter.cursor:
                waiter.wake()


def _newest_cursors(engine: Engine, source_ids: set[str]) -> dict[str, int]:
    query = select(Source.id, Source.last_cursor).where(col(Source.id).in_(source_ids))
    with engine.connect() as connection:
        return {row.id: row.last_cursor for row in connection.execute(query)}
