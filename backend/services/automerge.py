"""Three-way auto-merge of a stale edit against the base the server stored.

A batch reads the texts it may merge and merges them before it takes the
source's lock (:func:`load_merge_inputs`, :func:`compute_merges`); under the
lock a merge is only looked up by what it depended on, and redone there only if
the file moved in between. :func:`merge_edit` is the same rule for a file the
ORM already holds (one in the middle of a conflict).
"""

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from backend.merge import merge3way
from backend.models import File, Source, Version
from backend.services.content import load_blob, load_blobs, sha256_hex, store_blob
from backend.services.edits import Edit, Outcome, emit_file_event, record_edit
from backend.services.files import FileRow, append_version, in_history, set_current
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
    if edit.encoding != "utf-8":
        return None  # attachments are never merged
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


MergeKey = tuple[str, str, str, str]
"""(path, base hash, current hash, pushed hash): what a merge result depends on."""


@dataclass(frozen=True)
class MergeInput:
    key: MergeKey
    base: str
    current: str
    edit: Edit


def merge_key(file: FileRow, edit: Edit) -> MergeKey | None:
    """The key of a merge ``edit`` may need against the file as read; None if it cannot merge."""
    if edit.content is None or edit.digest is None or edit.base_hash is None:
        return None
    if edit.encoding != "utf-8":
        return None  # attachments are never merged: a stale one is a conflict
    if file.current_hash is None or file.state == "conflict" or file.id is None:
        return None
    if edit.base_hash == file.current_hash or edit.digest == file.current_hash:
        return None
    return (file.relative_path, edit.base_hash, file.current_hash, edit.digest)


def load_merge_inputs(
    session: Session, source: Source, wanted: list[tuple[FileRow, Edit]]
) -> tuple[list[MergeInput], set[MergeKey]]:
    """Texts for the merges a batch may need, in two queries; and the keys that cannot merge.

    A base counts only if the file itself once held it (the blob store is shared).
    """
    if not source.auto_merge:
        return [], set()
    keyed = [(k, f, e) for f, e in wanted if (k := merge_key(f, e)) is not None]
    if not keyed:
        return [], set()
    pairs = {(f.id, e.base_hash) for _, f, e in keyed}
    statement = select(Version.file_id, Version.hash).where(
        col(Version.file_id).in_({file_id for file_id, _ in pairs}),
        col(Version.hash).in_({digest for _, digest in pairs}),
    )
    known = set(session.exec(statement.distinct()).all())
    texts = load_blobs(session, [d for k, _, _ in keyed for d in (k[1], k[2])])
    inputs: list[MergeInput] = []
    refused: set[MergeKey] = set()
    for key, file, edit in keyed:
        base, current = texts.get(key[1]), texts.get(key[2])
        if (file.id, edit.base_hash) not in known or base is None or current is None:
            refused.add(key)
        else:
            inputs.append(MergeInput(key, base, current, edit))
    return inputs, refused


def compute_merges(
    inputs: list[MergeInput], refused: set[MergeKey], granularity: Literal["line", "word"]
) -> dict[MergeKey, str | None]:
    """Merged texts by key (None: the edits collide); pure CPU, run with no lock held."""
    merged: dict[MergeKey, str | None] = dict.fromkeys(refused)
    for item in inputs:
        if item.key in merged:
            continue
        edit = item.edit
        local, remote = (
            (edit.content, item.current) if edit.side == "local" else (item.current, edit.content)
        )
        assert local is not None and remote is not None
        result = merge3way(item.base, local, remote, granularity=granularity)
        merged[item.key] = result.text if result.clean else None
    return merged
