"""Reading the per-source event feed in cursor order."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import and_, case
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from backend.errors import InvalidInput
from backend.models import Blob, Event
from backend.services.sources import get_source

MAX_DELTAS_LIMIT = 500
PAGE_CONTENT_BYTES = 48 * 1024 * 1024
"""Content a page carries at most (one upsert always goes): with attachments of up to
25 MiB, 500 events could otherwise make one answer of gigabytes."""


class EventView(Protocol):
    """An event's columns as the feed reads them (a row, or an ORM ``Event``)."""

    @property
    def cursor(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def relative_path(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...


_COLUMNS = [
    col(Event.cursor),
    col(Event.type),
    col(Event.relative_path),
    col(Event.payload),
    col(Event.created_at),
]

_PAYLOAD = Event.__table__.c.payload  # type: ignore[attr-defined]
_UPSERT = col(Event.type) == "file.upsert"


def _blob_column(column: Any) -> Any:
    """A column of an upsert's blob, probed by the blob's primary key for each event on
    the page: one query per page, and a plan that does not depend on statistics."""
    return (
        select(column)
        .where(col(Blob.hash) == _PAYLOAD["hash"].as_string())
        .correlate(Event)
        .scalar_subquery()
    )


_CONTENT = _blob_column(col(Blob.content))
_ENCODING = _blob_column(col(Blob.encoding))


@dataclass(frozen=True)
class DeltaPage:
    source_id: str
    cursor: int
    next_cursor: int
    has_more: bool
    events: list[EventView]
    contents: dict[str, str]
    """Blob contents for the upserts on this page, keyed by hash."""
    omitted: set[int] = field(default_factory=set)
    """Cursors of upserts answered without their content (the asking connector's own pushes)."""
    pruned: set[int] = field(default_factory=set)
    """Cursors of upserts whose content retention removed since: answered without it."""
    binary: set[str] = field(default_factory=set)
    """Hashes on this page that are attachments: their ``contents`` are base64."""


def read_deltas(
    session: Session,
    workspace_id: str,
    source_id: str,
    cursor: int | None,
    limit: int | None,
    default_limit: int = 100,
    own_connector_id: str | None = None,
    accept_binary: bool = False,
    page_bytes: int = PAGE_CONTENT_BYTES,
) -> DeltaPage:
    """Events after ``cursor`` in order; content is joined from the blob store at read time.

    ``own_connector_id`` names the connector asking: the upserts its own pushes
    made come without content, since it holds that content already (an upload
    does not download itself back). An id that pushed nothing to this source,
    including one of another workspace, matches no event and changes nothing.

    Unless ``accept_binary``, attachments' upserts are left out of the page
    while ``next_cursor`` still moves past them: a client that writes an
    upsert's ``content`` into a file (Raven's own connector) must never be
    handed base64, and an upsert without content would read as an empty file.
    """
    source = get_source(session, workspace_id, source_id)
    after = 0 if cursor is None else cursor
    if after < 0:
        raise InvalidInput("cursor must be >= 0", "INVALID_CURSOR")
    size = default_limit if limit is None else limit
    if not 1 <= size <= MAX_DELTAS_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_DELTAS_LIMIT}", "INVALID_LIMIT")
    own = _PAYLOAD["connectorId"].as_string().is_distinct_from(own_connector_id)
    sent = and_(_UPSERT, own) if own_connector_id is not None else _UPSERT
    content = case((sent, _CONTENT), else_=None).label("content")
    encoding = case((sent, _ENCODING), else_=None).label("encoding")
    statement = (
        select_columns(*_COLUMNS, content, encoding, sent.label("sent"))
        .where(col(Event.source_id) == source.id, col(Event.cursor) > after)
        .order_by(col(Event.cursor))
        .limit(size + 1)
    )
    # Core on the session's connection, all rows in one fetch: columns, without the
    # ORM's loading steps, and each sent upsert's content in the same query.
    rows: Sequence[Any] = session.connection().execute(statement).all()
    has_more = len(rows) > size
    rows = rows[:size]
    kept = _within_budget(rows, page_bytes)
    has_more = has_more or len(kept) < len(rows)
    rows = kept
    omitted = {e.cursor for e in rows if e.type == "file.upsert" and not e.sent}
    contents = {e.payload.get("hash"): e.content for e in rows if e.content is not None}
    binary = {e.payload.get("hash") for e in rows if e.encoding == "base64"}
    # Blobs go only when retention prunes every version holding them, so a sent
    # upsert whose blob is missing is one whose content was pruned since.
    pruned = {e.cursor for e in rows if e.sent and e.content is None}
    next_cursor = rows[-1].cursor if rows else after
    if not accept_binary and binary:
        rows = [e for e in rows if not _is_binary_upsert(e, binary)]
    events = cast(list[EventView], rows)
    return DeltaPage(
        source.id, after, next_cursor, has_more, events, contents, omitted, pruned, binary
    )


def _within_budget(rows: Sequence[Any], budget: int) -> Sequence[Any]:
    """The leading rows whose sent contents fit ``budget``; never fewer than one row."""
    total = 0
    for i, row in enumerate(rows):
        if row.type == "file.upsert" and row.sent:
            total += int(row.payload.get("size") or 0)
            if total > budget and i > 0:
                return rows[:i]
    return rows


def _is_binary_upsert(event: Any, binary: set[str]) -> bool:
    return event.type == "file.upsert" and event.payload.get("hash") in binary
