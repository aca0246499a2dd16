"""Wire shapes of the REST layer: camelCase JSON, ISO-8601 UTC timestamps."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from backend.services.content import is_storable
from backend.settings import Settings

MAX_SAFE_INT = 2**53 - 1
"""The largest integer every JSON reader holds exactly (RFC 7493, I-JSON)."""


def iso_utc(value: datetime) -> str:
    """ISO-8601 in UTC with ``Z``; a naive value (as the databases return it) is UTC."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def _storable(value: str) -> str:
    if not is_storable(value):
        raise ValueError("must be valid Unicode text without NUL characters")
    return value


# Documented constraints mirror what the services check, so the OpenAPI document tells a
# client exactly which requests are accepted. Patterns are written for both ECMA-262 and
# Python; the services stay the judges and answer with their own codes and messages.
_WS = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Exactly the characters ``str.strip()`` removes."""
_END = r"$(?!\n)"
"""End of the string: Python's ``$`` alone also matches before a final newline."""
NO_NUL = r"^[^\u0000]*$"
NON_BLANK = rf"^[^\u0000]*[^{_WS}\u0000][^\u0000]*$"
_SEG = r"[^/\\\u0000-\u001f\u007f]"
_FIRST = r"[^./\\\u0000-\u001f\u007f]"
_NAME = rf"(?:{_FIRST}{_SEG}{{0,254}}|\.{_FIRST}{_SEG}{{0,253}}|\.\.{_SEG}{{1,253}})"
PATH = rf"^(?:\.(?:/\.?)*/)?{_NAME}(?:/(?:\.|{_NAME})?)*{_END}"
"""Relative, '/'-separated, no control character or backslash, no '..', names a file."""
HASH_IN = rf"^(?:[0-9a-fA-F]{{64}})?{_END}"


def _whole(value: object) -> object:
    """JSON has one number type: ``3.0`` is the integer 3 (as JSON Schema says), ``3.5`` is not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = BeforeValidator(_whole)
"""After an integer's bounds in ``Annotated``, so the bounds still reach the schema."""
UtcTime = Annotated[datetime, PlainSerializer(iso_utc, return_type=str)]
Hash = Annotated[str, Field(description="Lowercase hex sha256 of the UTF-8 bytes")]
HashIn = Annotated[
    str,
    Field(
        description="sha256 hex digest (either case); empty means none",
        json_schema_extra={"pattern": HASH_IN},
    ),
]
Text = Annotated[str, AfterValidator(_storable), Field(json_schema_extra={"pattern": NO_NUL})]
"""A string the database can hold; fields the services check themselves stay ``str``."""
Id = Annotated[Text, Field(min_length=1, max_length=200)]
EncodingIn = Annotated[str, Field(json_schema_extra={"enum": ["utf-8", "base64"]})]
"""Documented as an enum; the service checks it, so a wrong value gets its own error code."""
RelativePath = Annotated[
    str,
    Field(
        examples=["research/notes.md"],
        description=(
            "POSIX path relative to the source root: no leading '/', no '..', no backslash "
            "or control character; at most 1024 UTF-8 bytes, each name at most 255 bytes"
        ),
        json_schema_extra={"pattern": PATH, "maxLength": 1024},
    ),
]
Content = Annotated[
    str,
    Field(
        description="UTF-8 text without NUL, at most LOCALSYNC_MAX_FILE_BYTES bytes (5 MiB)",
        json_schema_extra={"pattern": NO_NUL},
    ),
]


def _name(limit: int, stripped: bool = False) -> Any:
    """A display name: not blank; ``stripped`` when the limit applies after trimming."""
    if stripped:
        inner = f"[^{_WS}\\u0000]"
        pattern = rf"^[{_WS}]*{inner}(?:[^\u0000]{{0,{limit - 2}}}{inner})?[{_WS}]*$"
        extra: dict[str, Any] = {"pattern": pattern}
    else:
        extra = {"pattern": NON_BLANK, "maxLength": limit}
    return Field(description=f"Not blank, at most {limit} characters", json_schema_extra=extra)


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class WireIn(Wire):
    """Requests: JSON types are taken as sent, never coerced (``"yes"`` is not ``true``)."""

    model_config = ConfigDict(strict=True)


# ---- requests ---------------------------------------------------------------


class RegisterConnectorRequest(WireIn):
    name: Annotated[Text, _name(200)] = Field(examples=["macbook-pro"])
    platform: Annotated[Text, _name(100)] = Field(examples=["darwin"])
    version: Annotated[Text, _name(100)] = Field(examples=["0.1.0"])


class HeartbeatRequest(WireIn):
    connector_id: Id


_PLAIN = r"[^\\\u0000]"
_ESCAPE = r"\\[^/\u0000]"
GIT_PATTERN = (
    rf"^(?![{_WS}]*![{_WS}]*$)[{_WS}]*(?:#[^\u0000]*|(?:{_PLAIN}|{_ESCAPE})*"
    rf"(?:[^\\{_WS}\u0000]|\\[^/{_WS}\u0000])[{_WS}]*|(?:{_PLAIN}|{_ESCAPE})*\\ ){_END}"
)
"""What gitignore rules compile: a comment, or not blank, not a bare '!', and every
backslash escapes a character of its own name (not '/', not the end of the pattern)."""
Pattern = Annotated[
    Text,
    Field(
        description="A gitignore-style pattern",
        json_schema_extra={"pattern": GIT_PATTERN, "maxLength": 1024},
    ),
]


class CreateSourceRequest(WireIn):
    name: Annotated[Text, _name(200, stripped=True)] = Field(examples=["Research Vault"])
    mode: Literal["import_only", "local_to_cloud", "bidirectional"]
    connector_id: Id | None = None
    include_patterns: list[Pattern] | None = Field(
        default=None, examples=[["**/*.md"]], json_schema_extra={"maxItems": 200}
    )
    exclude_patterns: list[Pattern] = Field(
        default_factory=list, json_schema_extra={"maxItems": 200}
    )
    auto_merge: bool = True
    merge_granularity: Literal["line", "word"] = "line"


class SourceRequest(WireIn):
    source_id: Id


class ListSourcesRequest(WireIn):
    pass


class ListFilesRequest(WireIn):
    source_id: Id
    prefix: Text | None = Field(
        default=None, description="Paths starting with this (at most 1024 UTF-8 bytes)"
    )
    state: Literal["ok", "conflict", "deleted"] | None = None
    include_deleted: bool = False
    after: Text | None = Field(
        default=None, description="Last path of the previous page (at most 1024 UTF-8 bytes)"
    )
    limit: Annotated[int, Field(ge=1, le=5000), Whole] = 1000


class FileRequest(WireIn):
    source_id: Id
    relative_path: RelativePath
    accept_encodings: list[EncodingIn] | None = Field(
        default=None,
        description='Extension: ["base64"] asks for attachments (files synced as bytes) '
        'as base64 with `contentEncoding: "base64"`; without it they are never sent as content.',
    )


BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
"""Standard, padded base64: what the service decodes (strictly) for an attachment."""


class UpdateFileRequest(WireIn):
    # The documented schema says what the service enforces: base64 content only
    # goes with ``contentEncoding: "base64"``.
    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "if": {
                "properties": {"contentEncoding": {"const": "base64"}},
                "required": ["contentEncoding"],
            },
            "then": {"properties": {"content": {"pattern": BASE64_PATTERN}}},
        },
    )

    source_id: Id
    relative_path: RelativePath
    content: Content
    base_hash: HashIn | None = None
    content_encoding: EncodingIn | None = Field(
        default=None,
        description='Extension: "base64" sends an attachment (content is the base64 of its '
        "bytes; hashes and size are of the bytes, at most LOCALSYNC_MAX_ATTACHMENT_BYTES); "
        'absent or "utf-8" is text. Anything else is INVALID_CONTENT_ENCODING.',
    )


class PushItem(WireIn):
    """One connector operation: an upsert with ``content``, or a delete."""

    operation_id: str = Field(
        min_length=1,
        max_length=200,
        description="Names this change; a replay is answered `duplicate`, while reusing it "
        "for other content is rejected with OPERATION_ID_REUSED",
        json_schema_extra={"pattern": NON_BLANK},
    )
    relative_path: RelativePath
    content: Content | None = Field(
        default=None,
        description="Required unless isDelete, or unless the item moves a file unchanged "
        "(renameFrom with contentHash)",
    )
    content_type: str | None = Field(
        default="text/markdown", max_length=200, json_schema_extra={"pattern": r"^[ -~]*$"}
    )
    content_hash: HashIn | None = Field(
        default=None,
        description="Checked against content. Extension: with renameFrom and no content, the "
        "hash the moved file has (a move, content unchanged); refused per item with "
        "MOVE_CONTENT_CHANGED when the file there has another hash and MOVE_SOURCE_GONE when "
        "nothing is live there, so the client sends the content instead",
    )
    base_hash: HashIn | None = Field(default=None, description="The hash this edit started from")
    is_delete: bool = False
    rename_from: RelativePath | None = Field(
        default=None,
        description="Extension: the file at this path moves to relativePath with its whole "
        "history, then content applies by the usual baseHash rules (baseHash is the content "
        "before the move). Nothing live there: a plain upsert. Refused per item with "
        "MOVE_TARGET_EXISTS, MOVE_TARGET_HAS_HISTORY, MOVE_SOURCE_IN_CONFLICT or PATH_CLASH. "
        "Not with isDelete.",
    )
    content_encoding: EncodingIn | None = Field(
        default=None,
        description='Extension: "base64" sends an attachment (content is the base64 of its '
        "bytes; hashes and size are of the bytes, at most LOCALSYNC_MAX_ATTACHMENT_BYTES); "
        'absent or "utf-8" is text. Anything else is INVALID_CONTENT_ENCODING.',
    )


MAX_BATCH_ITEMS = Settings.model_fields["max_batch_items"].default
_ITEMS_SCHEMA = {
    "type": "array",
    "maxItems": MAX_BATCH_ITEMS,
    "description": (
        f"At most LOCALSYNC_MAX_BATCH_ITEMS items ({MAX_BATCH_ITEMS} by default; more is "
        "answered 413 BATCH_TOO_LARGE and nothing is applied). Each item is checked on its "
        "own, strictly: one that is not a valid PushItem, or breaks a rule (path clash, "
        "reused operationId, content over the size limit), is answered in `results` with "
        "status `rejected` and a code, and the other items still apply."
    ),
    "items": {
        "anyOf": [
            PushItem.model_json_schema(by_alias=True),
            {"description": "Any other value: answered as a rejected item"},
        ]
    },
}


class PushBatchRequest(WireIn):
    source_id: Id
    connector_id: Id | None = Field(
        default=None, description="Pushing connector; defaults to the source's connector"
    )
    items: list[Any] = Field(json_schema_extra=_ITEMS_SCHEMA)


class DeltasRequest(WireIn):
    source_id: Id
    cursor: Annotated[int, Field(ge=0, le=MAX_SAFE_INT), Whole] | None = None
    limit: Annotated[int, Field(ge=1, le=500), Whole] | None = None
    own_connector_id: Id | None = Field(
        default=None,
        description="Extension: the asking connector's id. Upserts its own pushes made come "
        "with `content` null and `contentOmitted: true` (it holds that content already); "
        "an id that pushed nothing here matches no event and changes nothing.",
    )
    accept_encodings: list[EncodingIn] | None = Field(
        default=None,
        description='Extension: ["base64"] asks for attachments: their upserts carry '
        '`contentEncoding: "base64"` and the base64 of their bytes. Without it an '
        "attachment's upsert is left out of `events` (`nextCursor` still moves past it), "
        "so a client that writes `content` to a file never writes base64.",
    )


class ConflictsRequest(WireIn):
    source_id: Id
    status: Literal["open", "resolved"] | None = "open"


class PreviewRequest(WireIn):
    source_id: Id | None = None
    conflict_id: Id
    context_lines: Annotated[int, Field(ge=0, le=50), Whole] = 3


class ResolveRequest(WireIn):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"resolution": {"enum": ["keep_local", "keep_raven", "keep_both"]}}},
                {
                    "required": ["resolvedContent"],
                    "properties": {"resolvedContent": {"type": "string"}},
                },
            ]
        }
    )

    source_id: Id | None = None
    conflict_id: Id
    resolution: Literal["keep_local", "keep_raven", "manual_merge", "keep_both"] = Field(
        description="Extension keep_both: Raven's side stays at the path and the connector's "
        "side becomes a new file named `<stem> (conflict <first 8 hex of its hash>)<ext>`"
    )
    resolved_content: Content | None = Field(default=None, description="Required for manual_merge")
    revision: Annotated[int, Field(ge=1), Whole] | None = None


class HistoryRequest(WireIn):
    source_id: Id
    relative_path: RelativePath
    limit: Annotated[int, Field(ge=1, le=500), Whole] = 100
    before: (
        Annotated[int, Field(ge=1, le=MAX_SAFE_INT, description="Page back from this seq"), Whole]
        | None
    ) = None
    include_content: bool = True
    accept_encodings: list[EncodingIn] | None = Field(
        default=None,
        description='Extension: ["base64"] asks for attachments (files synced as bytes) '
        'as base64 with `contentEncoding: "base64"`; without it they are never sent as content.',
    )


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
    content_encoding: Literal["utf-8", "base64"] = "utf-8"


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
    payload: dict[str, Any] = Field(
        description="A `file.upsert` carries its `content`; extension: `content` null with "
        "`contentPruned: true` once retention removed that content (a later upsert or the "
        "file's current content has the text to sync)."
    )
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
    content_encoding: Literal["utf-8", "base64"] = Field(
        default="utf-8",
        description='Extension: "base64" for an attachment\'s version; its `content` is null '
        'unless the request asked for acceptEncodings ["base64"].',
    )
    pruned: bool = Field(
        default=False,
        description="Extension: retention removed this version's content; `content` is null "
        "and diffs or restores of it answer 410 VERSION_PRUNED.",
    )
    moved_from: str | None = Field(
        default=None,
        description="Extension: set on the entry a move wrote, the path the file had before.",
    )


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
    binary: bool = Field(
        default=False,
        description="Extension: a side is an attachment; nothing is diffed (hunks, changes "
        "and regions are empty) and only keep_local, keep_raven or keep_both resolve it.",
    )


class DiffRequest(WireIn):
    source_id: Id
    relative_path: RelativePath
    from_hash: HashIn
    to_hash: HashIn
    context_lines: Annotated[int, Field(ge=0, le=50), Whole] = 3


class DiffOut(Wire):
    relative_path: str
    from_hash: str
    to_hash: str
    insertions: int
    deletions: int
    hunks: list[PreviewHunkOut]
    unified: str
