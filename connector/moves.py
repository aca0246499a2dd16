"""Moves: a file renamed here is pushed as a move, a move made elsewhere is a rename here.

Pushing. A scan that finds a synced path gone and a new path with the same
content journals the pair as a delete followed by an upsert (one committed
transaction, as before), so an old journal and a crash replay need nothing
new. On the wire the pair is one item: the upsert with ``renameFrom`` and the
delete's base, so the server moves the file with its history. If the server
refuses the move (the new path is taken, the file is in a conflict, ...), the
pair is journaled again as a plain upsert and delete, which the ordinary rules
settle.

Pulling. The server announces a move as ``file.delete`` at the old path with
``movedTo`` and ``file.upsert`` at the new one with ``movedFrom``. When the old
file here still holds what was last synced and nothing is at the new path, the
file is renamed (its parent folder fsynced) and the journal follows in the
pull's transaction, instead of deleting it and writing the content again. The
upsert then finds the content in place. Anything else falls back to the
ordinary delete and write.

The pull's delete limits count a moved file as a delete only if a later event
deletes it at its new path; it is counted at the path it has here.
"""

import dataclasses
import itertools
import logging
import os
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from connector.ignore import Rules
from connector.journal import FileRow, Journal, NewOp, Op
from connector.localfs import UnsafePath, remove_file, safe_target
from connector.scanner import LocalFile, Scan, clash_key, read_local

log = logging.getLogger("connector")

MOVED = "file.moved"
"""What :func:`track` records for a path whose file moved away."""


# ---- pushing ------------------------------------------------------------------


def pair(
    deletes: list[NewOp], upserts: list[NewOp], renamed: dict[str, str] | None = None
) -> tuple[list[NewOp], list[NewOp]]:
    """Order each move's delete right before its upsert; also the deletes that are no move.

    A new path (no base) with the content a vanished path had is that file,
    moved. The scan's ``renamed`` (new path -> old, same inode) decides first;
    among other candidates with the same content, one with the same name (a
    folder renamed) or in the same folder (a file renamed) is taken first.
    """
    came_from = {old: new for new, old in (renamed or {}).items()}
    by_hash: dict[str, list[NewOp]] = {}
    for up in upserts:
        if up.base_hash is None and up.content_hash:
            by_hash.setdefault(up.content_hash, []).append(up)
    ordered: list[NewOp] = []
    alone: list[NewOp] = []
    used: set[int] = set()
    for gone in deletes:
        ordered.append(gone)
        candidates = by_hash.get(gone.base_hash or "")
        if not candidates:
            alone.append(gone)
            continue
        partner = _likeliest(gone.path, candidates, came_from.get(gone.path))
        candidates.remove(partner)
        ordered.append(partner)
        used.add(id(partner))
    ordered.extend(u for u in upserts if id(u) not in used)
    return ordered, alone


def _likeliest(old: str, candidates: list[NewOp], known: str | None) -> NewOp:
    same_file = [c for c in candidates if c.path == known] if known is not None else []
    if same_file:
        return same_file[0]
    name, folder = posixpath.basename(old), posixpath.dirname(old)
    same_name = [c for c in candidates if posixpath.basename(c.path) == name]
    same_folder = [c for c in candidates if posixpath.dirname(c.path) == folder]
    return (same_name or same_folder or candidates)[-1]


def is_bare(op: NewOp | Op) -> bool:
    """An upsert journaled without content: the half of a move whose file was not read."""
    return not op.is_delete and op.content is None


def unpaired_bare(ops: list[NewOp]) -> list[int]:
    """Indexes of content-free upserts that did not pair with a delete: they need content."""
    return [
        i
        for i, op in enumerate(ops)
        if is_bare(op)
        and not (
            i > 0
            and ops[i - 1].is_delete
            and ops[i - 1].base_hash is not None
            and ops[i - 1].base_hash == op.content_hash
        )
    ]


def unread_move(result: Scan, latest: Mapping[str, object], path: str) -> bool:
    """Whether the scan found ``path`` to be a synced file moved (``Scan.moved``) whose
    old path has nothing pending: it is journaled without content, never read."""
    old = result.moved.get(path)
    return old is not None and old not in latest


def completed(engine: "Puller", ops: list[Op]) -> list[Op]:
    """Pending operations ready for the wire: a content-free upsert that is not (or no
    longer) the half of a move gets its content read now, or is dropped when its file
    is gone (the next scan decides)."""
    paired = partners(ops)
    out: list[Op] = []
    for op in ops:
        if is_bare(op) and op.op_id not in paired:
            fresh = with_content(engine, op)
            if fresh is None:
                engine.journal.finish_op(op.op_id)
                continue
            op = dataclasses.replace(
                op,
                content=fresh.content,
                content_hash=fresh.content_hash,
                mtime_ns=fresh.mtime_ns,
                size=fresh.size,
                inode=fresh.inode,
            )
        out.append(op)
    return out


def partners(batch: list[Op]) -> dict[str, Op]:
    """The moves of a batch: upsert's operation id -> the delete journaled right before it."""
    found: dict[str, Op] = {}
    for gone, op in itertools.pairwise(batch):
        if (
            gone.is_delete
            and not op.is_delete
            and op.base_hash is None
            and gone.base_hash is not None
            and op.content_hash == gone.base_hash
        ):
            found[op.op_id] = gone
    return found


def wire_items(batch: list[Op], moves: dict[str, Op], item: Any) -> list[dict[str, Any]]:
    """The batch's wire items, a move's two operations sent as one item with ``renameFrom``."""
    halves = {gone.op_id for gone in moves.values()}
    items = []
    for op in batch:
        if op.op_id in halves:
            continue
        wire: dict[str, Any] = item(op)
        gone = moves.get(op.op_id)
        if gone is not None:
            wire.update(renameFrom=gone.path, baseHash=gone.base_hash)
        elif is_bare(op):
            raise ValueError(f"content-free upsert of {op.path} outside a move")
        items.append(wire)
    return items


NEEDS_CONTENT = ("MOVE_CONTENT_CHANGED", "MOVE_SOURCE_GONE")
"""Refusals of a move sent without content: sent again as a move with content."""


def settle(engine: "Puller", gone: Op, moved: Op, answer: dict[str, Any]) -> bool:
    """Record the delete half of a move (inside the caller's transaction).

    Returns True when the answer was a refusal, handled here; the caller then
    records nothing more for it. A move sent without content that the server
    could not apply as one (the file there changed, or is gone) is journaled
    again as a move with the content, which the server merges or applies as a
    plain upsert. Any other refusal journals an upsert and a delete (in that
    order, so they are not paired again).
    """
    journal = engine.journal
    journal.finish_op(gone.op_id)
    if answer.get("status") != "rejected":
        journal.drop_file(gone.path)
        return False
    code = answer.get("code")
    again_as_move = is_bare(moved) and code in NEEDS_CONTENT
    log.info(
        "move of %s to %s refused (%s); sending %s instead",
        gone.path,
        moved.path,
        code,
        "it with its content" if again_as_move else "a delete and an upsert",
    )
    delete = NewOp(gone.path, True, None, None, gone.base_hash)
    again = with_content(engine, moved)
    if again is None:
        journal.insert_ops([delete])
    elif again_as_move:
        journal.insert_ops([delete, again])
    else:
        journal.insert_ops([again, delete])
    journal.finish_op(moved.op_id)
    return True


def with_content(engine: "Puller", op: Op | NewOp) -> NewOp | None:
    """``op`` as a fresh upsert (no base) carrying its content, read now if it has none;
    None when the file is gone or no longer synced (the next scan decides)."""
    if op.content is not None:
        return NewOp(
            op.path, False, op.content, op.content_hash, None, op.mtime_ns, op.size, op.inode
        )
    local = read_local(engine.root, op.path, engine.rules, None)
    if isinstance(local, str):
        log.info("%s not sent: %s", op.path, local)
        return None
    stat = (local.mtime_ns, local.size, local.inode)
    return NewOp(op.path, False, local.content, local.hash, None, *stat)


# ---- pulling ------------------------------------------------------------------


def track(event: dict[str, Any], final: dict[str, str], renamed: dict[str, str]) -> None:
    """Note a file event for the delete check: a move is not a delete of its old path.

    ``renamed`` maps a path a file moved to back to the path it has here.
    """
    path, kind = event.get("relativePath"), event.get("type")
    if kind not in ("file.upsert", "file.delete") or not path:
        return
    target = (event.get("payload") or {}).get("movedTo")
    if kind == "file.delete" and isinstance(target, str):
        final[path] = MOVED
        renamed[target] = renamed.pop(path, path)
        return
    final[path] = str(kind)


def local_deletes(final: dict[str, str], renamed: dict[str, str]) -> list[str]:
    """The local paths whose files the tracked events delete in the end."""
    return [renamed.get(p, p) for p, kind in final.items() if kind == "file.delete"]


class Puller(Protocol):
    """What :func:`rename_here` needs of the engine."""

    root: Path
    journal: Journal
    rules: Rules
    moved_dirs: set[Path]
    """Folders renames touched, fsynced by :func:`sync_dirs` before the journal commits."""

    @property
    def local_keys(self) -> dict[str, str]: ...


def own_echo(engine: Puller, connector_id: str, event: dict[str, Any]) -> bool:
    """Whether ``event`` is this connector's own move coming back with nothing to do.

    The old path of a move pushed from here is no longer journaled: a folder
    renamed here brings back a thousand such deletes, each skipped with one lookup.
    """
    payload = event.get("payload") or {}
    if event.get("type") != "file.delete" or not isinstance(payload.get("movedTo"), str):
        return False
    path = event.get("relativePath")
    own = bool(connector_id) and payload.get("connectorId") == connector_id
    return own and isinstance(path, str) and engine.journal.file(path) is None


def rename_here(
    engine: Puller,
    path: str,
    payload: dict[str, Any],
    local: LocalFile | str,
    row: FileRow | None,
) -> bool:
    """Apply a remote move of ``path`` as a local rename; False to delete as usual."""
    target = payload.get("movedTo")
    if not isinstance(target, str) or isinstance(local, str) or row is None:
        return False
    if local.hash != row.base_hash:
        return False
    st = _rename(engine, path, target)
    if st is None:
        return False
    base = row.base_hash
    engine.journal.set_file(target, base, base, st.st_mtime_ns, st.st_size, None, st.st_ino)
    log.info("moved %s to %s (moved on the server)", path, target)
    return True


def followed(engine: Puller, op: Op, answer: dict[str, Any]) -> Op:
    """The operation as the server applied it: at the path its file had moved to.

    An edit pushed to a path whose file moved elsewhere meanwhile lands on that
    file (services/moves.py on the server). The local file follows it there when
    it still holds what was pushed, so the folder does not keep a path the
    server no longer has; the answer is then recorded for the new path.
    """
    landed = answer.get("relativePath")
    if op.is_delete or not isinstance(landed, str) or landed == op.path:
        return op
    if answer.get("status") in ("rejected", "duplicate", None):
        return op
    local = read_local(engine.root, op.path, engine.rules, None)
    if isinstance(local, str) or local.hash != op.content_hash:
        return op
    st = _rename(engine, op.path, landed)
    if st is None:
        return op
    sync_dirs(engine)  # rare: made durable at once, before the answer is recorded
    log.info("moved %s to %s: the server had moved the file there", op.path, landed)
    return dataclasses.replace(
        op, path=landed, mtime_ns=st.st_mtime_ns, size=st.st_size, inode=st.st_ino
    )


def _rename(engine: Puller, path: str, target: str) -> os.stat_result | None:
    """Rename ``path`` to ``target`` here, durably, journal rows following; None if unsafe."""
    journal = engine.journal
    if engine.rules.reason(target) is not None:
        return None
    if journal.file(target) is not None or _pending(journal, target):
        return None
    owner = engine.local_keys.get(clash_key(target))
    if owner is not None and owner != path:
        return None
    try:
        source, dest = safe_target(engine.root, path), safe_target(engine.root, target)
        if os.path.lexists(dest):
            return None
        dest.parent.mkdir(parents=True, exist_ok=True)
        safe_target(engine.root, target)  # re-check: mkdir may have walked through a symlink
        os.rename(source, dest)
    except (UnsafePath, OSError) as exc:
        log.info("move of %s to %s not done here (%s)", path, target, exc)
        return None
    engine.moved_dirs.update((dest.parent, source.parent))
    remove_file(engine.root, path)  # nothing left there; tidies folders the move emptied
    journal.drop_file(path)
    engine.local_keys.pop(clash_key(path), None)
    engine.local_keys[clash_key(target)] = target
    return dest.stat()


def _pending(journal: Journal, path: str) -> bool:
    return journal.db.execute("SELECT 1 FROM ops WHERE path = ?", (path,)).fetchone() is not None


def sync_dirs(engine: Puller) -> None:
    """Make the renames durable before the journal records them: their folders reach the disk.

    Called once per page of remote changes rather than per rename, so a folder of
    a thousand files costs one fsync per folder involved.
    """
    folders, engine.moved_dirs = engine.moved_dirs, set()
    for folder in folders:
        if not folder.is_dir():
            continue
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
