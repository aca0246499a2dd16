"""Database tables (SQLModel). Wire shapes live in the adapters, not here."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC; SQLModel's column type stores it as UTC on both databases."""
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Connector(SQLModel, table=True):
    __tablename__ = "connectors"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    workspace_id: str = Field(index=True, max_length=200)
    name: str = Field(max_length=200)
    platform: str = Field(max_length=100)
    version: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    last_heartbeat_at: datetime | None = None


class Source(SQLModel, table=True):
    __tablename__ = "sources"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    workspace_id: str = Field(index=True, max_length=200)
    name: str = Field(max_length=200)
    mode: str = Field(max_length=32)
    connector_id: str | None = Field(default=None, foreign_key="connectors.id", max_length=36)
    include_patterns: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    exclude_patterns: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default="active", max_length=16)
    auto_merge: bool = True
    merge_granularity: str = Field(default="line", max_length=16)
    last_cursor: int = Field(default=0, sa_type=BigInteger)
    """Cursor of the newest event; bumped under the source's row lock, so cursors are gapless."""
    file_count: int = Field(default=0, sa_type=BigInteger)
    """Files not deleted (state ok or conflict); kept by every writer under the source's lock,
    so listing sources never counts files."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Blob(SQLModel, table=True):
    """Content-addressed store: one row per distinct content, keyed by the sha256 of its bytes.

    Attachments (bytes that are not UTF-8 text) live in the same table, as the
    base64 of their bytes with ``encoding`` "base64"; ``hash`` and ``size`` are
    always those of the raw bytes, so a connector's hash of the file on disk
    names the blob. Base64 text in the one text column, rather than a second
    binary column, keeps a single store with one dedup key and lets every
    existing reader, backup and both databases handle the row unchanged; the
    cost (a third more space for attachments) is acceptable for a notes vault.
    Readers that expect text use ``load_blob``/``load_blobs``, which never
    return an attachment's base64.
    """

    __tablename__ = "blobs"

    hash: str = Field(primary_key=True, max_length=64)
    content: str = Field(sa_column=Column(Text, nullable=False))
    size: int
    encoding: str = Field(
        default="utf-8", max_length=16, sa_column_kwargs={"server_default": "utf-8"}
    )
    """"utf-8" for text, "base64" for an attachment's bytes."""


class File(SQLModel, table=True):
    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("source_id", "relative_path"),
        # Byte-order ranges over paths ("everything under notes/") whatever the
        # database's collation; SQLite's unique index above is already bytewise.
        Index("ix_files_source_path_bytes", "source_id", text('relative_path COLLATE "C"')).ddl_if(
            dialect="postgresql"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="sources.id", max_length=36)
    """Indexed by the unique (source_id, relative_path) index's leading column."""
    relative_path: str = Field(max_length=1024)
    current_hash: str | None = Field(default=None, max_length=64)
    """Hash of the current content; None once deleted (the history stays)."""
    state: str = Field(default="ok", max_length=16)
    content_type: str = Field(default="text/markdown", max_length=200)
    size: int = 0
    version_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Version(SQLModel, table=True):
    """One immutable entry of a file's history; never updated, never deleted."""

    __tablename__ = "versions"
    __table_args__ = (Index("ix_versions_file_seq", "file_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    file_id: int = Field(foreign_key="files.id")
    seq: int
    """1, 2, 3, ... within the file, so history pages without scanning."""
    hash: str | None = Field(default=None, max_length=64)
    """None for a tombstone (the file was deleted)."""
    origin: str = Field(max_length=16)
    size: int = 0
    operation_id: str | None = Field(default=None, max_length=200)
    connector_id: str | None = Field(default=None, max_length=36)
    conflict_id: str | None = Field(default=None, max_length=36)
    """Set when this content arrived as a side of an open conflict rather than as current."""
    moved_from: str | None = Field(default=None, max_length=1024)
    """Set on the entry a move wrote: the path the file had before (its content is unchanged)."""
    created_at: datetime = Field(default_factory=utcnow)


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("source_id", "cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="sources.id", max_length=36)
    cursor: int = Field(sa_type=BigInteger)
    type: str = Field(max_length=32)
    relative_path: str | None = Field(default=None, max_length=1024)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Conflict(SQLModel, table=True):
    __tablename__ = "conflicts"
    __table_args__ = (
        Index("ix_conflicts_source_status", "source_id", "status"),
        # The database itself enforces one open conflict per file.
        Index(
            "ux_conflicts_one_open_per_file",
            "file_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    source_id: str = Field(foreign_key="sources.id", max_length=36)
    file_id: int = Field(foreign_key="files.id", index=True)
    relative_path: str = Field(max_length=1024)
    status: str = Field(default="open", max_length=16)
    reason: str = Field(max_length=64)
    base_hash: str | None = Field(default=None, max_length=64)
    local_hash: str | None = Field(default=None, max_length=64)
    """Connector side; None when the connector deleted the file."""
    remote_hash: str | None = Field(default=None, max_length=64)
    """Raven side; None when the server-side file is deleted."""
    local_deleted: bool = False
    remote_deleted: bool = False
    revision: int = 1
    """Bumped on every change of a side, so a resolve made on a stale view is refused."""
    resolution: str | None = Field(default=None, max_length=32)
    resolved_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class Operation(SQLModel, table=True):
    """A connector operation already applied; its replay is reported as a duplicate."""

    __tablename__ = "operations"

    source_id: str = Field(foreign_key="sources.id", primary_key=True, max_length=36)
    operation_id: str = Field(primary_key=True, max_length=200)
    relative_path: str = Field(max_length=1024)
    status: str = Field(max_length=16)
    hash: str | None = Field(default=None, max_length=64)
    """The outcome's hash: for a merge, the merged content rather than the pushed one."""
    conflict_id: str | None = Field(default=None, max_length=36)
    fingerprint: str | None = Field(default=None, max_length=64)
    """sha256 of what was pushed (path, content or delete), so a reused operationId with
    other content is told apart from a replay; None on rows recorded before it existed."""
    created_at: datetime = Field(default_factory=utcnow)


class Move(SQLModel, table=True):
    """A path a file left by a move, so a late edit of that path can follow the file.

    A connector that has not seen the move still pushes to the old path with the
    old base; the edit is applied to the file it meant (by id), wherever it now is.
    """

    __tablename__ = "moves"
    __table_args__ = (Index("ix_moves_source_path", "source_id", "from_path", "cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="sources.id", max_length=36)
    from_path: str = Field(max_length=1024)
    file_id: int = Field(foreign_key="files.id")
    cursor: int = Field(sa_type=BigInteger)
    """The cursor of the move's events: the latest move away from a path wins."""
    created_at: datetime = Field(default_factory=utcnow)
