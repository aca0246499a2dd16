"""Retention's tables: policies, pins and prunes.

They live beside the retention code rather than in ``backend.models`` so the
shared history tables stay exactly as the sync path writes them; a pruned
version is a row here, never a change to ``versions``. Importing this module
registers them with SQLModel's metadata.
"""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from backend.models import File, Version, utcnow


class RetentionPolicy(SQLModel, table=True):
    """A source's retention policy; a source without a row keeps every version."""

    __tablename__ = "retention_policies"

    source_id: str = Field(foreign_key="sources.id", primary_key=True, max_length=36)
    kind: str = Field(max_length=16)
    """``all``, ``last`` or ``staggered`` (``backend.retention.policy``)."""
    keep_last: int | None = None
    max_age_days: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class VersionPin(SQLModel, table=True):
    """A version a user asked to keep whatever the retention policy says."""

    __tablename__ = "version_pins"

    version_id: int = Field(foreign_key="versions.id", primary_key=True)
    file_id: int = Field(foreign_key="files.id", index=True)
    pinned_at: datetime = Field(default_factory=utcnow)


class VersionPrune(SQLModel, table=True):
    """A version whose content retention gave up.

    The version row itself stays (seq, hash, origin, time), so history numbering,
    events and operations keep meaning and an audit can still name the hash;
    only the content may be gone from the blob store.
    """

    __tablename__ = "version_prunes"

    version_id: int = Field(foreign_key="versions.id", primary_key=True)
    file_id: int = Field(foreign_key="files.id", index=True)
    pruned_at: datetime = Field(default_factory=utcnow)


# Blob garbage collection asks "does anything still use this hash?" of every
# version and every file; without these it would scan both tables per batch.
Index("ix_versions_hash", Version.hash)  # type: ignore[arg-type]
Index("ix_files_current_hash", File.current_hash)  # type: ignore[arg-type]
