"""Enums, scalars and connection types shared by every family."""

import base64
from enum import Enum
from typing import Generic, TypeVar

import strawberry

from backend.errors import InvalidInput
from backend.paths import normalise_path

MAX_PAGE = 500
MAX_INT_CURSOR_DIGITS = 18


@strawberry.enum
class SyncMode(Enum):
    IMPORT_ONLY = "import_only"
    LOCAL_TO_CLOUD = "local_to_cloud"
    BIDIRECTIONAL = "bidirectional"


@strawberry.enum
class SourceStatus(Enum):
    ACTIVE = "active"
    PAUSED = "paused"


@strawberry.enum
class FileState(Enum):
    OK = "ok"
    CONFLICT = "conflict"
    DELETED = "deleted"


@strawberry.enum
class Origin(Enum):
    CONNECTOR = "connector"
    RAVEN = "raven"
    MERGE = "merge"


@strawberry.enum
class ConflictStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"


@strawberry.enum
class MergeGranularity(Enum):
    LINE = "line"
    WORD = "word"


Node = TypeVar("Node")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    """Cursor pagination: pass ``pageInfo.endCursor`` as ``after`` for the next page."""

    edges: list[Edge[Node]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [edge.node for edge in self.edges]


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid pagination cursor", "INVALID_CURSOR") from None


def decode_int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    # ASCII digits only ("²".isdigit() is true), and small enough for a BIGINT column.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_INT_CURSOR_DIGITS:
        raise InvalidInput("invalid pagination cursor", "INVALID_CURSOR")
    return int(raw)


def decode_path_cursor(cursor: str | None) -> str | None:
    """A files cursor is a normalised path; anything else was not made by us."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        valid = normalise_path(raw) == raw
    except InvalidInput:
        valid = False
    if not valid:
        raise InvalidInput("invalid pagination cursor", "INVALID_CURSOR")
    return raw


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", "INVALID_LIMIT")
    return first
