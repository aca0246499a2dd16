"""Reading the per-source event feed in cursor order."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.errors import InvalidInput
from backend.models import Event
from backend.services.content import load_blobs
from backend.services.sources import get_source

MAX_DELTAS_LIMIT = 500


@dataclass(frozen=True)
class DeltaPage:
    source_id: str
    cursor: int
    next_cursor: int
    has_more: bool
    events: list[Event]
    contents: dict[str, str]
    """Blob contents for the upserts on this page, keyed by hash."""


def read_deltas(
    session: Session,
    workspace_id: str,
    source_id: str,
    cursor: int | None,
    limit: int | None,
    default_limit: int = 100,
) -> DeltaPage:
    """Events after ``cursor`` in order; content is joined from the blob store at read time."""
    source = get_source(session, workspace_id, source_id)
    after = 0 if cursor is None else cursor
    if after < 0:
        raise InvalidInput("cursor must be >= 0", "INVALID_CURSOR")
    size = default_limit if limit is None else limit
    if not 1 <= size <= MAX_DELTAS_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_DELTAS_LIMIT}", "INVALID_LIMIT")
    rows = list(
        session.exec(
            select(Event)
            .where(Event.source_id == source.id, Event.cursor > after)
            .order_by(col(Event.cursor))
            .limit(size + 1)
        )
    )
    has_more = len(rows) > size
    rows = rows[:size]
    contents = load_blobs(session, (e.payload.get("hash") for e in rows if e.type == "file.upsert"))
    next_cursor = rows[-1].cursor if rows else after
    return DeltaPage(source.id, after, next_cursor, has_more, rows, contents)
