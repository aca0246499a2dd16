"""moves: history says where a file came from, and late edits follow it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:30:00

``versions.moved_from`` is a new nullable column (old rows are not moves), and
``moves`` records each path a file left, for edits that arrive there late.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(
            sa.Column(
                "moved_from", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True
            )
        )
    op.create_table(
        "moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("from_path", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_moves_source_path", "moves", ["source_id", "from_path", "cursor"])


def downgrade() -> None:
    op.drop_index("ix_moves_source_path", table_name="moves")
    op.drop_table("moves")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("moved_from")
