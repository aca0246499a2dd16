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
    row = {
        "source_id": source.id,
        "cursor": source.last_cursor,
        "type": type_,
        "relative_path": path,
        "payload": db_json(payload),
        "created_at": at or db_time(utcnow()),
    }
    defer_insert(session, Event, row)
    announce(session, source.id, source.last_cursor)
    return source.last_cursor
