"""file counters on sources; one index fewer on files

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 17:30:00

``sources.file_count`` holds how many files of the source are not deleted, kept
by every writer under the source's lock, so listing sources reads a column
instead of counting files. The upgrade backfills it from the files present.

``ix_files_source_id`` goes: the unique (source_id, relative_path) index already
serves every lookup by source, and without statistics the planner took the
single-column index for a cheap way to find a few paths, then walked every
file of the source through it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("file_count", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE sources SET file_count = (SELECT count(*) FROM files"
        " WHERE files.source_id = sources.id AND files.state != 'deleted')"
    )
    op.drop_index("ix_files_source_id", table_name="files")


def downgrade() -> None:
    op.create_index("ix_files_source_id", "files", ["source_id"], unique=False)
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("file_count")
