"""attachments: blobs record how their content is encoded

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:30:00

``blobs.encoding`` is "utf-8" for text and "base64" for an attachment's bytes.
Every existing row is text, so the server default fills it and the upgrade
needs no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "encoding",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="utf-8",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_column("encoding")
