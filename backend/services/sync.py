"""Connector pushes (push-batch) and Raven-side edits (file/update)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel import Session, col, delete, select

from backend.db import defer_insert
from backend.errors import InvalidInput, LocalSyncError, StateConflict, TooLarge
from backend.models import File, Operation, Source, utcnow
from backend.paths import normalise_path
from backend.services.content import check_content, check_hash, check_size, is_storable, sha256_hex
from backend.services.edits import Edit, Outcome, apply_edit
from backend.services.files import find_file
from backend.services.sources import get_source
from backend.services.tree import Occupancy, check_path_free, is_live
from backend.settings import Settings

MAX_OPERATION_ID = 200
MAX_CONTENT_TYPE = 200
REUSED = "OPERATION_ID_REUSED"


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


def check_batch_size(count: int, settings: Settings) -> None:
    """Refuse an oversized batch as a whole, before any of its items is looked at."""
    if count > settings.max_batch_items:
        raise TooLarge(
            f"batch has {count} items, over the limit of {settings.max_batch_items}",
            "BATCH_TOO_LARGE",
        )


def push_batch(
    session: Session,
    workspace_id: str,
    source_id: str,
    items: Sequence[object],
    settings: Settings,
    connector_id: str | None = None,
) -> BatchResult:
    """Apply a connector's batch in the caller's single transaction.

    ``items`` are the JSON values the client sent, each expected to be an object
    with the wire's camelCase fields. Each is checked on its own, strictly (no
    type coercion), so a bad item is answered ``rejected`` and touches nothing
    while the others apply. Applied operations are recorded with a fingerprint
    of what they pushed: a replay is a ``duplicate``, while the same
    ``operationId`` with other content is refused rather than silently dropped.
    """
    check_batch_size(len(items), settings)
    source = get_source(session, workspace_id, source_id, lock=True)
    _writable(source)
    pusher = connector_id or source.connector_id
    if connector_id is not None:
        from backend.services.connectors import get_connector

        get_connector(session, workspace_id, connector_id)
    result = BatchResult(source_id=source.id, event_cursor=source.last_cursor)
    checked = [_check_item(item, settings, pusher) for item in items]
    edits = [e for e in checked if isinstance(e, Edit)]
    done = _processed(session, source.id, {e.operation_id or "" for e in edits})
    planned = [_against_done(e, done) if isinstance(e, Edit) else e for e in checked]
    fresh = [e for e in planned if isinstance(e, Edit)]
    files, created = _files_for(session, source, fresh)
    tree = Occupancy(session, source.id, {e.path for e in fresh if e.content is not None})
    seen: dict[str, tuple[str, ItemResult]] = {}
    # Reads happened up front; flushing once at commit batches the inserts.
    with session.no_autoflush:
        for entry in planned:
            if isinstance(entry, ItemResult):
                result.results.append(entry)
            else:
                result.results.append(_apply_one(session, source, entry, files, tree, seen))
    _drop_unused(session, files, created)
    result.event_cursor = source.last_cursor
    return result


def _check_item(item: object, settings: Settings, pusher: str | None) -> "Edit | ItemResult":
    try:
        return _validate(item, settings, pusher)
    except LocalSyncError as exc:
        fields = item if isinstance(item, dict) else {}
        return _rejected(fields.get("operationId"), fields.get("relativePath"), exc)


def _rejected(operation_id: object, path: object, exc: LocalSyncError) -> ItemResult:
    return ItemResult(
        _echo(operation_id), _echo(path), "rejected", code=exc.code, message=exc.message
    )


def fingerprint(path: str, digest: str | None) -> str:
    """What an operation pushed: its path, and its content's hash or that it deleted."""
    return sha256_hex(f"{path}\n{digest or 'delete'}")


def _edit_fingerprint(edit: Edit) -> str:
    return fingerprint(edit.path, edit.digest)


def _same_request(op: Operation, edit: Edit) -> bool:
    """Whether ``edit`` is a replay of the recorded operation ``op``.

    Rows recorded before fingerprints existed are compared by what they kept:
    the path, and the outcome's hash, which is the pushed content's hash (None
    for a delete) except after a merge, where only the path can be compared.
    """
    if op.fingerprint is not None:
        return op.fingerprint == _edit_fingerprint(edit)
    if op.relative_path != edit.path:
        return False
    return op.status == "merged" or op.hash == edit.digest


def _reused(edit: Edit) -> ItemResult:
    return _rejected(
        edit.operation_id,
        edit.path,
        InvalidInput(
            "operationId was already used for a different change; "
            "give every new change its own operationId",
            REUSED,
        ),
    )


def _against_done(edit: Edit, done: dict[str, Operation]) -> "Edit | ItemResult":
    """An operation applied by an earlier batch: its replay, or a reuse of its id."""
    earlier = done.get(edit.operation_id or "")
    if earlier is None:
        return edit
    if not _same_request(earlier, edit):
        return _reused(edit)
    return ItemResult(
        earlier.operation_id,
        edit.path,
        "duplicate",
        hash=earlier.hash,
        conflict_id=earlier.conflict_id,
    )


def _processed(session: Session, source_id: str, op_ids: set[str]) -> dict[str, Operation]:
    """Operations of this batch already applied earlier, in one query."""
    if not op_ids:
        return {}
    statement = select(Operation).where(
        Operation.source_id == source_id, col(Operation.operation_id).in_(op_ids)
    )
    return {op.operation_id: op for op in session.exec(statement)}


def _files_for(
    session: Session, source: Source, edits: list[Edit]
) -> tuple[dict[str, File], set[str]]:
    """Load the batch's files, creating rows for new upserted paths in one statement.

    A created row has no version until its item is applied, which is how
    ``apply_edit`` still recognises it as a new path. Returns the files and the
    paths whose rows were created here.
    """
    paths = {e.path for e in edits}
    if not paths:
        return {}, set()
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
    return files, set(new)


def _drop_unused(session: Session, files: dict[str, File], created: set[str]) -> None:
    """Remove rows created for items that were rejected when their turn came.

    They were inserted in this transaction and never got a version, so removing
    them leaves the source exactly as if they had never been asked for.
    """
    unused = [files[p].id for p in created if files[p].version_count == 0]
    if unused:
        for path in created:
            if files[path].version_count == 0:
                session.expunge(files[path])
        session.execute(delete(File).where(col(File.id).in_(unused)))


def _load_files(session: Session, source_id: str, paths: set[str]) -> dict[str, File]:
    statement = select(File).where(File.source_id == source_id, col(File.relative_path).in_(paths))
    return {f.relative_path: f for f in session.exec(statement)}


def _apply_one(
    session: Session,
    source: Source,
    edit: Edit,
    files: dict[str, File],
    tree: Occupancy,
    seen: dict[str, tuple[str, ItemResult]],
) -> ItemResult:
    op_id = edit.operation_id or ""
    mark = _edit_fingerprint(edit)
    if op_id in seen:
        first_mark, first = seen[op_id]
        if first_mark != mark:
            return _reused(edit)
        return ItemResult(op_id, edit.path, "duplicate", first.hash, first.conflict_id)
    file = files.get(edit.path)
    if edit.content is not None and not is_live(file):
        try:
            tree.check(edit.path)
        except LocalSyncError as exc:
            return _rejected(op_id, edit.path, exc)
    outcome = apply_edit(session, source, edit, files)
    tree.record(edit.path, is_live(files.get(edit.path)))
    row = {
        "source_id": source.id,
        "operation_id": op_id,
        "relative_path": edit.path,
        "status": outcome.status,
        "hash": outcome.digest,
        "conflict_id": outcome.conflict_id,
        "fingerprint": mark,
        "created_at": utcnow(),
    }
    defer_insert(session, Operation, row)
    applied = ItemResult(op_id, edit.path, outcome.status, outcome.digest, outcome.conflict_id)
    seen[op_id] = (mark, applied)
    return applied


def _echo(value: object) -> str | None:
    """A client's own value, repeated in a rejection only if it is a storable string."""
    return value if isinstance(value, str) and is_storable(value) else None


def _validate(item: object, settings: Settings, connector_id: str | None) -> Edit:
    """One pushed item, checked strictly: JSON types are never coerced.

    The content's size is checked before anything is built from it, so an
    oversized item costs no more than its length.
    """
    if not isinstance(item, dict):
        raise InvalidInput("each item must be a JSON object", "INVALID_ITEM")
    op_id = _operation_id(item.get("operationId"))
    is_delete = _flag(item.get("isDelete", False), "isDelete")
    content = item.get("content")
    if content is not None and not isinstance(content, str):
        raise InvalidInput("content must be a string", "INVALID_CONTENT")
    if content is not None and not is_delete:
        check_size(content, settings.max_file_bytes)
    path = normalise_path(item.get("relativePath"))
    base = check_hash(item.get("baseHash"), "baseHash")
    content_type = _content_type(item.get("contentType"))
    claimed = check_hash(item.get("contentHash"), "contentHash")
    if is_delete:
        return Edit(
            path, "local", None, None, 0, base, True, "connector", op_id, connector_id, content_type
        )
    if content is None:
        raise InvalidInput("content is required unless isDelete is true", "MISSING_CONTENT")
    digest, size = check_content(content, settings.max_file_bytes)
    if claimed is not None and claimed != digest:
        raise InvalidInput("contentHash is not the sha256 of content", "HASH_MISMATCH")
    return Edit(
        path,
        "local",
        content,
        digest,
        size,
        base,
        True,
        "connector",
        op_id,
        connector_id,
        content_type,
    )


def _operation_id(value: object) -> str:
    op_id = _echo(value)
    if op_id is None or not op_id.strip() or len(op_id) > MAX_OPERATION_ID:
        raise InvalidInput(
            f"operationId must be non-empty text of at most {MAX_OPERATION_ID} characters",
            "INVALID_OPERATION_ID",
        )
    return op_id


def _flag(value: object, name: str) -> bool:
    """Only JSON ``true`` and ``false``: ``"yes"`` or ``1`` deleting a file would be a disaster."""
    if value is True or value is False:
        return value
    raise InvalidInput(f"{name} must be true or false", "INVALID_FLAG")


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
    if isinstance(content, str):
        check_size(content, settings.max_file_bytes)
    clean_path = normalise_path(path)
    base = check_hash(base_hash, "baseHash")
    digest, size = check_content(content, settings.max_file_bytes)
    assert isinstance(content, str)
    if not is_live(find_file(session, source.id, clean_path)):
        check_path_free(session, source.id, clean_path)
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
