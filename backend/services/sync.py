"""Connector pushes (push-batch) and Raven-side edits (file/update)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel import Session

from backend.db import keyed_rows, unlocked_reads
from backend.errors import InvalidInput, LocalSyncError, StateConflict, TooLarge
from backend.models import Operation, Source, utcnow
from backend.paths import normalise_path
from backend.services.attachments import check_length, checked_content
from backend.services.automerge import MergeKey, compute_merges, load_merge_inputs, merge_key
from backend.services.content import check_encoding, check_hash, is_storable, sha256_hex
from backend.services.edits import Edit, Outcome, apply_edit, file_event, open_conflict
from backend.services.files import FileRow, load_file_rows
from backend.services.moves import (
    bare_move,
    check_rename_from,
    follow_moves,
    is_bare_move,
    move_file,
    move_unchanged,
)
from backend.services.preview import word_or_line
from backend.services.sources import get_source
from backend.services.tree import Occupancy, check_path_free, is_live
from backend.services.writes import Changes
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

    Writers of one source take turns on its lock, so everything that can be done
    without it is done first (:func:`plan_batch`): validation, hashing, reading
    the files and merging stale edits. Under the lock (:func:`apply_plan`) only
    the cursor, the rows and a re-check of each file's current hash remain.
    """
    return apply_plan(
        session, plan_batch(session, workspace_id, source_id, items, settings, connector_id)
    )


@dataclass(frozen=True)
class BatchPlan:
    """A batch checked and merged before the source's lock; :func:`apply_plan` writes it."""

    workspace_id: str
    source_id: str
    entries: "list[Edit | ItemResult]"
    merges: dict[MergeKey, str | None]
    """Merged texts computed against the files as read (None: the edits collide)."""


def plan_batch(
    session: Session,
    workspace_id: str,
    source_id: str,
    items: Sequence[object],
    settings: Settings,
    connector_id: str | None = None,
) -> BatchPlan:
    """Everything a batch needs that does not need the source's lock.

    Reads run where they take no write lock (:func:`unlocked_reads`), and the
    merges are computed after them; what they read is checked again under the lock.
    """
    check_batch_size(len(items), settings)
    with unlocked_reads(session) as reader:
        source = get_source(reader, workspace_id, source_id)
        _writable(source)
        pusher = connector_id or source.connector_id
        if connector_id is not None:
            from backend.services.connectors import get_connector

            get_connector(reader, workspace_id, connector_id)
        checked = [_check_item(item, settings, pusher) for item in items]
        edits = [e for e in checked if isinstance(e, Edit)]
        files = load_file_rows(reader, source.id, {e.path for e in edits})
        wanted = [(files[e.path], e) for e in edits if e.path in files]
        inputs, refused = load_merge_inputs(reader, source, wanted)
        granularity = word_or_line(source)
    merges = compute_merges(inputs, refused, granularity)
    return BatchPlan(workspace_id, source.id, checked, merges)


def apply_plan(session: Session, plan: BatchPlan) -> BatchResult:
    """Write a planned batch under the source's lock, re-checking what the plan read.

    Operations applied meanwhile (a concurrent retry) turn into duplicates, and a
    file whose current hash moved since the plan read it is decided again (its
    merge redone), so no update is lost.
    """
    source = get_source(session, plan.workspace_id, plan.source_id, lock=True)
    _writable(source)
    result = BatchResult(source_id=source.id, event_cursor=source.last_cursor)
    edits = [e for e in plan.entries if isinstance(e, Edit)]
    done = _processed(session, source.id, {e.operation_id or "" for e in edits})
    planned = [_against_done(e, done) if isinstance(e, Edit) else e for e in plan.entries]
    planned = follow_moves(session, source.id, planned)
    fresh = [e for e in planned if isinstance(e, Edit)]
    changes = Changes(session, source, utcnow())
    paths = {e.path for e in fresh} | {e.rename_from for e in fresh if e.rename_from}
    changes.files.update(load_file_rows(session, source.id, paths))
    creates = {e.path for e in fresh if e.content is not None or is_bare_move(e)}
    tree = Occupancy(session, source.id, creates)
    seen: dict[str, tuple[str, ItemResult]] = {}
    for entry in planned:
        if isinstance(entry, ItemResult):
            result.results.append(entry)
        else:
            result.results.append(_apply_one(changes, plan.merges, entry, tree, seen))
    changes.write()
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


def fingerprint(path: str, digest: str | None, rename_from: str | None = None) -> str:
    """What an operation pushed: its path, its content's hash or that it deleted,
    and the path it moved the file from, if any."""
    moved = f"\nfrom {rename_from}" if rename_from is not None else ""
    return sha256_hex(f"{path}\n{digest or 'delete'}{moved}")


def _edit_fingerprint(edit: Edit) -> str:
    return fingerprint(edit.followed_from or edit.path, edit.digest, edit.rename_from)


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


def _processed(session: Session, source_id: str, op_ids: set[str]) -> dict[str, Any]:
    """Operations of this batch already applied earlier: one primary-key probe each."""
    columns = ("operation_id", "relative_path", "status", "hash", "conflict_id", "fingerprint")
    table = Operation.__table__  # type: ignore[attr-defined]
    rows = keyed_rows(session, table, columns, "operation_id", op_ids, ("source_id", source_id))
    return {op.operation_id: op for op in rows}


def _apply_one(
    changes: Changes,
    merges: dict[MergeKey, str | None],
    edit: Edit,
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
    if is_bare_move(edit):
        bare = move_unchanged(changes, edit, tree)
        if isinstance(bare, LocalSyncError):
            return _rejected(op_id, edit.path, bare)
        outcome = bare
    else:
        moved: bool | LocalSyncError = False
        if edit.rename_from is not None:
            moved = move_file(changes, edit, tree)
            if isinstance(moved, LocalSyncError):
                return _rejected(op_id, edit.path, moved)
        file = changes.files.get(edit.path)
        if edit.content is not None and not is_live(file):
            try:
                tree.check(edit.path)
            except LocalSyncError as exc:
                return _rejected(op_id, edit.path, exc)
        outcome = apply_to_row(changes, merges, edit)
        if moved and outcome.status == "unchanged":
            outcome = Outcome("applied", outcome.digest)  # the move was the change
    tree.record(edit.path, is_live(changes.files.get(edit.path)))
    changes.operation(
        {
            "operation_id": op_id,
            "relative_path": edit.path,
            "status": outcome.status,
            "hash": outcome.digest,
            "conflict_id": outcome.conflict_id,
            "fingerprint": mark,
        }
    )
    applied = ItemResult(op_id, edit.path, outcome.status, outcome.digest, outcome.conflict_id)
    seen[op_id] = (mark, applied)
    return applied


def apply_to_row(changes: Changes, merges: dict[MergeKey, str | None], edit: Edit) -> Outcome:
    """The edit rules of :func:`apply_edit` on a file's columns, under the source's lock.

    A merge is taken from ``merges`` when the file still has the hash it was
    computed against, and redone here otherwise. Conflicts (rare) go through
    the ORM path.
    """
    session, source = changes.session, changes.source
    file = changes.files.get(edit.path)
    if file is not None and (file.orm is not None or file.state == "conflict"):
        return apply_edit(session, source, edit, {edit.path: changes.materialize(file)})
    current = file.current_hash if file else None
    if edit.digest == current:
        return Outcome("unchanged", current)
    if file is None or file.version_count == 0 or not edit.check_base or edit.base_hash == current:
        _write_row(changes, edit, file or changes.new_file(edit.path, edit.content_type))
        return Outcome("applied", edit.digest)
    if current is None and edit.base_hash is None:
        _write_row(changes, edit, file)  # re-creating a deleted path continues its history
        return Outcome("applied", edit.digest)
    key = merge_key(file, edit)
    if key is not None and key not in merges:
        inputs, refused = load_merge_inputs(session, source, [(file, edit)])
        merges[key] = compute_merges(inputs, refused, word_or_line(source)).get(key)
    merged = merges.get(key) if key is not None else None
    if merged is None:
        return open_conflict(session, source, changes.materialize(file), edit)
    return _merge_row(changes, edit, file, merged)


def _write_row(changes: Changes, edit: Edit, file: FileRow) -> None:
    previous = file.current_hash
    if edit.content is not None and edit.digest is not None:
        changes.blob(edit.digest, edit.content, edit.size, edit.encoding)
    changes.version(
        file,
        digest=edit.digest,
        size=edit.size,
        origin=edit.origin,
        operation_id=edit.operation_id,
        connector_id=edit.connector_id,
    )
    changes.set_current(file, edit.digest, edit.size, edit.content_type)
    type_, payload = file_event(file, edit.origin, edit.operation_id, edit.connector_id, previous)
    changes.event(type_, file.relative_path, payload)


def _merge_row(changes: Changes, edit: Edit, file: FileRow, merged: str) -> Outcome:
    """Keep what the client sent in history, then the merged result as current."""
    assert edit.content is not None and edit.digest is not None
    changes.blob(edit.digest, edit.content, edit.size)
    changes.version(
        file,
        digest=edit.digest,
        size=edit.size,
        origin=edit.origin,
        operation_id=edit.operation_id,
        connector_id=edit.connector_id,
    )
    digest, size = sha256_hex(merged), len(merged.encode("utf-8"))
    changes.blob(digest, merged, size)
    changes.version(
        file,
        digest=digest,
        size=size,
        origin="merge",
        operation_id=edit.operation_id,
        connector_id=None,
    )
    previous = file.current_hash
    changes.set_current(file, digest, size)
    # No connectorId: the pusher must not mistake the merged result for its own echo.
    type_, payload = file_event(file, "merge", edit.operation_id, None, previous)
    changes.event(type_, file.relative_path, payload)
    return Outcome("merged", digest)


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
    encoding = check_encoding(item.get("contentEncoding"))
    if content is not None and not is_delete:
        check_length(content, encoding, settings)
    path = normalise_path(item.get("relativePath"))
    base = check_hash(item.get("baseHash"), "baseHash")
    content_type = _content_type(item.get("contentType"))
    claimed = check_hash(item.get("contentHash"), "contentHash")
    rename_from = check_rename_from(item.get("renameFrom"), path, is_delete)
    if is_delete:
        return Edit(
            path, "local", None, None, 0, base, True, "connector", op_id, connector_id, content_type
        )
    if content is None:
        if rename_from is not None and claimed is not None:
            return bare_move(path, claimed, base, op_id, connector_id, content_type, rename_from)
        raise InvalidInput(
            "content is required unless isDelete is true "
            "(or the item moves a file unchanged: renameFrom and contentHash)",
            "MISSING_CONTENT",
        )
    digest, size, content = checked_content(content, encoding, settings)
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
        rename_from=rename_from,
        encoding=encoding,
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
    content_encoding: object = None,
) -> UpdateResult:
    """A Raven-side edit: bidirectional, active sources only.

    Without ``baseHash`` the caller chose to overwrite; the old content stays in history.
    ``content_encoding`` "base64" makes it an attachment (``content`` the base64 of its bytes).
    """
    with unlocked_reads(session) as reader:
        _editable(get_source(reader, workspace_id, source_id))
        encoding = check_encoding(content_encoding)
        if isinstance(content, str):
            check_length(content, encoding, settings)
        clean_path = normalise_path(path)
        base = check_hash(base_hash, "baseHash")
        digest, size, content = checked_content(content, encoding, settings)
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
            encoding=encoding,
        )
        source = get_source(reader, workspace_id, source_id)
        files = load_file_rows(reader, source.id, [clean_path])
        wanted = [(files[clean_path], edit)] if clean_path in files else []
        inputs, refused = load_merge_inputs(reader, source, wanted)
        granularity = word_or_line(source)
    merges = compute_merges(inputs, refused, granularity)
    source = get_source(session, workspace_id, source_id, lock=True)
    _editable(source)
    changes = Changes(session, source, utcnow())
    changes.files.update(load_file_rows(session, source.id, [clean_path]))
    if not is_live(changes.files.get(clean_path)):
        check_path_free(session, source.id, clean_path)
    outcome = apply_to_row(changes, merges, edit)
    changes.write()
    return UpdateResult(source.id, clean_path, outcome, source.last_cursor)


def _editable(source: Source) -> None:
    if source.mode != "bidirectional":
        raise StateConflict(
            f"source mode {source.mode!r} accepts local changes only; "
            "Raven-side edits need a bidirectional source",
            "MODE_FORBIDS_EDIT",
        )
    _writable(source)
