"""personal data: erasure marker, free-text retention marker, audit entries without a month

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 20:30:00

`members.erased_at` marks a member whose personal data `chibo member erase` removed;
`periods.free_text_cleared_at` marks a month whose free text the retention sweep blanked;
an audit entry about a person (an erasure) belongs to no month.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erased_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "free_text_cleared_at", storage.models.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("period_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM audit_log WHERE period_id IS NULL")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("period_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.drop_column("free_text_cleared_at")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
