"""retention policies, version pins and prunes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:40:00

New tables only: ``versions`` stays append-only and untouched, a pruned version
is a row in ``version_prunes``. Two indexes let blob garbage collection find
whether a hash is still used without scanning ``versions`` and ``files``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("max_age_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("source_id"),
    )
    for table in ("version_pins", "version_prunes"):
        stamp = "pinned_at" if table == "version_pins" else "pruned_at"
        op.create_table(
            table,
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("file_id", sa.Integer(), nullable=False),
            sa.Column(stamp, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
            sa.ForeignKeyConstraint(["file_id"], ["files.id"]),
            sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
            sa.PrimaryKeyConstraint("version_id"),
        )
        op.create_index(f"ix_{table}_file_id", table, ["file_id"])
    op.create_index("ix_versions_hash", "versions", ["hash"], if_not_exists=True)
    op.create_index("ix_files_current_hash", "files", ["current_hash"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_files_current_hash", table_name="files")
    op.drop_index("ix_versions_hash", table_name="versions")
    for table in ("version_prunes", "version_pins"):
        op.drop_index(f"ix_{table}_file_id", table_name=table)
        op.drop_table(table)
    op.drop_table("retention_policies")
