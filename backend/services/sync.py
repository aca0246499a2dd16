"""Connector pushes (push-batch) and Raven-side edits (file/update)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel import Session, col, select

from backend.db import defer_insert
from backend.errors import InvalidInput, LocalSyncError, StateConflict, TooLarge
from backend.models import File, Operation, Source, utcnow
from backend.paths import normalise_path
from backend.services.content import check_content, check_hash, is_storable
from backend.services.edits import Edit, Outcome, apply_edit
from backend.services.sources import get_source
from backend.settings import Settings

MAX_OPERATION_ID = 200
MAX_CONTENT_TYPE = 200


@dataclass(frozen=True)
class PushItem:
    """One item as the client sent it; validated item by item so one bad file stalls nothing."""

    operation_id: object = None
    relative_path: object = None
    content: object = None
    content_type: object = None
    content_hash: object = None
    base_hash: object = None
    is_delete: bool = False


@dataclass(frozen=True)
class ItemResult:
    operation_id: str | None
    relative_path: str | None
    status: Literal["applied", "unchanged", "merged", "conflict", "duplicate", "rejected"]
    hash: str | None = None
    conflict_id: str | None = None
    code: str | None = None
    message: str | None = None


@dataclass
class BatchResult:
    source_id: str
    event_cursor: int
    results: list[ItemResult] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(r.status in ("applied", "merged") for r in self.results)

    @property
    def conflicts(self) -> int:
        return sum(r.status == "conflict" for r in self.results)


def _writable(source: Source) -> None:
    if source.status == "paused":
        raise StateConflict("source is paused; resume it to sync again", "SOURCE_PAUSED")


def push_batch(
    session: Session,
    workspace_id: str,
    source_id: str,
    items: Sequence[PushItem],
    settings: Settings,
    connector_id: str | None = None,
) -> BatchResult:
    """Apply a connector's batch in the caller's single transaction.

    Invalid items are answered as ``rejected`` and touch nothing; applied
    operations are recorded so a replayed batch reports them as duplicates.
    """
    if len(items) > settings.max_batch_items:
        raise TooLarge(
            f"batch has {len(items)} items, over the limit of {settings.max_batch_items}",
            "BATCH_TOO_LARGE",
        )
    source = get_source(session, workspace_id, source_id, lock=True)
    _writable(source)
    pusher = connector_id or source.connector_id
    if connector_id is not None:
        from backend.services.connectors import get_connector

        get_connector(session, workspace_id, connector_id)
    result = BatchResult(source_id=source.id, event_cursor=source.last_cursor)
    checked = [_check_item(item, settings, pusher) for item in items]
    edits = [e for e in checked if isinstance(e, Edit)]
    done = _processed(session, source.id, [e.operation_id or "" for e in edits])
    first_seen = {e.operation_id: e for e in reversed(edits) if e.operation_id not in done}
    files = _files_for(session, source, list(first_seen.values()))
    seen: set[str] = set()
    # Reads happened up front; flushing once at commit batches the inserts.
    with session.no_autoflush:
        for entry in checked:
            if isinstance(entry, ItemResult):
                result.results.append(entry)
            else:
                result.results.append(_apply_one(session, source, entry, files, done, seen))
    result.event_cursor = source.last_cursor
    return result


def _check_item(item: PushItem, settings: Settings, pusher: str | None) -> "Edit | ItemResult":
    try:
        return _validate(item, settings, pusher)
    except LocalSyncError as exc:
        return ItemResult(
            _echo(item.operation_id),
            _echo(item.relative_path),
            "rejected",
            code=exc.code,
            message=exc.message,
        )


def _processed(session: Session, source_id: str, op_ids: list[str]) -> dict[str, Operation]:
    """Operations of this batch already applied earlier, in one query."""
    if not op_ids:
        return {}
    statement = select(Operation).where(
        Operation.source_id == source_id, col(Operation.operation_id).in_(set(op_ids))
    )
    return {op.operation_id: op for op in session.exec(statement)}


def _files_for(session: Session, source: Source, edits: list[Edit]) -> dict[str, File]:
    """Load the batch's files, creating rows for new upserted paths in one statement.

    A created row has no version until its item is applied, which is how
    ``apply_edit`` still recognises it as a new path.
    """
    paths = {e.path for e in edits}
    if not paths:
        return {}
    files = _load_files(session, source.id, paths)
    new = {e.path: e.content_type for e in edits if e.content is not None and e.path not in files}
    if new:
        now = utcnow()
        rows = [
            {
                "source_id": source.id,
                "relative_path": path,
                "current_hash": None,
                "state": "ok",
                "content_type": content_type,
                "size": 0,
                "version_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            for path, content_type in new.items()
        ]
        # Core executemany: compiled once and cached, unlike a multi-row VALUES.
        session.execute(File.__table__.insert(), rows)  # type: ignore[attr-defined]
        files.update(_load_files(session, source.id, set(new)))
    return files


def _load_files(session: Session, source_id: str, paths: set[str]) -> dict[str, File]:
    statement = select(File).where(File.source_id == source_id, col(File.relative_path).in_(paths))
    return {f.relative_path: f for f in session.exec(statement)}


def _apply_one(
    session: Session,
    source: Source,
    edit: Edit,
    files: dict[str, File],
    done: dict[str, Operation],
    seen: set[str],
) -> ItemResult:
    op_id = edit.operation_id or ""
    if op_id in done or op_id in seen:
        earlier = done.get(op_id)
        return ItemResult(
            op_id,
            edit.path,
            "duplicate",
            hash=earlier.hash if earlier else None,
            conflict_id=earlier.conflict_id if earlier else None,
        )
    seen.add(op_id)
    outcome = apply_edit(session, source, edit, files)
    row = {
        "source_id": source.id,
        "operation_id": op_id,
        "relative_path": edit.path,
        "status": outcome.status,
        "hash": outcome.digest,
        "conflict_id": outcome.conflict_id,
        "created_at": utcnow(),
    }
    defer_insert(session, Operation, row)
    return ItemResult(op_id, edit.path, outcome.status, outcome.digest, outcome.conflict_id)


def _echo(value: object) -> str | None:
    """A client's own value, repeated in a rejection only if it is a storable string."""
    return value if isinstance(value, str) and is_storable(value) else None


def _validate(item: PushItem, settings: Settings, connector_id: str | None) -> Edit:
    op_id = _echo(item.operation_id)
    if op_id is None or not op_id.strip() or len(op_id) > MAX_OPERATION_ID:
        raise InvalidInput(
            f"operationId must be non-empty text of at most {MAX_OPERATION_ID} characters",
            "INVALID_OPERATION_ID",
        )
    path = normalise_path(item.relative_path)
    base = check_hash(item.base_hash, "baseHash")
    content_type = _content_type(item.content_type)
    if item.is_delete:
        return Edit(
            path, "local", None, None, 0, base, True, "connector", op_id, connector_id, content_type
        )
    if item.content is None:
        raise InvalidInput("content is required unless isDelete is true", "MISSING_CONTENT")
    digest, size = check_content(item.content, settings.max_file_bytes)
    claimed = check_hash(item.content_hash, "contentHash")
    if claimed is not None and claimed != digest:
        raise InvalidInput("contentHash is not the sha256 of content", "HASH_MISMATCH")
    assert isinstance(item.content, str)
    return Edit(
        path,
        "local",
        item.content,
        digest,
        size,
        base,
        True,
        "connector",
        op_id,
        connector_id,
        content_type,
    )


def _content_type(value: object) -> str:
    if value is None or value == "":
        return "text/markdown"
    if not isinstance(value, str) or len(value) > MAX_CONTENT_TYPE or not value.isprintable():
        raise InvalidInput("contentType must be a short media type string", "INVALID_CONTENT_TYPE")
    return value


@dataclass(frozen=True)
class UpdateResult:
    source_id: str
    relative_path: str
    outcome: Outcome
    event_cursor: int


def update_file(
    session: Session,
    workspace_id: str,
    source_id: str,
    path: object,
    content: object,
    base_hash: object,
    settings: Settings,
) -> UpdateResult:
    """A Raven-side edit: bidirectional, active sources only.

    Without ``baseHash`` the caller chose to overwrite; the old content stays in history.
    """
    source = get_source(session, workspace_id, source_id, lock=True)
    if source.mode != "bidirectional":
        raise StateConflict(
            f"source mode {source.mode!r} accepts local changes only; "
            "Raven-side edits need a bidirectional source",
            "MODE_FORBIDS_EDIT",
        )
    _writable(source)
    clean_path = normalise_path(path)
    base = check_hash(base_hash, "baseHash")
    digest, size = check_content(content, settings.max_file_bytes)
    assert isinstance(content, str)
    edit = Edit(
        clean_path,
        "remote",
        content,
        digest,
        size,
        base,
        base is not None,
        "raven",
        f"raven:{uuid.uuid4()}",
        None,
    )
    outcome = apply_edit(session, source, edit)
    return UpdateResult(source.id, clean_path, outcome, source.last_cursor)
