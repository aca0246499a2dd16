"""Three-way auto-merge of a stale edit against the base the server stored."""

from sqlmodel import Session

from backend.merge import merge3way
from backend.models import File, Source
from backend.services.content import load_blob, sha256_hex, store_blob
from backend.services.edits import Edit, Outcome, emit_file_event, record_edit
from backend.services.files import append_version, in_history, set_current
from backend.services.preview import word_or_line


def merge_edit(session: Session, source: Source, file: File, edit: Edit) -> Outcome | None:
    """Merge ``edit`` into the file when a true base is known and the edits do not overlap.

    Returns None (so the caller opens a conflict) when auto-merge is off, a side
    is a delete, the base is absent or not in the content store, or edits collide.
    The incoming content is kept in history before the merged result, so nothing
    the client sent is lost.
    """
    if not source.auto_merge or edit.content is None or edit.digest is None:
        return None
    if file.current_hash is None or edit.base_hash is None:
        return None
    if not in_history(session, file.id, edit.base_hash):
        return None
    base = load_blob(session, edit.base_hash)
    current = load_blob(session, file.current_hash)
    if base is None or current is None:
        return None
    local, remote = (edit.content, current) if edit.side == "local" else (current, edit.content)
    result = merge3way(base, local, remote, granularity=word_or_line(source))
    if not result.clean or result.text is None:
        return None
    merged = result.text
    digest, size = sha256_hex(merged), len(merged.encode("utf-8"))
    record_edit(session, file, edit)
    store_blob(session, digest, merged, size)
    append_version(
        session, file, digest=digest, size=size, origin="merge", operation_id=edit.operation_id
    )
    previous = file.current_hash
    set_current(session, file, digest, size)
    # No connectorId: the pusher must not mistake the merged result for its own echo.
    emit_file_event(session, source, file, "merge", edit.operation_id, None, previous)
    return Outcome("merged", digest)
