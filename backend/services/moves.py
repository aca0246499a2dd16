"""Moves: a file that changes path keeps its id, so its whole history goes with it.

A push item may name ``renameFrom``: the file there moves to ``relativePath`` in
the batch's transaction, and the item's content is then applied to it by the
usual rules (its ``baseHash`` is the content before the move, which a move
does not change). History gets an entry whose ``moved_from`` is the old path.

What a move does when it cannot be one, decided so that nothing is lost:

* nothing live at ``renameFrom`` (never there, deleted, or already moved): the
  item is a plain upsert at ``relativePath``. A connector that crashed after
  renaming locally but before recording the answer replays exactly this;
* the file at ``renameFrom`` is in an open conflict, or ``relativePath`` holds
  a live file, or the old history of a deleted file: the item is rejected
  (``MOVE_SOURCE_IN_CONFLICT``, ``MOVE_TARGET_EXISTS``, ``MOVE_TARGET_HAS_HISTORY``)
  and nothing changes; the pusher sends a delete and an upsert instead, which the
  ordinary rules settle (a conflict keeps both sides);
* a folder or file in the way of the new path: ``PATH_CLASH``, as for any upsert.

A move may leave out ``content`` when it carries ``contentHash``: "moved, content
unchanged", so a renamed folder costs no upload (:func:`move_unchanged`). Having
no content, such an item cannot fall back to a plain upsert: it is rejected with
``MOVE_SOURCE_GONE`` when nothing is live at ``renameFrom``, and with
``MOVE_CONTENT_CHANGED`` when the file there no longer has ``contentHash``
(changed elsewhere meanwhile); the pusher then sends the content.

Clients that know nothing of moves see ``file.delete`` at the old path and
``file.upsert`` at the new one; the payloads carry ``movedTo`` and ``movedFrom``
for those that do.

Every move is also recorded in ``moves`` (old path -> file id): an edit that
reaches the old path later with a base (a connector that had not seen the move)
is applied to that file at its current path (:func:`follow_moves`), so it is
merged or opens a conflict there, and never brings the old path back.
"""

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from backend.db import defer_insert
from backend.errors import InvalidInput, LocalSyncError, StateConflict
from backend.models import File, Move
from backend.paths import normalise_path
from backend.services.edits import Edit, Outcome, file_event
from backend.services.files import load_file_rows
from backend.services.tree import Occupancy, is_live
from backend.services.writes import Changes

T = TypeVar("T")


def check_rename_from(value: object, path: str, is_delete: bool) -> str | None:
    """The item's ``renameFrom``, normalised like ``relativePath``; None when absent or the same."""
    if value is None:
        return None
    try:
        old = normalise_path(value)
    except InvalidInput as exc:
        raise InvalidInput(f"renameFrom: {exc.message}", "INVALID_RENAME_FROM") from exc
    if is_delete:
        raise InvalidInput("renameFrom cannot go with isDelete", "INVALID_RENAME_FROM")
    return None if old == path else old


def bare_move(
    path: str,
    digest: str,
    base: str | None,
    operation_id: str,
    connector_id: str | None,
    content_type: str,
    rename_from: str,
) -> Edit:
    """A validated move without content: ``content`` None, ``digest`` the claimed hash.

    Only :func:`move_unchanged` applies it (:func:`is_bare_move`); everywhere else an
    edit without content is a delete, which a move never is (its ``rename_from``
    keeps it out of :func:`follow_moves` and of the merges).
    """
    return Edit(
        path,
        "local",
        None,
        digest,
        0,
        base,
        True,
        "connector",
        operation_id,
        connector_id,
        content_type,
        rename_from=rename_from,
    )


def is_bare_move(edit: Edit) -> bool:
    """Whether ``edit`` moves a file without sending its content."""
    return edit.rename_from is not None and edit.content is None


def move_unchanged(changes: Changes, edit: Edit, tree: Occupancy) -> Outcome | LocalSyncError:
    """Apply a move without content: the file must be live at ``rename_from`` with the
    claimed hash; a refusal is returned, not raised."""
    assert edit.rename_from is not None
    file = changes.files.get(edit.rename_from)
    if not is_live(file):
        return StateConflict(
            f"nothing to move at {edit.rename_from!r}; send the content with the item",
            "MOVE_SOURCE_GONE",
        )
    assert file is not None
    if file.current_hash != edit.digest:
        return StateConflict(
            f"{edit.rename_from!r} no longer has contentHash; send the content with the item",
            "MOVE_CONTENT_CHANGED",
        )
    moved = move_file(changes, edit, tree)
    if isinstance(moved, LocalSyncError):
        return moved
    return Outcome("applied", file.current_hash)


def move_file(changes: Changes, edit: Edit, tree: Occupancy) -> bool | LocalSyncError:
    """Move the file at ``edit.rename_from`` to ``edit.path``; a refusal is returned, not raised.

    True after a move; False when there is nothing live to move (the item is
    then a plain upsert).
    """
    assert edit.rename_from is not None
    file = changes.files.get(edit.rename_from)
    if not is_live(file):
        return False
    assert file is not None
    if file.state == "conflict":
        return StateConflict(
            f"{edit.rename_from!r} has an open conflict; resolve it before moving the file",
            "MOVE_SOURCE_IN_CONFLICT",
        )
    target = changes.files.get(edit.path)
    if is_live(target):
        return StateConflict(f"{edit.path!r} already holds a file", "MOVE_TARGET_EXISTS")
    if target is not None:
        return StateConflict(
            f"{edit.path!r} holds the history of a deleted file; "
            "send a delete and an upsert instead of a move",
            "MOVE_TARGET_HAS_HISTORY",
        )
    tree.record(edit.rename_from, False)
    try:
        tree.check(edit.path)
    except LocalSyncError as exc:
        tree.record(edit.rename_from, True)
        return exc
    _move(changes, edit, edit.rename_from)
    tree.record(edit.path, True)
    return True


def _move(changes: Changes, edit: Edit, old: str) -> None:
    session, file = changes.session, changes.files.pop(old)
    file.relative_path = edit.path
    changes.files[edit.path] = file
    if file.orm is not None:
        file.orm.relative_path = edit.path
    elif file.id is not None:
        changes.moved.append((file.id, old, edit.path))
    changes.version(
        file,
        digest=file.current_hash,
        size=file.size,
        origin=edit.origin,
        operation_id=edit.operation_id,
        connector_id=edit.connector_id,
        moved_from=old,
    )
    digest = file.current_hash
    gone: dict[str, Any] = {
        "origin": edit.origin,
        "operationId": edit.operation_id,
        "previousHash": digest,
        "movedTo": edit.path,
    }
    if edit.connector_id:
        gone["connectorId"] = edit.connector_id
    cursor = changes.event("file.delete", old, gone)
    type_, payload = file_event(file, edit.origin, edit.operation_id, edit.connector_id, None)
    changes.event(type_, edit.path, payload | {"movedFrom": old})
    if file.id is not None:  # a file made earlier in this batch was never seen at ``old``
        row = {
            "source_id": changes.source.id,
            "from_path": old,
            "file_id": file.id,
            "cursor": cursor,
            "created_at": changes.now,
        }
        defer_insert(session, Move, row)


def follow_moves(session: Session, source_id: str, entries: Sequence[T]) -> list[T]:
    """Edits of a path a file moved away from, sent to that file's current path.

    Only edits made on a known version (a base, or a delete) follow: a new file
    pushed at the old path is a new file. A path that holds a file again (even a
    deleted one) is that file's, so the edit stays there.
    """
    wanted = {
        e.path
        for e in entries
        if isinstance(e, Edit) and e.rename_from is None and (e.base_hash or e.content is None)
    }
    if not wanted:
        return list(entries)
    moved = _latest_moves(session, source_id, wanted)
    if not moved:
        return list(entries)
    moved = {p: f for p, f in moved.items() if p not in load_file_rows(session, source_id, moved)}
    now_at = _paths_of(session, set(moved.values()))
    followed: list[T] = []
    for entry in entries:
        target = now_at.get(moved.get(entry.path, -1)) if isinstance(entry, Edit) else None
        if isinstance(entry, Edit) and target is not None and entry.rename_from is None:
            entry = dataclasses.replace(entry, path=target, followed_from=entry.path)
        followed.append(entry)
    return followed


def _latest_moves(session: Session, source_id: str, paths: set[str]) -> dict[str, int]:
    """Old path -> id of the file that last moved away from it."""
    statement = (
        select(Move.from_path, Move.file_id)
        .where(col(Move.source_id) == source_id, col(Move.from_path).in_(sorted(paths)))
        .order_by(col(Move.cursor))
    )
    return dict(session.exec(statement).all())


def _paths_of(session: Session, file_ids: set[int]) -> dict[int, str]:
    if not file_ids:
        return {}
    statement = select(File.id, File.relative_path).where(col(File.id).in_(sorted(file_ids)))
    return {file_id: path for file_id, path in session.exec(statement) if file_id is not None}
