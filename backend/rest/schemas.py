"""Wire shapes of the REST layer: camelCase JSON, ISO-8601 UTC timestamps."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from backend.services.content import is_storable

MAX_INT64 = 2**63 - 1


def _iso(value: datetime) -> str:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def _storable(value: str) -> str:
    if not is_storable(value):
        raise ValueError("must be valid Unicode text without NUL characters")
    return value


UtcTime = Annotated[datetime, PlainSerializer(_iso, return_type=str)]
Hash = Annotated[str, Field(description="Lowercase hex sha256 of the UTF-8 bytes")]
Text = Annotated[str, AfterValidator(_storable)]
"""A string the database can hold; fields the services check themselves stay ``str``."""
Id = Annotated[Text, Field(min_length=1, max_length=200)]


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


# ---- requests ---------------------------------------------------------------


class RegisterConnectorRequest(Wire):
    name: Text = Field(examples=["macbook-pro"])
    platform: Text = Field(examples=["darwin"])
    version: Text = Field(examples=["0.1.0"])


class HeartbeatRequest(Wire):
    connector_id: Id


class CreateSourceRequest(Wire):
    name: Text = Field(examples=["Research Vault"])
    mode: Literal["import_only", "local_to_cloud", "bidirectional"]
    connector_id: Id | None = None
    include_patterns: list[Text] | None = Field(default=None, examples=[["**/*.md"]])
    exclude_patterns: list[Text] = Field(default_factory=list)
    auto_merge: bool = True
    merge_granularity: Literal["line", "word"] = "line"


class SourceRequest(Wire):
    source_id: Id


class ListSourcesRequest(Wire):
    pass


class ListFilesRequest(Wire):
    source_id: Id
    prefix: Text | None = None
    state: Literal["ok", "conflict", "deleted"] | None = None
    include_deleted: bool = False
    after: Text | None = Field(default=None, description="Last path of the previous page")
    limit: int = Field(default=1000, ge=1, le=5000)


class FileRequest(Wire):
    source_id: Id
    relative_path: str = Field(examples=["research/notes.md"])


class UpdateFileRequest(Wire):
    source_id: Id
    relative_path: str
    content: str
    base_hash: str | None = None


class PushItemIn(Wire):
    """Fields are loose on purpose: each item is validated on its own by the server,
    so a bad item is rejected alone instead of failing the whole batch."""

    operation_id: str | None = None
    relative_path: str | None = None
    content: str | None = None
    content_type: str | None = "text/markdown"
    content_hash: str | None = None
    base_hash: str | None = None
    is_delete: bool = False


class PushBatchRequest(Wire):
    source_id: Id
    connector_id: Id | None = Field(
        default=None, description="Pushing connector; defaults to the source's connector"
    )
    items: list[PushItemIn]


class DeltasRequest(Wire):
    source_id: Id
    cursor: int | None = Field(default=None, ge=0, le=MAX_INT64)
    limit: int | None = Field(default=None, ge=1, le=500)


class ConflictsRequest(Wire):
    source_id: Id
    status: Literal["open", "resolved"] | None = "open"


class PreviewRequest(Wire):
    source_id: Id | None = None
    conflict_id: Id
    context_lines: int = Field(default=3, ge=0, le=50)


class ResolveRequest(Wire):
    source_id: Id | None = None
    conflict_id: Id
    resolution: Literal["keep_local", "keep_raven", "manual_merge"]
    resolved_content: str | None = None
    revision: int | None = Field(default=None, ge=1)


class HistoryRequest(Wire):
    source_id: Id
    relative_path: str
    limit: int = Field(default=100, ge=1, le=500)
    before: int | None = Field(
        default=None, ge=1, le=MAX_INT64, description="Page back from this seq"
    )
    include_content: bool = True


# ---- responses --------------------------------------------------------------


class ConnectorOut(Wire):
    id: str
    workspace_id: str
    name: str
    platform: str
    version: str
    created_at: UtcTime
    last_heartbeat_at: UtcTime | None
    online: bool


class SourceOut(Wire):
    id: str
    workspace_id: str
    name: str
    mode: str
    connector_id: str | None
    include_patterns: list[str]
    exclude_patterns: list[str]
    status: Literal["active", "paused"]
    auto_merge: bool
    merge_granularity: str
    last_cursor: int
    file_count: int | None = None
    open_conflicts: int | None = None
    created_at: UtcTime
    updated_at: UtcTime


class FileOut(Wire):
    relative_path: str
    hash: str | None
    last_synced_hash: str | None
    state: Literal["ok", "conflict", "deleted"]
    content_type: str
    size: int
    version_count: int
    updated_at: UtcTime


class FileRecordOut(FileOut):
    source_id: str
    content: str | None
    conflict_id: str | None


class UpdateFileOut(Wire):
    status: Literal["ok", "merged", "conflict", "unchanged"]
    source_id: str
    relative_path: str
    hash: str | None
    conflict_id: str | None = None
    event_cursor: int


class ItemResultOut(Wire):
    operation_id: str | None
    relative_path: str | None
    status: Literal["applied", "unchanged", "merged", "conflict", "duplicate", "rejected"]
    hash: str | None = None
    conflict_id: str | None = None
    code: str | None = None
    message: str | None = None


class PushBatchOut(Wire):
    source_id: str
    applied: int
    conflicts: int
    event_cursor: int
    results: list[ItemResultOut]


class EventOut(Wire):
    cursor: int
    type: str
    relative_path: str | None
    payload: dict[str, Any]
    created_at: UtcTime


class DeltasOut(Wire):
    source_id: str
    cursor: int
    next_cursor: int
    has_more: bool
    events: list[EventOut]


class ConflictOut(Wire):
    id: str
    source_id: str
    relative_path: str
    status: Literal["open", "resolved"]
    reason: str
    base_hash: str | None
    local_hash: str | None
    remote_hash: str | None
    local_deleted: bool
    remote_deleted: bool
    revision: int
    resolution: str | None
    resolved_hash: str | None
    created_at: UtcTime
    updated_at: UtcTime
    resolved_at: UtcTime | None


class ResolveOut(Wire):
    conflict: ConflictOut
    hash: str | None
    event_cursor: int


class VersionOut(Wire):
    seq: int
    hash: str | None
    origin: Literal["connector", "raven", "merge"]
    deleted: bool
    size: int
    recorded_at: UtcTime
    operation_id: str | None
    connector_id: str | None
    conflict_id: str | None
    content: str | None


class HealthOut(BaseModel):
    status: Literal["ok"]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class PreviewLineOut(Wire):
    kind: Literal["equal", "insert", "delete"]
    text: str
    old_no: int | None
    new_no: int | None


class PreviewHunkOut(Wire):
    header: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[PreviewLineOut]


class LineChangeOut(Wire):
    line: int
    local: str | None
    remote: str | None


class RegionOut(Wire):
    index: int
    base: str
    local: str
    remote: str
    base_line: int
    local_line: int
    remote_line: int


class PreviewSummaryOut(Wire):
    local_lines: int
    remote_lines: int
    different_lines: int
    insertions: int
    deletions: int
    conflicting_regions: int


class PreviewOut(Wire):
    conflict_id: str
    relative_path: str
    revision: int
    base_hash: str | None
    local_hash: str | None
    remote_hash: str | None
    base_known: bool
    summary: PreviewSummaryOut
    hunks: list[PreviewHunkOut]
    changes: list[LineChangeOut]
    regions: list[RegionOut]
    merged_with_markers: str


class DiffRequest(Wire):
    source_id: Id
    relative_path: str
    from_hash: str
    to_hash: str
    context_lines: int = Field(default=3, ge=0, le=50)


class DiffOut(Wire):
    relative_path: str
    from_hash: str
    to_hash: str
    insertions: int
    deletions: int
    hunks: list[PreviewHunkOut]
    unified: str
