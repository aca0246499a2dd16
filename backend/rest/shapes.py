"""Converters from service results to REST wire shapes."""

import json
from datetime import datetime

import pydantic_core

from backend.merge import Chunk, Hunk
from backend.models import Conflict, Connector, Source, Version
from backend.rest import schemas as s
from backend.services.connectors import is_online
from backend.services.deltas import DeltaPage, EventView
from backend.services.diffs import VersionDiff
from backend.services.files import FileRecord, FileView, History
from backend.services.preview import Preview
from backend.services.sources import SourceStats
from backend.services.sync import BatchResult


def _json(body: object) -> bytes:
    """``body`` as JSON bytes: by pydantic-core, several times faster than ``json``.

    pydantic-core refuses text that is not valid Unicode (a lone surrogate); the
    services never store or echo such text, but if some did, ``json`` writes it
    escaped, as before, rather than failing the response.
    """
    try:
        return pydantic_core.to_json(body)
    except pydantic_core.PydanticSerializationError:
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def connector(row: Connector, online_window: int) -> s.ConnectorOut:
    return s.ConnectorOut(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        platform=row.platform,
        version=row.version,
        created_at=row.created_at,
        last_heartbeat_at=row.last_heartbeat_at,
        online=is_online(row, online_window),
    )


def source(row: Source, stats: SourceStats | None = None) -> s.SourceOut:
    return s.SourceOut(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        mode=row.mode,
        connector_id=row.connector_id,
        include_patterns=row.include_patterns,
        exclude_patterns=row.exclude_patterns,
        status=row.status,
        auto_merge=row.auto_merge,
        merge_granularity=row.merge_granularity,
        last_cursor=row.last_cursor,
        created_at=row.created_at,
        updated_at=row.updated_at,
        file_count=stats.file_count if stats else None,
        open_conflicts=stats.open_conflicts if stats else None,
    )


def file(row: FileView) -> s.FileOut:
    return s.FileOut(
        relative_path=row.relative_path,
        hash=row.current_hash,
        last_synced_hash=row.current_hash,
        state=row.state,
        content_type=row.content_type,
        size=row.size,
        version_count=row.version_count,
        updated_at=row.updated_at,
    )


def file_record(record: FileRecord) -> s.FileRecordOut:
    return s.FileRecordOut(
        **file(record.file).model_dump(),
        source_id=record.source_id,
        content=record.content,
        conflict_id=record.conflict_id,
        content_encoding="base64" if record.encoding == "base64" else "utf-8",
    )


def batch_json(result: BatchResult) -> bytes:
    """A batch's results as :class:`~backend.rest.schemas.PushBatchOut` JSON, encoded
    directly (by pydantic-core): a model per item cost more than the batch's own event
    rows. The shape is the model's, field for field (a test holds them equal)."""
    body = {
        "sourceId": result.source_id,
        "applied": result.applied,
        "conflicts": result.conflicts,
        "eventCursor": result.event_cursor,
        "results": [
            {
                "operationId": r.operation_id,
                "relativePath": r.relative_path,
                "status": r.status,
                "hash": r.hash,
                "conflictId": r.conflict_id,
                "code": r.code,
                "message": r.message,
            }
            for r in result.results
        ],
    }
    return _json(body)


def event(
    row: EventView,
    contents: dict[str, str],
    omitted: bool = False,
    pruned: bool = False,
    binary: frozenset[str] | set[str] = frozenset(),
) -> s.EventOut:
    payload = dict(row.payload)
    if row.type == "file.upsert":
        payload["content"] = contents.get(payload.get("hash", ""))
        if payload.get("hash") in binary:
            payload["contentEncoding"] = "base64"
        if omitted:
            payload["contentOmitted"] = True
        if pruned:
            payload["contentPruned"] = True
    return s.EventOut(
        cursor=row.cursor,
        type=row.type,
        relative_path=row.relative_path,
        payload=payload,
        created_at=row.created_at,
    )


def deltas_json(page: DeltaPage) -> bytes:
    """A page of deltas as :class:`~backend.rest.schemas.DeltasOut` JSON, encoded directly.

    Catch-up pages carry hundreds of events with their contents: building a
    model per event and validating it again cost more than reading them. The
    shape is the model's, field for field (a test holds them equal). A batch
    stamps its events with one time, so each distinct time is formatted once;
    pydantic-core encodes the page (UTF-8, several times faster than ``json``).
    """
    times: dict[datetime, str] = {}
    events = []
    for row in page.events:
        payload = dict(row.payload)
        if row.type == "file.upsert":
            payload["content"] = page.contents.get(payload.get("hash", ""))
            if row.cursor in page.omitted:
                payload["contentOmitted"] = True
            if row.cursor in page.pruned:
                payload["contentPruned"] = True
            if payload.get("hash") in page.binary:
                payload["contentEncoding"] = "base64"
        at = times.get(row.created_at)
        if at is None:
            at = times[row.created_at] = s.iso_utc(row.created_at)
        events.append(
            {
                "cursor": row.cursor,
                "type": row.type,
                "relativePath": row.relative_path,
                "payload": payload,
                "createdAt": at,
            }
        )
    body = {
        "sourceId": page.source_id,
        "cursor": page.cursor,
        "nextCursor": page.next_cursor,
        "hasMore": page.has_more,
        "events": events,
    }
    return _json(body)


def deltas(page: DeltaPage) -> s.DeltasOut:
    return s.DeltasOut(
        source_id=page.source_id,
        cursor=page.cursor,
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        events=[
            event(e, page.contents, e.cursor in page.omitted, e.cursor in page.pruned, page.binary)
            for e in page.events
        ],
    )


def conflict(row: Conflict) -> s.ConflictOut:
    return s.ConflictOut(
        id=row.id,
        source_id=row.source_id,
        relative_path=row.relative_path,
        status=row.status,
        reason=row.reason,
        base_hash=row.base_hash,
        local_hash=row.local_hash,
        remote_hash=row.remote_hash,
        local_deleted=row.local_deleted,
        remote_deleted=row.remote_deleted,
        revision=row.revision,
        resolution=row.resolution,
        resolved_hash=row.resolved_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
    )


def version(
    row: Version,
    contents: dict[str, str],
    pruned: bool = False,
    binary: dict[str, str] | None = None,
    accept_binary: bool = False,
) -> s.VersionOut:
    """One version; an attachment's base64 only for a reader that asked for it."""
    attachment = binary is not None and row.hash is not None and row.hash in binary
    if attachment and binary is not None and row.hash is not None and not pruned:
        content = (binary[row.hash] or None) if accept_binary else None
    else:
        content = contents.get(row.hash) if row.hash and not pruned else None
    return s.VersionOut(
        seq=row.seq,
        hash=row.hash,
        origin=row.origin,
        deleted=row.hash is None,
        size=row.size,
        recorded_at=row.created_at,
        operation_id=row.operation_id,
        connector_id=row.connector_id,
        conflict_id=row.conflict_id,
        content=content,
        content_encoding="base64" if attachment else "utf-8",
        pruned=pruned,
        moved_from=row.moved_from,
    )


def history(result: History, accept_binary: bool = False) -> list[s.VersionOut]:
    return [
        version(v, result.contents, v.id in result.pruned, result.binary, accept_binary)
        for v in result.versions
    ]


def _hunk(h: Hunk) -> s.PreviewHunkOut:
    return s.PreviewHunkOut(
        header=h.header(),
        old_start=h.old_start,
        old_count=h.old_count,
        new_start=h.new_start,
        new_count=h.new_count,
        lines=[
            s.PreviewLineOut(kind=ln.kind, text=ln.text, old_no=ln.old_no, new_no=ln.new_no)
            for ln in h.lines
        ],
    )


def _region(c: Chunk) -> s.RegionOut:
    return s.RegionOut(
        index=c.index,
        base="".join(c.base),
        local="".join(c.local),
        remote="".join(c.remote),
        base_line=c.base_line,
        local_line=c.local_line,
        remote_line=c.remote_line,
    )


def preview(p: Preview) -> s.PreviewOut:
    row = p.conflict
    local, remote = p.sides.local or "", p.sides.remote or ""
    return s.PreviewOut(
        conflict_id=row.id,
        relative_path=row.relative_path,
        revision=row.revision,
        base_hash=row.base_hash,
        local_hash=row.local_hash,
        remote_hash=row.remote_hash,
        base_known=p.base_known,
        summary=s.PreviewSummaryOut(
            local_lines=len(local.splitlines()),
            remote_lines=len(remote.splitlines()),
            different_lines=len(p.changes),
            insertions=p.insertions,
            deletions=p.deletions,
            conflicting_regions=len(p.merge.regions),
        ),
        hunks=[_hunk(h) for h in p.hunks],
        changes=[s.LineChangeOut(line=c.line, local=c.local, remote=c.remote) for c in p.changes],
        regions=[_region(c) for c in p.merge.regions],
        merged_with_markers=p.merge.merged_with_markers,
        binary=p.sides.binary,
    )


def diff(path: str, d: VersionDiff) -> s.DiffOut:
    return s.DiffOut(
        relative_path=path,
        from_hash=d.from_hash,
        to_hash=d.to_hash,
        insertions=d.insertions,
        deletions=d.deletions,
        hunks=[_hunk(h) for h in d.hunks],
        unified=d.unified,
    )
