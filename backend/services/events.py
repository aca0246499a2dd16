"""Appending to the per-source event feed with gapless cursors."""

from typing import Any

from sqlmodel import Session, col, update

from backend.models import Event, Source, utcnow


def emit(
    session: Session, source: Source, type_: str, path: str | None, payload: dict[str, Any]
) -> int:
    """Append one event in the caller's transaction and return its cursor.

    The cursor comes from an ``UPDATE ... RETURNING`` on the source row: the row
    lock it takes serialises writers of one source, so cursors are handed out in
    commit order, and a rolled-back transaction returns its numbers (no gaps).
    """
    statement = (
        update(Source)
        .where(col(Source.id) == source.id)
        .values(last_cursor=Source.last_cursor + 1)
        .returning(col(Source.last_cursor))
    )
    cursor = int(session.exec(statement).scalar_one())
    source.last_cursor = cursor
    session.add(
        Event(
            source_id=source.id,
            cursor=cursor,
            type=type_,
            relative_path=path,
            payload=payload,
            created_at=utcnow(),
        )
    )
    return cursor
