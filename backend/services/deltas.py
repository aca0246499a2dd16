"""Reading the per-source event feed in cursor order."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlmodel import Session, col, select

from backend.errors import InvalidInput
from backend.models import Event
from backend.services.content import load_stored_many
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
    statement = (
        select(*_COLUMNS)
        .where(Event.source_id == source.id, Event.cursor > after)
        .order_by(col(Event.cursor))
        .limit(size + 1)
    )
    # Core on the session's connection: rows of columns, without the ORM's loading steps.
    rows = cast(list[EventView], list(session.connection().execute(statement)))
    has_more = len(rows) > size
    rows = rows[:size]
    kept = _within_budget(rows, page_bytes)
    has_more = has_more or len(kept) < len(rows)
    rows = kept
    upserts = [e for e in rows if e.type == "file.upsert"]
    omitted = set()
    if own_connector_id is not None:
        omitted = {e.cursor for e in upserts if e.payload.get("connectorId") == own_connector_id}
    sent = [e for e in upserts if e.cursor not in omitted]
    stored = load_stored_many(session, (e.payload.get("hash") for e in sent))
    contents = {h: s.content for h, s in stored.items()}
    binary = {h for h, s in stored.items() if s.binary}
    # Blobs go only when retention prunes every version holding them, so a sent
    # upsert whose blob is missing is one whose content was pruned since.
    pruned = {e.cursor for e in sent if e.payload.get("hash") not in contents}
    next_cursor = rows[-1].cursor if rows else after
    if not accept_binary and binary:
        rows = [e for e in rows if not _is_binary_upsert(e, binary)]
    return DeltaPage(
        source.id, after, next_cursor, has_more, rows, contents, omitted, pruned, binary
    )


def _within_budget(rows: list[EventView], budget: int) -> list[EventView]:
    """The leading rows whose upserts' sizes fit ``budget``; never fewer than one row."""
    total = 0
    for i, row in enumerate(rows):
        if row.type == "file.upsert":
            total += int(row.payload.get("size") or 0)
            if total > budget and i > 0:
                return rows[:i]
    return rows


def _is_binary_upsert(event: EventView, binary: set[str]) -> bool:
    return event.type == "file.upsert" and event.payload.get("hash") in binary
