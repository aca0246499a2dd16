"""Appending to the per-source event feed with gapless cursors."""

from typing import Any

from sqlmodel import Session

from backend.db import db_json, db_time, defer_insert
from backend.live_signal import announce
from backend.models import Event, Source, utcnow


def emit(
    session: Session,
    source: Source,
    type_: str,
    path: str | None,
    payload: dict[str, Any],
    at: str | None = None,
) -> int:
    """Append one event in the caller's transaction and return its cursor.

    Every caller holds the source's row lock (``get_source(lock=True)``: ``SELECT
    ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) until commit, so
    writers of one source are serialised: cursors are handed out in commit order,
    and a rolled-back transaction gives its numbers back (no gaps). The counter
    is bumped in memory and written once at flush; the unique (source, cursor)
    constraint turns any breach of that rule into an error, never a silent gap.

    ``at`` is the time a batch stamps all its rows with (:func:`backend.db.db_time`);
    the row is stored as the database holds it, so the bulk insert processes nothing.
    """
    source.last_cursor += 1
    if source not in session:
        session.add(source)
    _append(session, source.id, source.last_cursor, type_, path, payload, at)
    announce(session, source.id, source.last_cursor)
    return source.last_cursor


class EventRun:
    """The events of one locked batch, numbered on a plain counter.

    A batch appends an event per item; bumping ``sources.last_cursor`` through
    the ORM for each one (attribute events, history, a session check) cost more
    than building the event's row. The run counts on an int from the source's
    cursor and hands the count back to the source row once, in :meth:`settle`.

    Cursors stay gapless and in order as long as one counter is in use at a
    time: the run's owner settles before anything else emits for the source
    (the ORM paths, which call :func:`emit`), and the run takes up again from
    ``source.last_cursor`` at its next event, after whatever they appended.
    """

    def __init__(self, session: Session, source: Source, at: str) -> None:
        self.session = session
        self.source = source
        self.at = at
        self._last: int | None = None
        """The last cursor handed out and not yet settled; None: the source row holds it."""

    def append(self, type_: str, path: str | None, payload: dict[str, Any]) -> int:
        """Append one event after the source's latest; returns its cursor."""
        if self._last is None:
            self._last = self.source.last_cursor
        self._last += 1
        _append(self.session, self.source.id, self._last, type_, path, payload, self.at)
        return self._last

    def settle(self) -> None:
        """Write the counter to the source row (once) and announce the new events."""
        if self._last is None:
            return
        self.source.last_cursor = self._last
        if self.source not in self.session:
            self.session.add(self.source)
        announce(self.session, self.source.id, self._last)
        self._last = None


def _append(
    session: Session,
    source_id: str,
    cursor: int,
    type_: str,
    path: str | None,
    payload: dict[str, Any],
    at: str | None,
) -> None:
    row = {
        "source_id": source_id,
        "cursor": cursor,
        "type": type_,
        "relative_path": path,
        "payload": db_json(payload),
        "created_at": at or db_time(utcnow()),
    }
    defer_insert(session, Event, row)
