"""operation fingerprints and a bytewise path index

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 14:45:00

``operations.fingerprint`` lets a replay be told apart from a reused operationId
with other content. Rows recorded before it stay NULL: the service compares them
by the path and the hash they stored (see ``services.sync``), so no backfill
is needed and the upgrade is instant on a large table.

On PostgreSQL the ``files`` path ranges ("everything under notes/") are read in
byte order, whatever collation the database was created with; SQLite's unique
(source_id, relative_path) index is already bytewise.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_files_source_path_bytes"
            ' ON files (source_id, relative_path COLLATE "C")'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_files_source_path_bytes", table_name="files")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
